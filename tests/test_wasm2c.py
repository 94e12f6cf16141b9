"""The wasm2c backend: many live instances, traps beside the process's own signal
handlers, one sandbox per thread, and WASI answers identical to wasmtime's."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from libs import HOSTILE_CB, fn, plain

from sandboxlib import (CapabilityError, ClosedError, Grants, Library, Limits, Preopen, Prim,
                        Ptr, ResourceError, Tainted, TrapError)

TESTS = Path(__file__).resolve().parent
ATTACKS = [("hostile_unreachable", (), "unreachable"),
           ("hostile_read_far", (0xFFFFFFF0,), "out-of-bounds memory access"),
           ("hostile_divide", (1, 0), "integer division by zero"),
           ("hostile_recurse", (0,), "stack overflow")]



def test_a_trap_in_one_of_100_sandboxes_leaves_the_other_99_answering(
        hostile_lib: Library) -> None:
    boxes = [hostile_lib.sandbox("wasm2c") for _ in range(100)]
    try:
        buffers = [sb.copy_in(i.to_bytes(4, "little")) for i, sb in enumerate(boxes)]
        victim = boxes[37]
        with pytest.raises(TrapError) as err:
            victim.hostile_read_far(0xFFFFFFF0)
        assert err.value.kind == "out-of-bounds memory access"
        assert victim.poisoned is not None
        for i, (sb, buf) in enumerate(zip(boxes, buffers)):
            if sb is victim:
                continue
            assert plain(sb.hostile_ok(i)) == 2 * i
            assert plain(buf.read(4)) == i.to_bytes(4, "little")  # each kept its own memory
    finally:
        for sb in boxes:
            sb.close()


ARCH_SET_GS, SYS_ARCH_PRCTL = 0x1001, 158  # x86-64 Linux
ELSEWHERE = 0x5A5A0000  # a GS base host code left: no memory of any sandbox
HOST_MOVES_GS_SCRIPT = """
import ctypes, sys
sys.path.insert(0, {tests!r})
from libs import HOSTILE_CB, hostile_library, plain

libc = ctypes.CDLL(None, use_errno=True)
def move_gs(v=0):  # host code that uses GS itself (another runtime, a green thread)
    assert libc.syscall({arch_prctl}, {set_gs}, ctypes.c_ulong({elsewhere})) == 0
    return 0

with hostile_library().sandbox("wasm2c") as lib, hostile_library().sandbox("wasm2c") as other:
    keep = lambda sb, cb: plain(sb.hostile_keep_across(sb.callback(cb, HOSTILE_CB), 7))
    print(keep(lib, lambda v: 0))  # GS, and wasm2c's record of it, at lib's memory
    move_gs()
    print(keep(lib, lambda v: 0))  # the next call enters with GS elsewhere
    print(keep(lib, move_gs))  # its callback leaves GS elsewhere
    print(keep(lib, lambda v: keep(other, move_gs)))  # another sandbox's callback does
"""


def test_a_sandbox_reaches_its_own_memory_wherever_host_code_left_gs(
        hostile_lib: Library) -> None:
    """The x86_64_v3 build, which this machine's level loads if it has the FSGSBASE
    instructions, reaches its memory through GS (backends/wasm2c/_csrc.py). Host code
    leaves GS's base elsewhere before a call, in the call's callback, or in a callback of
    another sandbox the call's callback calls; each time the library's code reads what
    it kept in its own memory, not at that base: a process of its own, as the read
    would fault."""
    if platform.machine() != "x86_64" or sys.platform != "linux":
        pytest.skip("the GS segment is x86-64's")
    hostile_lib.sandbox("wasm2c").close()  # build before the subprocess runs
    script = HOST_MOVES_GS_SCRIPT.format(tests=str(TESTS), arch_prctl=SYS_ARCH_PRCTL,
                                         set_gs=ARCH_SET_GS, elsewhere=ELSEWHERE)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert (proc.returncode, proc.stdout.split()) == (0, ["7"] * 4), proc.stderr


SIGNALS_SCRIPT = """
import ctypes, faulthandler, signal, sys
sys.path.insert(0, {tests!r})
from libs import hostile_library
from sandboxlib import TrapError

