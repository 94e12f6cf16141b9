"""A hostile *module*: WebAssembly written by hand, not C compiled by our toolchain.

Each file of c_src/hostile/modules/ is one module in WebAssembly text, assembled here
with wabt's wat2wasm; its header says what must happen (``refused:`` the class and
text of the error that refuses it before anything compiles or runs it, ``limit:``
the error of a limit that holds when a sandbox of it is made, ``raises:`` the error
its ``answer()`` ends with, poisoning its sandbox only, ``answers:`` what its
``answer()`` returns: a module the checks must accept) and which wat2wasm
``features:`` it needs. Every attack runs on both isolating backends, under a time
and memory limit, beside a bystander sandbox that must keep answering; a refused
module leaves nothing in the build cache. Malformed binaries (truncated, lying
counts, overlong numbers) are made from the accepted baseline module here.
Defence in depth is tested with the shape check switched off, in child processes
(before it, one of these ended the process with SIGFPE).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libs import ROOT, assemble_wat, plain

import sandboxlib.errors
from sandboxlib.backends.wasm2c.translate import translate
from sandboxlib import (BuildError, CapabilityError, ClosedError, Function, Library, Limits,
                        PoisonedError, Prim, ResourceError, SandboxError, Signature, TrapError)
from sandboxlib.toolchain import cache_root
from sandboxlib.toolchain.moduleshape import (MAX_EXPORT_NAME, MAX_PASSIVE_DATA, SPARE_ELEMENTS,
                                              check_module)
from sandboxlib.toolchain.wasmbinary import (SEC_CUSTOM, SEC_EXPORT, SEC_TYPE, assemble, enc_s,
                                             enc_u, encode_name, encode_exports, sections)

MODULES = ROOT / "c_src" / "hostile" / "modules"
MiB = 1 << 20
LIMITS = Limits(memory_bytes=16 * MiB, timeout=2.0)
ANSWER = Function("answer", Signature((), Prim.INT))


@dataclass(frozen=True)
class Attack:
    """One file of c_src/hostile/modules/ and what its header says must happen."""

    path: Path
    features: tuple[str, ...]
    verdict: str  # "refused", "limit", "raises" or "answers"
    expected: str  # the error's class and text, or the answer

    @staticmethod
    def read(path: Path) -> Attack:
        header = {m[1]: m[2] for m in re.finditer(r"^;; (\w+): (.*)$", path.read_text(), re.M)}
        verdict = next(v for v in ("refused", "limit", "raises", "answers") if v in header)
        return Attack(path, tuple(header.get("features", "").split()), verdict, header[verdict])

    @property
    def error(self) -> tuple[type[SandboxError], str]:
        name, _, message = self.expected.partition(": ")
        return getattr(sandboxlib.errors, name), message


ALL = [Attack.read(p) for p in sorted(MODULES.glob("*.wat"))]
ATTACKS = [a for a in ALL if a.verdict in ("refused", "limit")]
RAISING = [a for a in ALL if a.verdict == "raises"]
ACCEPTED = [a for a in ALL if a.verdict == "answers"]


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("hostile-modules")
    return {a.path.stem: assemble_wat(a.path, out, a.features) for a in ALL}


def module_library(wasm: Path) -> Library:
    return Library(wasm.stem, (ANSWER,), wasm=wasm)


@pytest.fixture
def bystander(sample_lib: Library, isolating_backend: str) -> Iterator[Callable[[], None]]:
    """A sandbox of another library, with state, that must be untouched by the attack."""
    with sample_lib.sandbox(isolating_backend) as sb:
        kept = sb.copy_in(b"bystander")

        def check() -> None:
            assert plain(sb.sample_add(40, 2)) == 42
            assert plain(kept.read()) == b"bystander"
        check()
        yield check


def cache_entries() -> set[Path]:
    """Every entry of the build cache's kinds a module passes through (not the scratch
    folders, ``.build-*``, of builds another process runs meanwhile)."""
    root = cache_root()
    return {e for kind in ("preinit", "wasmtime", "wasm2c-src", "wasm2c")
            if (root / kind).is_dir() for e in (root / kind).iterdir()
            if not e.name.startswith(".")}


@pytest.mark.parametrize("module", ACCEPTED, ids=lambda a: a.path.stem)
def test_a_module_of_the_abis_shape_is_accepted_and_runs(
        module: Attack, assembled: dict[str, Path], isolating_backend: str) -> None:
    """The checks refuse what they must, not everything: hand-written modules of the
    ABI's shape run, alike on every backend."""
    library = module_library(assembled[module.path.stem])
    with library.sandbox(isolating_backend, limits=LIMITS) as sb:
        assert plain(sb.answer()) == int(module.expected)


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.path.stem)
def test_hostile_module_is_refused_or_held_to_its_limits(
        attack: Attack, assembled: dict[str, Path], isolating_backend: str,
        bystander: Callable[[], None]) -> None:
    library = module_library(assembled[attack.path.stem])
    before = cache_entries()
    error, message = attack.error
    with pytest.raises(error, match=re.escape(message)) as caught:
        library.sandbox(isolating_backend, limits=LIMITS)
    if attack.verdict == "refused":
        assert caught.value.args[0].startswith(f"{library.name}: module refused: ")
        assert cache_entries() == before  # nothing compiled, translated or pre-initialized
    bystander()


