"""`sandboxlib bench --json`: the schema other tools read (timings are not checked
here; thresholds belong to benchmarks/, not to unit tests), and where its workloads
come from: the wrapped libraries register theirs, sandboxlib never imports them."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandboxlib import SandboxError
from sandboxlib.toolchain.cpu import machine_level
from sandboxlib.bench.plugins import Case


def test_bench_json_schema(tmp_path: Path) -> None:
    plot = tmp_path / "ratios.png"
    proc = subprocess.run([sys.executable, "-m", "sandboxlib", "bench", "--json", "--plot",
                           str(plot)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    metrics = data["metrics"]
    for m in metrics:
        assert set(m) == {"name", "backend", "value", "unit", "ratio_vs_native"}
        assert isinstance(m["name"], str) and isinstance(m["backend"], str)
        assert isinstance(m["value"], float) and m["value"] > 0
        assert m["ratio_vs_native"] is None or isinstance(m["ratio_vs_native"], float)
        assert (m["ratio_vs_native"] is None) == (m["backend"] == "native")
    names = {m["name"] for m in metrics}
    assert {"call_trivial", "sandbox_create", "zlib_compress_1mib", "zlib_request_fresh",
            "lz4_request_fresh", "lz4_request_reused", "expat_request_fresh"} <= names
    backends = {(m["name"], m["backend"]) for m in metrics}
    assert ("sandbox_create", "process") in backends and ("call_trivial", "cffi") in backends
    assert "bench:" in proc.stderr  # progress while it runs
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_wrapped_workloads_register_through_entry_points() -> None:
    """The zlib and expat workloads reach `sandboxlib bench` as entry points."""
    from sandboxlib.bench.plugins import registered
    found = dict(registered())
    assert {"zlib", "expat"} <= set(found)
    assert found["zlib"].__module__ == "sandboxlib.wrapped.zlib.bench"
    assert found["expat"].__module__ == "sandboxlib.wrapped.expat.bench"


def test_a_workload_whose_extra_is_not_installed_is_left_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The image workload needs Pillow (the [image] extra): without it, the others run."""
    import builtins

    from sandboxlib.bench.plugins import registered
    real_import = builtins.__import__

    def without_pillow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "PIL" or name.startswith("PIL."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    for module in [m for m in sys.modules if m.startswith(("PIL", "sandboxlib.wrapped.image"))]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", without_pillow)
    found = dict(registered())
    assert "image" not in found and {"zlib", "expat", "stb_image"} <= set(found)


DROP_INS = "sandboxlib.wrapped"


def _imports_wrapped(node: ast.AST) -> bool:
    """An import of ``sandboxlib.wrapped`` or below, or a call importing it by a literal
    name."""
    def named(name: str | None) -> bool:
        return name is not None and (name == DROP_INS or name.startswith(DROP_INS + "."))

    if isinstance(node, ast.Import):
        return any(named(alias.name) for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and named(node.module)
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        fn = node.func
        called = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
        arg = node.args[0].value
        return called in ("import_module", "__import__") and isinstance(arg, str) and named(arg)
    return False


@pytest.mark.quick
def test_sandboxlib_never_imports_wrapped() -> None:
    """Layering: the drop-ins build on sandboxlib, never the other way round."""
    root = Path(__file__).resolve().parent.parent / "sandboxlib"
    offenders = [f"{path.relative_to(root.parent)}:{getattr(node, 'lineno', '?')}"
                 for path in sorted(root.rglob("*.py")) if "wrapped" not in path.parts
                 for node in ast.walk(ast.parse(path.read_text(), str(path)))
                 if _imports_wrapped(node)]
    assert not offenders, offenders


def test_bench_corpus_without_the_corpus_says_what_it_needs(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "sandboxlib", "bench", "--corpus"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SANDBOXLIB_CORPUS": str(tmp_path)})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("sandboxlib: error: the corpus specs are not in ")
    assert "source checkout" in proc.stderr and "SANDBOXLIB_CORPUS" in proc.stderr


def test_corpus_rows_time_every_backend_after_checking_the_results() -> None:
    from sandboxlib.bench import corpus
    rows = corpus.run_corpus(only=frozenset({"bzip2_decompress_1mib", "zlib_decompress_1mib"}),
                             progress=lambda line: None)
    assert [r.name for r in rows] == ["bzip2_decompress_1mib", "zlib_decompress_1mib"]
    for r in rows:
        assert set(r.seconds) == {"native", "wasm2c", "wasmtime"}
        assert all(s > 0 for s in r.seconds.values())
        assert r.ratios["wasmtime/wasm2c"] == r.seconds["wasmtime"] / r.seconds["wasm2c"]
    data = json.loads(json.dumps(corpus.as_dict(rows)))
    assert [set(r) for r in data["corpus"]] == [{"name", "what", "ms", "ratios"}] * 2
    means = data["geomean"]
    assert set(means) == {"wasm2c/native", "wasmtime/native", "wasmtime/wasm2c"}
    assert data["wasm2c_cpu"] == machine_level()
    ratios = [r.ratios["wasm2c/native"] for r in rows]
    assert means["wasm2c/native"] == pytest.approx((ratios[0] * ratios[1]) ** 0.5)


def test_a_backend_computing_something_else_fails_the_corpus_bench() -> None:
    from sandboxlib.bench import corpus
    case = Case("wrong", "a result that depends on the backend",
                       lambda backend, stack: lambda: backend == "wasmtime")
    with pytest.raises(SandboxError, match="bench wrong: wasmtime's result differs"):
        corpus.measure(case, rounds=1)


def test_drop_ins_register_their_corpus_cases() -> None:
    from sandboxlib.bench.plugins import registered_cases as registered
    assert [c.name for c in registered()] == ["expat_parse_2mib", "lz4_compress_1mib",
                                             "jpeg_decode_1024x768", "zlib_decompress_1mib"]