libc = ctypes.CDLL(None, use_errno=True)
def installed(signum):  # the process-level handler (sa_handler is first in struct sigaction)
    buf = ctypes.create_string_buffer(256)
    assert libc.sigaction(signum, None, buf) == 0
    return bytes(buf[:8])

def user_handler(signum, frame):
    pass

signal.signal(signal.SIGSEGV, user_handler)
faulthandler.enable()
before = installed(signal.SIGSEGV), installed(signal.SIGBUS)
lib = hostile_library()
early = lib.sandbox("wasm2c")
for attack, args, kind in {attacks!r}:
    with lib.sandbox("wasm2c") as sb:
        try:
            getattr(sb, attack)(*args)
        except TrapError as exc:
            assert exc.kind == kind, (attack, exc.kind)
        else:
            raise AssertionError(attack + " did not trap")
faulthandler.disable()
faulthandler.enable()  # handlers (re)installed after a sandbox exists change nothing
try:
    early.hostile_read_far(0xFFFFFFF0)
except TrapError:
    pass
assert signal.getsignal(signal.SIGSEGV) is user_handler
assert faulthandler.is_enabled()
assert (installed(signal.SIGSEGV), installed(signal.SIGBUS)) == before
print("survived")
"""


def test_traps_with_faulthandler_and_a_user_sigsegv_handler(hostile_lib: Library) -> None:
    hostile_lib.sandbox("wasm2c").close()  # build before the subprocess runs
    script = SIGNALS_SCRIPT.format(tests=str(TESTS), attacks=ATTACKS)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("survived")
    assert "Fatal Python error" not in proc.stderr


def test_one_sandbox_per_thread(hostile_lib: Library) -> None:
    threads, barrier = 3, threading.Barrier(3)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            with hostile_lib.sandbox("wasm2c") as sb:
                cb = sb.callback(lambda v: v.verify(lambda x: abs(x) < 10**6) + k, HOSTILE_CB)
                barrier.wait()
                for n in range(3000):
                    assert plain(sb.hostile_ok(n)) == 2 * n
                    if n % 10 == 0:
                        assert plain(sb.hostile_call(cb, n)) == n + k
            for attack, args, kind in ATTACKS:  # traps on every thread at once
                with hostile_lib.sandbox("wasm2c") as sb:
                    with pytest.raises(TrapError) as err:
                        getattr(sb, attack)(*args)
                    assert err.value.kind == kind
                    assert plain(hostile_lib.sandbox("wasm2c").hostile_ok(k)) == 2 * k
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not errors, errors


def test_deep_recursion_on_a_small_thread_stack_is_a_trap(hostile_lib: Library) -> None:
    outcome: list[object] = []

    def run() -> None:
        with hostile_lib.sandbox("wasm2c") as sb:
            try:
                sb.hostile_recurse(0)
            except TrapError as exc:
                outcome.append(exc.kind)

    previous = threading.stack_size(384 << 10)
    try:
        t = threading.Thread(target=run)
        t.start()
        t.join()
    finally:
        threading.stack_size(previous)
    assert outcome == ["stack overflow"]


def test_a_callback_may_close_its_own_sandbox(hostile_lib: Library) -> None:
    sb = hostile_lib.sandbox("wasm2c")

    def closing(v: Tainted[int]) -> int:
        sb.close()  # the instance is freed only when the running call returns
        return 7

    cb = sb.callback(closing, HOSTILE_CB)
    assert plain(sb.hostile_call(cb, 1)) == 7
    with pytest.raises(ClosedError, match="closed"):
        sb.hostile_ok(1)


def test_initial_memory_above_the_limit_is_a_resource_error(hostile_lib: Library) -> None:
    with pytest.raises(ResourceError, match="limit"):
        hostile_lib.sandbox("wasm2c", limits=Limits(memory_bytes=64 << 10))


def test_an_import_that_is_not_provided_is_named(tmp_path: Path) -> None:
    src = tmp_path / "needs.c"
    src.write_text('__attribute__((import_module("env"), import_name("host_secret")))\n'
                   "int host_secret(void);\nint f(void) { return host_secret(); }\n")
    lib = Library("needs", (fn("f", Prim.INT),), sources=(src,))
    with pytest.raises(CapabilityError, match="env.host_secret"):
        lib.sandbox("wasm2c")


# -- WASI: the same answers as the wasmtime backend -------------------------------------
PROBE_C = r"""
#include <stdint.h>
#include <wasi/api.h>
int32_t p_write(int32_t fd) {
  __wasi_ciovec_t v = {(const uint8_t *)"probe\n", 6}; __wasi_size_t n = 0;
  int e = __wasi_fd_write(fd, &v, 1, &n); return e ? -e : (int32_t)n; }