@pytest.mark.parametrize("name", ["memory_over_limit", "table_over_limit"])
def test_declared_sizes_over_the_limits_are_refused_before_anything_compiles(
        name: str, assembled: dict[str, Path], isolating_backend: str,
        tmp_path: Path) -> None:
    """A module whose initial memory or table exceeds the sandbox's limits was compiled
    first, then refused at instantiation (one whose table listed 200,000 functions: 6 s
    of wasm2c's compile for that ResourceError): it is refused before."""
    wasm = tmp_path / f"{name}.wasm"  # made new, so that no build of it is cached
    wasm.write_bytes(assembled[name].read_bytes() + bytes([SEC_CUSTOM]) +
                     enc_u(len(unique := encode_name("x") + os.urandom(16))) + unique)
    before = cache_entries()
    with pytest.raises(ResourceError, match="does not fit the limit|larger than the limit"):
        module_library(wasm).sandbox(isolating_backend, limits=LIMITS)
    assert cache_entries() == before


@pytest.mark.parametrize("attack", RAISING, ids=lambda a: a.path.stem)
def test_hostile_call_ends_in_an_error_poisoning_its_sandbox_only(
        attack: Attack, assembled: dict[str, Path], isolating_backend: str,
        bystander: Callable[[], None]) -> None:
    library = module_library(assembled[attack.path.stem])
    error, message = attack.error
    with library.sandbox(isolating_backend, limits=LIMITS) as sb:
        with pytest.raises(error, match=re.escape(message)):
            sb.answer()
        with pytest.raises(PoisonedError):
            sb.answer()
    bystander()


@pytest.mark.quick
def test_inspect_shows_the_verdict(assembled: dict[str, Path]) -> None:
    def inspect(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sandboxlib", "inspect",
                               str(assembled[name])], capture_output=True, text=True)
    accepted, refused = inspect("baseline"), inspect("multi_memory")
    assert accepted.returncode == 0 and "ABI shape: accepted" in accepted.stdout
    assert "imports (capabilities the module requests):\n  (none)" in accepted.stdout
    assert refused.returncode == 1
    assert "ABI shape: refused: memory section: 3 memories" in refused.stdout


# -- malformed binaries -------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(assembled: dict[str, Path]) -> bytes:
    return assembled["baseline"].read_bytes()


def refusal(wasm: bytes) -> str:
    with pytest.raises(BuildError) as caught:
        check_module(wasm, "m")
    return str(caught.value)


@pytest.mark.quick
def test_every_truncation_is_refused_cleanly(baseline: bytes) -> None:
    for end in range(len(baseline)):  # (every section of it is needed)
        refusal(baseline[:end])


def with_section(baseline: bytes, sid: int, body: bytes) -> bytes:
    return assemble([(s, body if s == sid else b) for s, b in sections(baseline)])


