"""The ``sandboxlib`` command line.

Every failure is one line on stderr, ``sandboxlib: error: ...``: status 2 for bad
input (a ``SandboxError``), 1 for an OS error or a missing optional dependency (both
checked before the work starts where they can be), 130 for Ctrl-C.
"""

from __future__ import annotations

import argparse
import errno
import json
import importlib
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Callable, TextIO

from . import __version__
from .codegen.plan import PackagePlan, warn_skipped
from .codegen.generate import WrapRequest, build_module, check_package_name, plan_for, wrap
from .codegen.spec import load_annotations, load_spec
from .errors import SandboxError, SandboxlibWarning
from .toolchain.cpu import CPU_ENV, machine_level, shipped_levels
from .toolchain.extras import WrapExtraMissing
from .progress import LOGGER, StderrHandler, is_quiet, set_quiet


class MissingDependency(Exception):
    """An optional dependency a command needs is not installed."""


def _require(module: str, extra: str, option: str) -> None:
    """Fail before any work if ``option`` needs ``module`` and it cannot be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise MissingDependency(f"{option} needs {module}, which is not installed: "
                                f"pip install 'sandboxlib-wasm[{extra}]'") from None


def _os_error(code: int, path: Path) -> OSError:
    return OSError(code, os.strerror(code), str(path))


def _check_out_dir(out: Path) -> None:
    """Fail before any work if ``out`` cannot be (made) a writable directory."""
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise _os_error(errno.ENOTDIR, out)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _os_error(errno.EACCES, out)


def _check_out_file(path: Path) -> None:
    """Fail before any work if the file ``path`` cannot be written."""
    if path.is_dir():
        raise _os_error(errno.EISDIR, path)
    folder = path.parent
    if not folder.exists():
        raise _os_error(errno.ENOENT, path)
    if not folder.is_dir():
        raise _os_error(errno.ENOTDIR, path)
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise _os_error(errno.EACCES, path)


def _check_name(name: str, force: bool) -> None:
    """Refuse a package name that cannot be imported or hides a module (warn if forced)."""
    warning = check_package_name(name, force)
    if warning:
        warnings.warn(f"{warning} (--force)", SandboxlibWarning, stacklevel=2)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """sandboxlib's warnings as the command's lines on stderr (``--quiet`` too); others
    as Python shows them."""
    if issubclass(category, SandboxlibWarning):
        print(f"sandboxlib: warning: {message}", file=sys.stderr)
    else:
        _python_shows(message, category, filename, lineno, file, line)


_python_shows = warnings.showwarning


def _out(text: str | None = None) -> None:
    """Print a line on stdout (None: flush it); a failure (a full disk) names standard
    output."""
    try:
        if text is None:
            sys.stdout.flush()
        else:
            print(text)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, "standard output") from None


def _inspect(args: argparse.Namespace) -> int:
    from .inspect_module import inspect_module
    report = inspect_module(Path(args.module))
    _out(f"{args.module}: {len(report.imports)} import(s), {len(report.exports)} export(s)")
    _out("ABI shape: " + (f"refused: {report.refused}" if report.refused else "accepted"))
    _out("imports (capabilities the module requests):")
    if not report.imports:
        _out("  (none)")
    for module, name, grant in report.imports:
        _out(f"  {module}.{name:<24} {grant}")
    _out("exports:")
    for name, ty in report.exports:
        _out(f"  {name:<32} {ty}")
    return 1 if report.refused else 0


def _report(path: Path, plan: PackagePlan) -> None:
    _out(f"wrote {path}/: {len(plan.functions)} function(s), {len(plan.structs)} struct(s), "
         f"{len(plan.constants)} constant(s), {len(plan.skipped)} skipped")


def _wrap(args: argparse.Namespace) -> int:
    _check_name(args.name, args.force)
    _check_out_dir(Path(args.out))
    req = WrapRequest(args.name, [Path(h) for h in args.header], [Path(s) for s in args.source],
                      [Path(i) for i in args.include], list(args.define), [],
                      args.export or None,
                      x86_intrinsics=False if args.no_x86_intrinsics else None)
    if args.spec:
        req.annotations = load_annotations(Path(args.spec))
        req.origin = args.spec
    path, plan = wrap(req, Path(args.out))
    _report(path, plan)
    return 0


def _gen(args: argparse.Namespace) -> int:
    _check_out_dir(Path(args.out))
    spec = load_spec(Path(args.spec))
    _check_name(spec.request.name, args.force)
    path, plan = wrap(spec.request, Path(args.out))
    _report(path, plan)
    return 0


def _build(args: argparse.Namespace) -> int:
    spec = load_spec(Path(args.spec))
    plan = plan_for(spec.request)
    wasm = build_module(spec.request, plan)  # leaves out what the sources do not define
    warn_skipped(plan)
    _out(str(wasm))
    return 0


def _precompile(args: argparse.Namespace) -> int:
    from .codegen.packages import import_package
    from .precompile import SHIPPED_METERS, precompile_into_package, warm
    from .library import Library
    if args.cache and args.cpu:
        raise SandboxError(f"--cpu chooses the levels a package ships; the build cache holds "
                           f"this machine's own ({machine_level()}; ${CPU_ENV} chooses another)")
    package = Path(args.package).resolve()
    if not (package / "__init__.py").is_file():
        raise SandboxError(f"{package}: not a generated package (no __init__.py); give the "
                           "folder `sandboxlib wrap` or `gen` wrote")
    module = import_package(f"_sandboxlib_precompile_{package.name}", package)
    library = getattr(module, "LIBRARY", None)
    if not isinstance(library, Library):
        raise SandboxError(f"{package}: not a generated package (it defines no LIBRARY)")
    backends, meters = args.backend or ["wasm2c"], args.meter or list(SHIPPED_METERS)
    levels = [machine_level()] if args.cache else args.cpu or list(shipped_levels())
    if args.cache:
        warm(library, backends, meters)
    else:
        precompile_into_package(library, backends, meters, levels)
    _out(f"precompiled {package}: {', '.join(backends)}"
         + (f" (meters {', '.join(map(str, meters))}; processor levels {', '.join(levels)})"
            if "wasm2c" in backends else "")
         + (" into the build cache" if args.cache else " into the package"))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import report, run_suite
    progress = ((lambda line: None) if is_quiet()
                else lambda line: print(f"bench: {line}", file=sys.stderr, flush=True))
    if args.corpus:
        return _bench_corpus(args, progress)
    if args.plot:
        _require("matplotlib", "plot", "--plot")
        _check_out_file(Path(args.plot))
    metrics = run_suite(quick=not args.full, progress=progress)
    _out(report.as_json(metrics) if args.json else report.table(metrics))
    if args.plot:
        report.plot(metrics, Path(args.plot))
        if not is_quiet():
            print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def _bench_corpus(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    from .bench import corpus
    if args.plot:
        raise SandboxError("bench --corpus draws no plot (--plot is for the suite)")
    rows = corpus.run_corpus(quick=not args.full, progress=progress)
    _out(json.dumps(corpus.as_dict(rows), indent=2) if args.json else corpus.table(rows))
    return 0


QUIET_HELP = "no progress lines (warnings and errors still shown)"
FORCE_HELP = "accept a package name that shadows a standard-library or installed module"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sandboxlib", description="Use untrusted C libraries in-process, isolated by "
                                       "WebAssembly, behind generated typed proxies.")
    parser.add_argument("--version", action="version", version=f"sandboxlib {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    common = argparse.ArgumentParser(add_help=False)  # --quiet also after the command
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help=QUIET_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", parents=[common],
                       help="list a module's imports (capabilities) and exports")
    p.add_argument("module", help="a .wasm file")
    p.set_defaults(run=_inspect)

    p = sub.add_parser("wrap", parents=[common],
                       help="headers + C sources -> an importable package DIR/NAME/")
    p.add_argument("name", help="the package name (a Python identifier)")
    # each takes one or more (a shell's glob: --header include/*.h), and may be repeated
    p.add_argument("--header", action="extend", required=True, nargs="+",
                   help="C header(s) whose functions the proxy has")
    p.add_argument("--source", action="extend", required=True, nargs="+",
                   help="C source file(s)")
    p.add_argument("--include", action="extend", default=[], nargs="+",
                   help="include directory(ies)")
    p.add_argument("--define", action="extend", default=[], nargs="+",
                   help="K or K=V for the compiler")
    p.add_argument("--export", action="extend", nargs="+",
                   help="export only these functions")
    p.add_argument("--spec", help="a spec file whose annotations apply (sources still from here)")
    p.add_argument("--no-x86-intrinsics", action="store_true",
                   help="compile the library's scalar code, not its x86 SSE code (by default "
                        "SSE intrinsics compile to wasm SIMD where the C includes them)")
    p.add_argument("--out", required=True, help="the directory to write NAME/ into")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.set_defaults(run=_wrap)

    p = sub.add_parser("build", parents=[common],
                       help="fetch (pinned) and compile a spec's library to wasm")
    p.add_argument("spec", help="a spec file (TOML)")
    p.set_defaults(run=_build)

    p = sub.add_parser("gen", parents=[common], help="generate a spec's package into OUT/NAME/")
    p.add_argument("spec", help="a spec file (TOML)")
    p.add_argument("--out", required=True, help="the directory to write NAME/ into")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.set_defaults(run=_gen)

    p = sub.add_parser("precompile", parents=[common],
                       help="do a generated package's first-use work now, into the package")
    p.add_argument("package", help="the package's folder (DIR/NAME/ from wrap or gen)")
    p.add_argument("--backend", action="append", choices=["wasm2c", "wasmtime", "native"],
                   help="the backend(s) to prepare (repeatable; default: wasm2c)")
    p.add_argument("--meter", action="append", type=int, choices=[0, 1, 2],
                   help="wasm2c builds: 2 the default, 1 fuel, 0 uninterruptible "
                        "(Limits(interruptible=False)) (repeatable; default: 2)")
    p.add_argument("--cpu", action="append", choices=shipped_levels(),
                   help="wasm2c builds: the processor level(s) to build for (repeatable; "
                        "default: each; a machine loads the best it runs; not with --cache)")
    p.add_argument("--cache", action="store_true",
                   help="into this machine's build cache instead (leave the package as it is)")
    p.set_defaults(run=_precompile)

    p = sub.add_parser("bench", parents=[common],
                       help="measure calls, sandbox creation and bulk work vs native")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw the ratios to native (matplotlib)")
    p.add_argument("--full", action="store_true", help="longer measurements, less noise")
    p.add_argument("--corpus", action="store_true",
                   help="instead: one real workload per corpus library and drop-in on native, "
                        "wasm2c and wasmtime (needs a source checkout and the [wrap] extra)")
    p.set_defaults(run=_bench)
    return parser


def _describe(exc: OSError) -> str:
    """``PATH: reason`` (or ``SRC -> DST: reason``), like the shell's tools."""
    names = [os.fsdecode(n) if isinstance(n, bytes) else str(n)
             for n in (exc.filename, exc.filename2) if n is not None]
    reason = exc.strerror or str(exc)
    return f"{' -> '.join(names)}: {reason}" if names else reason


def _fail(message: str, code: int) -> int:
    try:
        _out()
    except OSError:  # stdout is unwritable (a full disk, a closed pipe): drop what is left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    print(f"sandboxlib: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (see the module's docstring)."""
    with warnings.catch_warnings():  # sandboxlib's warnings as lines (_show_warning)
        warnings.simplefilter("always", SandboxlibWarning)
        warnings.showwarning = _show_warning
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    handler, level = StderrHandler(), LOGGER.level  # progress records on stderr, as lines
    try:
        args = build_parser().parse_args(argv)
        if args.quiet:
            set_quiet()
        elif LOGGER.getEffectiveLevel() > logging.INFO:
            LOGGER.setLevel(logging.INFO)
        LOGGER.addHandler(handler)
        code: int = args.run(args)
        _out()
    except (MissingDependency, WrapExtraMissing) as exc:
        return _fail(f"error: {exc}", 1)
    except SandboxError as exc:
        return _fail(f"error: {exc}", 2)
    except OSError as exc:
        return _fail(f"error: {_describe(exc)}", 1)
    except KeyboardInterrupt:  # (one Python made into another error: __main__.run)
        return _fail("interrupted", 130)
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(level)
    return code


if __name__ == "__main__":
    sys.exit(main())