int32_t p_read(int32_t fd) {
  uint8_t b[4]; __wasi_iovec_t v = {b, 4}; __wasi_size_t n = 0;
  int e = __wasi_fd_read(fd, &v, 1, &n); return e ? -e : (int32_t)n; }
int64_t p_fdstat(int32_t fd, int32_t field) {
  __wasi_fdstat_t s; int e = __wasi_fd_fdstat_get(fd, &s); if (e) return -e;
  return field == 0 ? s.fs_filetype : field == 1 ? s.fs_flags
       : field == 2 ? (int64_t)s.fs_rights_base : (int64_t)s.fs_rights_inheriting; }
int32_t p_prestat(int32_t fd) {
  __wasi_prestat_t p; int e = __wasi_fd_prestat_get(fd, &p);
  return e ? -e : (int32_t)p.u.dir.pr_name_len; }
int32_t p_close(int32_t fd) { return -(int)__wasi_fd_close(fd); }
int64_t p_seek(int32_t fd, int64_t off, int32_t whence) {
  __wasi_filesize_t r = 0; int e = __wasi_fd_seek(fd, off, whence, &r);
  return e ? -e : (int64_t)r; }
int32_t p_open(int32_t dirfd, int32_t follow, const char *path, int32_t oflags, int64_t rights,
               int32_t fdflags) {
  __wasi_fd_t fd;
  int e = __wasi_path_open(dirfd, follow, path, oflags, rights, rights, fdflags, &fd);
  return e ? -e : (int32_t)fd; }
int32_t p_setflags(int32_t fd, int32_t flags) {
  return -(int)__wasi_fd_fdstat_set_flags(fd, flags); }
int32_t p_clock(int32_t id) { __wasi_timestamp_t t; return -(int)__wasi_clock_time_get(id, 1, &t); }
int32_t p_random(void) { uint8_t b[4]; return -(int)__wasi_random_get(b, 4); }
int32_t p_env(void) {
  __wasi_size_t c = 0, s = 0; int e = __wasi_environ_sizes_get(&c, &s);
  return e ? -e : (int32_t)(c * 1000 + s); }