@pytest.mark.quick
@pytest.mark.parametrize("mutate, reason", [
    (lambda w: b"\0asn" + w[4:], "bad magic number"),
    (lambda w: w[:4] + b"\x0d\x00\x01\x00" + w[8:], "components are not"),
    (lambda w: with_section(w, SEC_TYPE, enc_u(0xFFFFFFFF)), "claims 4294967295 types"),
    (lambda w: w[:8] + b"\x01\xff\xff\xff\xff\xff\x00" + w[8:], "longer than a 32-bit LEB128"),
    (lambda w: w + b"\x0e\x00", "id 14 section: an unknown section"),
    (lambda w: w + bytes([SEC_TYPE]) + b"\x01\x00", "type section: out of order or repeated"),
    (lambda w: w + b"\x00\x10\x04name", "runs past the end"),
    (lambda w: with_section(w, SEC_EXPORT, encode_exports([("memory", 2, 0)] * 2)),
     "'memory' is exported twice"),
    (lambda w: with_section(w, SEC_EXPORT, encode_exports([("memory", 2, 0), ("f", 0, 99)])),
     "exports function 99, which does not exist"),
], ids=["magic", "component", "huge-count", "overlong-leb", "unknown-section", "repeated",
        "past-the-end", "duplicate-export", "dangling-export"])
def test_malformed_binary_is_refused_by_name(baseline: bytes, mutate: Callable[[bytes], bytes],
                                             reason: str) -> None:
    assert reason in refusal(mutate(baseline))


