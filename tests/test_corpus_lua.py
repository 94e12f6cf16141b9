"""Lua 5.4, unmodified (c_src/corpus/lua/lua.toml: the pinned upstream tarball and what
Lua's makefile configures), on every backend: scripts run, and a script's error, a
longjmp out of the interpreter (luaD_throw), comes back through lua_pcall as Lua's own
message; so does running out of the sandbox's memory, and a runaway script meets the
time limit."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from libs import C_SRC, import_from

from sandboxlib import Limits, ResourceError
from sandboxlib.bench.corpus_libs import LUA_OK, lua_run

SPEC = C_SRC / "corpus" / "lua" / "lua.toml"
LUA_ERRRUN, LUA_ERRSYNTAX, LUA_ERRMEM = 2, 3, 4

# (script, status of lua_pcall, the string it leaves on the stack), as lua5.4 answers
SCRIPTS = [
    ("return 1 + 2", LUA_OK, b"3"),
    ("local t = {} for i = 1, 10 do t[i] = i * i end return table.concat(t, ',')",
     LUA_OK, b"1,4,9,16,25,36,49,64,81,100"),
    ("return string.format('%5.2f|%q|%x', math.pi, 'a\\nb', 255)", LUA_OK,
     b' 3.14|"a\\\nb"|ff'),
    ("return (string.gsub('hello world', '(%w+)', '<%1>'))", LUA_OK, b"<hello> <world>"),
    ("local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)"
     " return co(1) .. ',' .. co(10)", LUA_OK, b"2,20"),
    ("return select(2, pcall(error, {code = 7})).code", LUA_OK, b"7"),
    ("return utf8.char(72, 228, 8364)", LUA_OK, "Hä€".encode()),
    ("error('boom: ' .. 40 + 2)", LUA_ERRRUN,
     b'[string "error(\'boom: \' .. 40 + 2)"]:1: boom: 42'),
    ("local x = nil; return x.y", LUA_ERRRUN,
     b"[string \"local x = nil; return x.y\"]:1: attempt to index a nil value (local 'x')"),
    ("local function f(n) return f(n + 1) + 1 end return f(1)", LUA_ERRRUN,
     b'[string "local function f(n) return f(n + 1) + 1 end r..."]:1: stack overflow'),
    ("return 1 +", LUA_ERRSYNTAX, b"[string \"return 1 +\"]:1: unexpected symbol near <eof>"),
]
LIMITS = Limits(memory_bytes=256 << 20, timeout=20.0)


@pytest.fixture(scope="module")
def lua(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    out = tmp_path_factory.mktemp("lua")
    proc = subprocess.run([sys.executable, "-m", "sandboxlib", "gen", str(SPEC), "--out",
                           str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return import_from(Path(out), "lua")


@pytest.fixture(params=["wasmtime", "wasm2c", "native"])
def state(request: pytest.FixtureRequest, lua: ModuleType) -> Iterator[tuple[Any, Any]]:
    limits = None if request.param == "native" else LIMITS
    with lua.sandbox(backend=request.param, limits=limits) as lib:
        L = lib.luaL_newstate()
        lib.luaL_openlibs(L)
        yield lib, L


def test_scripts_and_their_errors(state: tuple[Any, Any]) -> None:
    lib, L = state
    for script, status, expected in SCRIPTS:
        assert lua_run(lib, L, script) == (status, expected), script


def test_no_shell_and_memory_exhaustion_is_a_lua_error(state: tuple[Any, Any],
                                                       request: pytest.FixtureRequest) -> None:
    if "native" in request.node.callspec.id:
        pytest.skip("native is the host process: a shell, and no memory limit")
    lib, L = state
    assert lua_run(lib, L, "return tostring(os.execute())") == (LUA_OK, b"false")
    assert lua_run(lib, L, "return #string.rep('x', 1 << 30)") == (LUA_ERRMEM, b"not enough memory")
    assert lua_run(lib, L, "return 6 * 7") == (LUA_OK, b"42")  # the state is still usable


def test_a_runaway_script_meets_the_time_limit(lua: ModuleType) -> None:
    with lua.sandbox(backend="wasm2c", limits=Limits(timeout=0.5)) as lib:
        L = lib.luaL_newstate()
        lib.luaL_openlibs(L)
        with pytest.raises(ResourceError, match="time limit"):
            lua_run(lib, L, "while true do end")