"""
I, L, S = Prim.INT, Prim.LLONG, Ptr("char", const=True)  # noqa: E741 (C types, spelled short)
PROBE_FUNCTIONS = (
    fn("p_write", I, ("fd", I)), fn("p_read", I, ("fd", I)),
    fn("p_fdstat", L, ("fd", I), ("field", I)), fn("p_prestat", I, ("fd", I)),
    fn("p_close", I, ("fd", I)), fn("p_seek", L, ("fd", I), ("off", L), ("whence", I)),
    fn("p_open", I, ("dirfd", I), ("follow", I), ("path", S), ("oflags", I), ("rights", L),
       ("fdflags", I)),
    fn("p_setflags", I, ("fd", I), ("flags", I)), fn("p_clock", I, ("id", I)),
    fn("p_random", I), fn("p_env", I))
R, W, RW = 2, 64, 66  # rights: fd_read, fd_write
STDIO = [("p_write", 1), ("p_write", 2), ("p_read", 0), ("p_read", 1), ("p_write", 0),
         *[("p_fdstat", fd, f) for fd in range(4) for f in range(4)], ("p_prestat", 3),
         ("p_seek", 1, 0, 0), ("p_seek", 0, 0, 1), ("p_setflags", 1, 1), ("p_close", 1),
         ("p_write", 1), ("p_close", 1), ("p_close", 99), ("p_clock", 0), ("p_clock", 1),
         ("p_random",), ("p_env",)]
DIRS = [("p_prestat", 3), ("p_prestat", 4), *[("p_fdstat", 3, f) for f in range(4)],
        ("p_read", 3), ("p_write", 3), ("p_seek", 3, 0, 0), ("p_setflags", 3, 1),
        ("p_open", 3, 0, "f.txt", 0, R, 0), *[("p_fdstat", 4, f) for f in range(4)],
        ("p_read", 4), ("p_seek", 4, 1, 0), ("p_read", 4), ("p_seek", 4, 0, 2),
        ("p_seek", 4, -100, 1), ("p_write", 4), ("p_setflags", 4, 1), ("p_fdstat", 4, 1),
        ("p_setflags", 4, 2), ("p_open", 4, 0, "x", 0, R, 0), ("p_close", 4), ("p_close", 4),
        ("p_open", 99, 0, "x", 0, R, 0), ("p_open", 3, 0, "f.txt", 0, RW, 0),
        ("p_open", 3, 0, "new.txt", 1, RW, 0), ("p_open", 3, 0, "f.txt", 8, R, 0),
        ("p_open", 3, 0, "../etc/passwd", 0, R, 0), ("p_open", 3, 0, "/etc/passwd", 0, R, 0),
        ("p_open", 3, 0, "sub/../f.txt", 0, R, 0), ("p_open", 3, 0, "sub/../..", 0, R, 0),
        ("p_open", 3, 0, "..", 0, R, 0), ("p_open", 3, 0, "", 0, R, 0),
        ("p_open", 3, 0, ".", 0, R, 0), ("p_open", 3, 0, "sub/", 0, R, 0),
        ("p_open", 3, 0, "f.txt/", 0, R, 0), ("p_open", 3, 0, "f.txt", 2, R, 0),
        ("p_open", 3, 0, "outside", 0, R, 0), ("p_open", 3, 1, "outside", 0, R, 0),
        ("p_open", 3, 1, "sub/up", 0, R, 0), ("p_open", 3, 1, "inside", 0, R, 0),
        ("p_open", 3, 0, "inside", 0, R, 0), ("p_open", 3, 0, "missing", 0, R, 0),
        ("p_open", 3, 0, "f.txt", 0, R, 2), ("p_open", 3, 0, "f.txt", 0, R, 1),
        ("p_close", 3), ("p_prestat", 3)]
WRITES = [("p_open", 3, 0, "new.txt", 1, RW, 0), ("p_write", 4), ("p_seek", 4, 0, 1),
          ("p_open", 3, 0, "new.txt", 1 | 4, RW, 0), ("p_open", 3, 0, "sub", 2, W, 0),
          ("p_open", 3, 0, "sub", 1 | 2, R, 0), ("p_open", 3, 0, "inside", 1, W, 0),
          ("p_open", 3, 0, "../escape.txt", 1, W, 0), ("p_open", 3, 1, "outside", 8, W, 0),
          *[("p_fdstat", 5, f) for f in range(4)]]


@pytest.fixture(scope="module")
def probe_lib(tmp_path_factory: pytest.TempPathFactory) -> Library:
    src = tmp_path_factory.mktemp("probe") / "probe.c"
    src.write_text(PROBE_C)
    return Library("wasi_probe", PROBE_FUNCTIONS, sources=(src,))


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "f.txt").write_bytes(b"hello")
    (tmp_path / "secret.txt").write_bytes(b"secret")
    os.symlink(tmp_path / "secret.txt", root / "outside")
    os.symlink("f.txt", root / "inside")
    os.symlink("../../secret.txt", root / "sub" / "up")
    yield root


def answers(lib: Library, backend: str, grants: Grants, calls: Sequence[tuple[object, ...]],
            capfd: pytest.CaptureFixture[str]) -> list[object]:
    out: list[object] = []
    with lib.sandbox(backend, grants=grants) as sb:
        for name, *args in calls:
            out.append((name, *args, plain(getattr(sb, str(name))(*args))))
    capfd.readouterr()
    return out


@pytest.mark.parametrize("grant", ["nothing", "stdio", "read-only dir", "writable dir", "env"])
def test_wasi_answers_match_wasmtime(probe_lib: Library, tree: Path, grant: str,
                                     capfd: pytest.CaptureFixture[str]) -> None:
    cases: dict[str, tuple[Grants, Sequence[tuple[object, ...]]]] = {
        "nothing": (Grants(), STDIO),
        "stdio": (Grants(stdout=True, stderr=True, clock=True, random=True), STDIO),
        "read-only dir": (Grants(dirs=(Preopen(str(tree), "/data"),)), DIRS),
        "writable dir": (Grants(dirs=(Preopen(str(tree), "/data", writable=True),)), WRITES),
        "env": (Grants(env=(("A", "1"), ("BB", "22"))), [("p_env",)]),
    }
    grants, calls = cases[grant]
    expected = answers(probe_lib, "wasmtime", grants, calls, capfd)
    for leftover in ("new.txt",):
        (tree / leftover).unlink(missing_ok=True)
    assert answers(probe_lib, "wasm2c", grants, calls, capfd) == expected
    assert not (tree.parent / "escape.txt").exists()
    assert (tree.parent / "secret.txt").read_bytes() == b"secret"


def test_a_time_limit_fires_only_on_the_call_that_overruns(hostile_lib: Library) -> None:
    with hostile_lib.sandbox("wasm2c", limits=Limits(timeout=0.05)) as sb:
        for n in range(20000):  # many short calls spanning several deadlines
            assert plain(sb.hostile_ok(n)) == 2 * n
        with pytest.raises(ResourceError, match="time limit"):
            sb.hostile_spin()


def test_time_limits_on_several_threads_at_once(hostile_lib: Library) -> None:
    outcomes: list[str] = []

    def run(timeout: float) -> None:
        with hostile_lib.sandbox("wasm2c", limits=Limits(timeout=timeout)) as sb:
            try:
                sb.hostile_spin()
            except ResourceError as exc:
                outcomes.append(str(exc))

    workers = [threading.Thread(target=run, args=(0.05 * (k + 1),)) for k in range(3)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=30)
    assert len(outcomes) == 3 and all("time limit" in o for o in outcomes)


def test_fuel_is_spent_by_calls_and_loop_iterations(hostile_lib: Library) -> None:
    with hostile_lib.sandbox("wasm2c", limits=Limits(fuel=1000)) as sb:
        for n in range(100):
            sb.hostile_ok(n)  # one unit each
        with pytest.raises(ResourceError, match="fuel"):
            sb.hostile_spin()


def test_a_timed_call_runs_no_python(sample_lib: Library) -> None:
    """A sandbox with a time limit sets its deadline in compiled code: a call runs no
    Python function (before, a closure armed a watchdog around every call)."""
    with sample_lib.sandbox("wasm2c", limits=Limits(timeout=5.0)) as sb:
        add = sb.sample_add
        add(1, 2)
        calls: list[str] = []
        sys.setprofile(lambda frame, event, arg: calls.append(frame.f_code.co_name)
                       if event == "call" else None)
        try:
            result = add(40, 2)
        finally:
            sys.setprofile(None)
        assert calls == [] and plain(result) == 42