@pytest.mark.quick
@settings(max_examples=300, deadline=None)
@given(st.data())
@pytest.mark.parametrize("module", ["baseline", "throw_ref_passed_on"])
def test_random_corruption_is_accepted_or_refused_never_a_crash(
        module: str, assembled: dict[str, Path], data: st.DataObject) -> None:
    """Corrupted bytes anywhere end as acceptance or a refusal, also in a module with a
    tag, whose code the check walks (the exception instructions)."""
    wasm = bytearray(assembled[module].read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        wasm[data.draw(st.integers(8, len(wasm) - 1))] = data.draw(st.integers(0, 255))
    try:
        check_module(bytes(wasm), "m")
    except (BuildError, CapabilityError):
        pass


# -- defence in depth: the backends without the shape check -------------------------

UNCHECKED = """
import sys
import sandboxlib.toolchain.moduleshape as shape
from sandboxlib import Function, Library, Limits, Prim, SandboxError, Signature
shape.check_module = lambda wasm, name: None  # the first line of defence, switched off
shape.check_limits = lambda declared, limits: None
wasm, backend = sys.argv[1], sys.argv[2]
lib = Library("unchecked", (Function("answer", Signature((), Prim.INT)),),
              wasm=__import__("pathlib").Path(wasm))
try:
    lib.sandbox(backend, limits=Limits(memory_bytes=16 << 20, timeout=0.5))
    print("created")
except SandboxError as exc:
    print(type(exc).__name__, exc)
"""


def unchecked(wasm: Path, backend: str) -> str:
    proc = subprocess.run([sys.executable, "-c", UNCHECKED, str(wasm), backend],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]  # alive: no signal, no crash
    return proc.stdout


@pytest.mark.parametrize("backend, attack, expected", [
    ("wasmtime", "zero_max_memory", "maximum of 0 bytes"),
    ("wasm2c", "zero_max_memory", "created"),  # wasm2c rounds the slot up
    ("wasmtime", "multi_memory", "BuildError"),  # the engine refuses multi-memory
    ("wasm2c", "multi_memory", "BuildError"),  # so does the translation
    ("wasmtime", "many_tables", "ResourceError"),  # the store limiter: one table
    ("wasmtime", "start_spin", "ResourceError"),  # the deadline covers instantiation
    ("wasm2c", "start_spin", "ResourceError"),  # and wasm2c's compiled deadline
    ("wasmtime", "throw_legacy", "BuildError"),  # the engine refuses legacy exceptions
])
def test_backends_hold_without_the_shape_check(assembled: dict[str, Path], backend: str,
                                               attack: str, expected: str) -> None:
    assert expected in unchecked(assembled[attack], backend)


def test_a_call_checks_the_sandbox_again_after_converting_its_arguments(
        sample_lib: Library, isolating_backend: str) -> None:
    """An argument whose conversion (``__int__``) closes the sandbox: the call must not
    run in it."""
    sb = sample_lib.sandbox(isolating_backend)

    class Closing(int):
        def __int__(self) -> int:
            sb.close()
            return 1
    with pytest.raises(ClosedError, match="closed"):
        sb.sample_add(Closing(7), 2)


# -- the name section: debug information a module writes ----------------------------


def function_names(names: list[tuple[int, bytes]]) -> bytes:
    """A ``name`` custom section naming functions (subsection 1)."""
    body = enc_u(len(names)) + b"".join(enc_u(i) + enc_u(len(n)) + n for i, n in names)
    return encode_name("name") + b"\x01" + enc_u(len(body)) + body


NAMES_ACCEPTED = {
    "c-comment-and-directive": function_names([(0, b"*/\n#error injected\n/*")]),
    "quotes-and-escapes": function_names([(0, b'"\\x00\\";')]),
    "our-own-symbols": function_names([(0, b"w2c_m_memory")]),
    "escape-lookalike": function_names([(0, b"0x41answer_0")]),
    "long": function_names([(0, b"n" * 100_000)]),
}
NAMES_REFUSED = {
    "not-utf8": (function_names([(0, b"\xff\xfe")]), "a name is not UTF-8"),
    "dangling-index": (function_names([(7, b"nowhere")]), "names function 7"),
    "repeated-index": (function_names([(0, b"a"), (0, b"b")]), "names function 0"),
    "truncated": (encode_name("name") + b"\x01\x09\x01\x00\x20ab", "runs past the end"),
    "local-names": (encode_name("name") + b"\x02\x01\x00", "subsection 2"),
}


def with_names(baseline: bytes, section: bytes, out: Path) -> Path:
    out.write_bytes(assemble([*sections(baseline), (0, section)]))
    return out


@pytest.mark.parametrize("section", NAMES_ACCEPTED.values(), ids=NAMES_ACCEPTED.keys())
def test_function_names_are_only_data(section: bytes, baseline: bytes, tmp_path: Path,
                                      isolating_backend: str) -> None:
    """Function names (kept so a trap names its function) are chosen by the module:
    none reaches the translated C as code."""
    wasm = with_names(baseline, section, tmp_path / "named.wasm")
    with module_library(wasm).sandbox(isolating_backend, limits=LIMITS) as sb:
        assert plain(sb.answer()) == 42


@pytest.mark.parametrize("section, reason", NAMES_REFUSED.values(), ids=NAMES_REFUSED.keys())
def test_a_malformed_name_section_is_refused_by_name(
        section: bytes, reason: str, baseline: bytes, tmp_path: Path,
        isolating_backend: str) -> None:
    """wasm2c rejects a malformed name section, wasmtime ignores it: the shape check
    refuses it first, alike on every backend."""
    wasm = with_names(baseline, section, tmp_path / "named.wasm")
    with pytest.raises(BuildError, match="module refused: name section: .*" + reason):
        module_library(wasm).sandbox(isolating_backend, limits=LIMITS)


def test_a_function_name_is_not_written_at_each_call(isolating_backend: str,
                                                    tmp_path: Path) -> None:
    """wasm2c named a C function after its wasm name and wrote it at every call: this
    module's 60 KB name called from 2,000 places was 120 MB of C in the build cache,
    read into the host process to insert the hooks; a 1 MB name called from 10,000
    places would be 10 GB. It is translated with the names ignored; a trap still names
    its function."""
    name = "n" * 60_000
    calls = "\n".join("(drop (call 0 (i32.const 0)))" for _ in range(2000))
    source = tmp_path / "long_name.wat"
    source.write_text('(module (memory (export "memory") 1)\n'
                      '(table (export "__indirect_function_table") 1 funcref)\n'
                      '(func (param i32) (result i32) (if (local.get 0) (then unreachable)) '
                      f'(i32.const 1))\n(func (export "answer") (result i32)\n{calls}\n'
                      '(call 0 (i32.const 1))))\n')
    wasm = with_names(assemble_wat(source, tmp_path).read_bytes(),
                      function_names([(0, name.encode())]), tmp_path / "named.wasm")
    if isolating_backend == "wasm2c":
        assert translate(wasm).source.stat().st_size < 2 * MiB  # before: 120 MB
    with module_library(wasm).sandbox(isolating_backend, limits=LIMITS) as sb:
        with pytest.raises(TrapError, match=rf"^answer\(\): unreachable in {name}$"):
            sb.answer()


@pytest.mark.parametrize("length", [MAX_EXPORT_NAME, MAX_EXPORT_NAME + 1])
def test_export_names_are_bounded(length: int, isolating_backend: str,
                                  tmp_path: Path) -> None:
    """wasm2c names an exported function after its export and writes that name at every
    call of it: the ABI refuses export names over 256 bytes (a C function's), on every
    backend."""
    source = tmp_path / "long_export.wat"
    source.write_text('(module (memory (export "memory") 1)\n'
                      '(table (export "__indirect_function_table") 1 funcref)\n'
                      f'(func $f (export "{"e" * length}") (result i32) (i32.const 42))\n'
                      '(func (export "answer") (result i32) (call $f)))\n')
    library = module_library(assemble_wat(source, tmp_path))
    if length > MAX_EXPORT_NAME:
        with pytest.raises(BuildError, match=f"export section: 'eee.*a name of {length} bytes"):
            library.sandbox(isolating_backend, limits=LIMITS)
    else:
        with library.sandbox(isolating_backend, limits=LIMITS) as sb:
            assert plain(sb.answer()) == 42


def declaring_locals(functions: int, locals_: int) -> bytes:
    """A module of the ABI's shape of ``functions`` functions returning 42 (the first
    exported as ``answer``), each declaring ``locals_`` locals in one group (3 bytes)."""
    body = b"\x01" + enc_u(locals_) + b"\x7f\x41\x2a\x0b"
    exports = [("memory", 2, 0), ("__indirect_function_table", 1, 0), ("answer", 0, 0)]
    return assemble([(SEC_TYPE, b"\x01\x60\0\x01\x7f"), (3, enc_u(functions) + bytes(functions)),
                     (4, b"\x01\x70\0\x01"), (5, b"\x01\0\x01"),
                     (SEC_EXPORT, encode_exports(exports)),
                     (10, enc_u(functions) + (enc_u(len(body)) + body) * functions)])


def test_declared_locals_are_paid_for_by_code(isolating_backend: str, tmp_path: Path) -> None:
    """A local group declares 50,000 locals in three bytes, and wasm2c writes each as C:
    a 1 KB module of 100 such functions was 83 MB of C (12 s of wasm2c alone); 100,000
    of them would be 83 GB. The ABI refuses more parameters, results and locals in all
    than one per byte of code and 65,536 more, on every backend."""
    wasm = tmp_path / "locals.wasm"
    wasm.write_bytes(declaring_locals(2, 40_000))
    with pytest.raises(BuildError, match="code section: its functions declare over 655"):
        module_library(wasm).sandbox(isolating_backend, limits=LIMITS)
    wasm.write_bytes(declaring_locals(1, 40_000))
    with module_library(wasm).sandbox(isolating_backend, limits=LIMITS) as sb:
        assert plain(sb.answer()) == 42


def slow_to_compile(locals_: int, statements: int) -> str:
    """A module of the ABI's shape whose ``answer`` has ``locals_`` i32 locals and
    ``statements`` assignments, each reading two others: clang's time on wasm2c's C for
    it grows with the square of its size (1.2 MB of code: 80 s; twice that: four times
    as long), wasmtime's compiler takes a second."""
    body = "\n".join(f"(local.set {i % locals_} (i32.add (local.get {i * 7 % locals_}) "
                     f"(i32.mul (local.get {(i * 13 + 5) % locals_}) (i32.const {i}))))"
                     for i in range(statements))
    return ('(module (memory (export "memory") 1)\n'
            '(table (export "__indirect_function_table") 1 funcref)\n'
            f'(func (export "answer") (result i32) (local{" i32" * locals_})\n'
            f"{body}\n(i32.const 42)))\n")


def processes_naming(text: str) -> list[str]:
    """The command lines of this machine's processes that contain ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:  # (gone meanwhile)
            continue
        if any(text.encode() in w for w in words):
            found.append(b" ".join(words).decode(errors="replace"))
    return found


def runs_or_stops_its_build(library: Library, backend: str, stopped: str) -> bool:
    """On wasmtime (no build ahead of time) the module answers 42; on wasm2c its build
    is stopped with a BuildError matching ``stopped``: whether it was."""
    if backend == "wasmtime":
        with library.sandbox(backend, limits=LIMITS) as sb:
            assert plain(sb.answer()) == 42
        return False
    with pytest.raises(BuildError, match=stopped):
        library.sandbox(backend, limits=LIMITS)
    return True


def test_a_module_made_slow_to_compile_is_stopped_at_the_build_time_limit(
        isolating_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        bystander: Callable[[], None]) -> None:
    """wasm2c compiles a module ahead of time: one made to keep clang busy for hours is
    stopped at ``$SANDBOXLIB_BUILD_TIMEOUT`` with ``BuildError``, its compilers killed
    (before: the first sandbox waited for clang, hours for this one); wasmtime runs it."""
    source = tmp_path / "compile_bomb.wat"
    source.write_text(slow_to_compile(12_000, 150_000))
    library = module_library(assemble_wat(source, tmp_path))
    monkeypatch.setenv("SANDBOXLIB_BUILD_TIMEOUT", "20")
    if runs_or_stops_its_build(library, isolating_backend,
                               "took longer than 20 s and was stopped"):
        assert processes_naming(str(tmp_path)) == []  # wasm2c's
        assert processes_naming("_sandboxlib_wasm2c_compile_bomb_") == []  # the compilers'
    bystander()


def made_of_data(size: int, passive: bool = False) -> bytes:
    """A module of the ABI's shape whose memory starts as ``size`` bytes of data (one
    active segment, or a passive one), with the word 2 at its start and 40 at its end
    (a second segment): ``answer`` returns their sum."""
    body = (b"\0\x41\0\x28\x02\0\x41" + enc_s(size - 4) + b"\x28\x02\0\x6a\x0b")
    blob = (2).to_bytes(4, "little") + bytes(range(256)) * (size // 256 - 1) + bytes(252)
    last = b"\0\x41" + enc_s(size - 4) + b"\x0b" + enc_u(4) + (40).to_bytes(4, "little")
    first = (b"\x01" if passive else b"\0\x41\0\x0b") + enc_u(size) + blob
    exports = [("memory", 2, 0), ("__indirect_function_table", 1, 0), ("answer", 0, 0)]
    return assemble([(SEC_TYPE, b"\x01\x60\0\x01\x7f"), (3, b"\x01\0"),  # (type 0)
                     (4, b"\x01\x70\0\x01"), (5, b"\x01\0" + enc_u(size // 65536 + 1)),
                     (SEC_EXPORT, encode_exports(exports)),
                     (10, b"\x01" + enc_u(len(body)) + body),
                     (11, b"\x02" + first + last)])


def test_a_module_made_of_data_compiles_as_its_code_does(
        isolating_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        bystander: Callable[[], None]) -> None:
    """wasm2c wrote data into the C, six characters a byte, and clang held a node per
    byte: 4 MiB took 8 s and 490 MB to compile, so a module of 256 MiB of data would
    have needed 31 GB (before: this one, 24 MiB, was stopped at the time limit). The
    data is copied in at instantiation now, and lands where wasm says."""
    wasm = tmp_path / "made_of_data.wasm"
    wasm.write_bytes(made_of_data(24 * MiB))
    monkeypatch.setenv("SANDBOXLIB_BUILD_TIMEOUT", "20")
    with module_library(wasm).sandbox(isolating_backend,
                                      limits=Limits(memory_bytes=32 * MiB)) as sb:
        assert plain(sb.answer()) == 42
    bystander()


def test_passive_data_is_bounded(isolating_backend: str, tmp_path: Path) -> None:
    """Passive segments (memory.init's, which C compilers do not make without threads)
    stay in wasm2c's C: the ABI refuses more than 1 MiB of them, on every backend."""
    wasm = tmp_path / "passive.wasm"
    wasm.write_bytes(made_of_data(MAX_PASSIVE_DATA + 256, passive=True))
    with pytest.raises(BuildError, match="passive segments hold 1048832 bytes, over the ABI's"):
        module_library(wasm).sandbox(isolating_backend, limits=LIMITS)
    wasm.write_bytes(made_of_data(MAX_PASSIVE_DATA - 256, passive=True))
    with module_library(wasm).sandbox(isolating_backend, limits=LIMITS) as sb:
        assert plain(sb.answer()) == 40  # the passive bytes are not in memory


def listing_elements(entries: int) -> bytes:
    """A module of the ABI's shape whose table of ``entries`` elements an active
    segment fills with its one function, ``answer`` (42)."""
    body = b"\0\x41\x2a\x0b"
    exports = [("memory", 2, 0), ("__indirect_function_table", 1, 0), ("answer", 0, 0)]
    return assemble([(SEC_TYPE, b"\x01\x60\0\x01\x7f"), (3, b"\x01\0"),
                     (4, b"\x01\x70\0" + enc_u(entries)), (5, b"\x01\0\x01"),
                     (SEC_EXPORT, encode_exports(exports)),
                     (9, b"\x01\0\x41\0\x0b" + enc_u(entries) + bytes(entries)),
                     (10, b"\x01" + enc_u(len(body)) + body)])


def test_element_segments_are_bounded(isolating_backend: str, tmp_path: Path) -> None:
    """wasm2c writes each element entry as a line of C: 200,000 of them (a 200 KB
    module) took 5.6 s and 300 MB to compile, so 16 million would have needed 24 GB.
    The ABI refuses more than one per function and 65,536 more, on every backend."""
    wasm = tmp_path / "elements.wasm"
    most = SPARE_ELEMENTS + 1  # the module has one function
    wasm.write_bytes(listing_elements(most + 1))
    with pytest.raises(BuildError, match=f"element section: its segments list over {most} "):
        module_library(wasm).sandbox(isolating_backend, limits=LIMITS)
    wasm.write_bytes(listing_elements(most))
    with module_library(wasm).sandbox(isolating_backend,
                                      limits=Limits(table_elements=most)) as sb:
        assert plain(sb.answer()) == 42


def test_a_build_step_is_held_to_its_memory_limit(
        isolating_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        bystander: Callable[[], None]) -> None:
    """Each process of a build step may write to ``$SANDBOXLIB_BUILD_MEMORY_MIB`` (4 GiB
    by default): clang needs 260 MB for this module, and stops with ``BuildError`` under
    a limit of 150 MiB (before: a module could take the machine's memory for as long as
    the time limit let it); wasmtime runs it."""
    k = int.from_bytes(os.urandom(3), "little")  # a module of its own: no build of it cached
    source = tmp_path / "memory_bomb.wat"
    source.write_text(slow_to_compile(3000, 30_000).replace(
        "(i32.const 42)))", f"(i32.sub (i32.const {42 + k}) (i32.const {k}))))"))
    library = module_library(assemble_wat(source, tmp_path))
    monkeypatch.setenv("SANDBOXLIB_BUILD_MEMORY_MIB", "150")
    runs_or_stops_its_build(library, isolating_backend,
                            "ran out of the 150 MiB of memory a build step")
    bystander()


@pytest.mark.quick
@pytest.mark.parametrize("variable, value", [
    *(("SANDBOXLIB_BUILD_TIMEOUT", v) for v in ["0", "-5", "inf", "nan", "soon"]),
    *(("SANDBOXLIB_BUILD_MEMORY_MIB", v) for v in ["0", "-5", "1.5", "4G", "lots"])])
def test_a_build_limit_must_be_a_positive_number(variable: str, value: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from sandboxlib.toolchain.bounded import build_memory, build_timeout
    monkeypatch.setenv(variable, value)
    with pytest.raises(BuildError, match=f"{variable}.*positive number"):
        (build_timeout if variable.endswith("TIMEOUT") else build_memory)()
