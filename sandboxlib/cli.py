"""The ``sandboxlib`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .codegen.plan import Plan, warn_skipped
from .codegen.generate import WrapRequest, plan_for, wrap
from .codegen.spec import load_annotations, load_spec
from .errors import SandboxError
from .toolchain import build_wasm


def _inspect(args: argparse.Namespace) -> int:
    from .inspect_module import inspect_module
    report = inspect_module(Path(args.module))
    print(f"{args.module}: {len(report.imports)} import(s), {len(report.exports)} export(s)")
    print("imports (capabilities the module requests):")
    for module, name, grant in report.imports or [("-", "none", "")]:
        print(f"  {module}.{name:<24} {grant}")
    print("exports:")
    for name, ty in report.exports:
        print(f"  {name:<32} {ty}")
    return 0


def _report(path: Path, plan: Plan) -> None:
    warn_skipped(plan)
    print(f"wrote {path}/: {len(plan.functions)} function(s), {len(plan.structs)} struct(s), "
          f"{len(plan.constants)} constant(s), {len(plan.skipped)} skipped")


def _wrap(args: argparse.Namespace) -> int:
    sources = [Path(s) for group in args.source for s in group]
    req = WrapRequest(args.name, [Path(h) for h in args.header], sources,
                      [Path(i) for i in args.include], list(args.define), [],
                      args.export or None)
    if args.spec:
        req.annotations = load_annotations(Path(args.spec))
        req.origin = args.spec
    path, plan = wrap(req, Path(args.out))
    _report(path, plan)
    return 0


def _gen(args: argparse.Namespace) -> int:
    spec = load_spec(Path(args.spec))
    path, plan = wrap(spec.request, Path(args.out))
    _report(path, plan)
    return 0


def _build(args: argparse.Namespace) -> int:
    spec = load_spec(Path(args.spec))
    plan = plan_for(spec.request)
    req = spec.request
    wasm = build_wasm(req.sources, exports=[f.name for f in plan.functions], name=req.name,
                      include_dirs=req.include_dirs, defines=req.defines, cflags=req.cflags,
                      stack_size=req.stack_size)
    print(wasm)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import report, run_suite
    metrics = run_suite(quick=not args.full)
    print(report.as_json(metrics) if args.json else report.table(metrics))
    if args.plot:
        report.plot(metrics, Path(args.plot))
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sandboxlib", description="Use untrusted C libraries in-process, isolated by "
                                       "WebAssembly, behind generated typed proxies.")
    parser.add_argument("--version", action="version", version=f"sandboxlib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", help="list a module's imports (capabilities) and exports")
    p.add_argument("module", help="a .wasm file")
    p.set_defaults(run=_inspect)

    p = sub.add_parser("wrap", help="headers + C sources -> an importable package DIR/NAME/")
    p.add_argument("name", help="the package name (a Python identifier)")
    p.add_argument("--header", action="append", required=True, help="a C header (repeatable)")
    p.add_argument("--source", action="append", required=True, nargs="+",
                   help="C source file(s) (repeatable)")
    p.add_argument("--include", action="append", default=[], help="an include directory")
    p.add_argument("--define", action="append", default=[], help="K or K=V for the compiler")
    p.add_argument("--export", action="append", help="export only these functions (repeatable)")
    p.add_argument("--spec", help="a spec file whose annotations apply (sources still from here)")
    p.add_argument("--out", required=True, help="the directory to write NAME/ into")
    p.set_defaults(run=_wrap)

    p = sub.add_parser("build", help="fetch (pinned) and compile a spec's library to wasm")
    p.add_argument("spec", help="a spec file (TOML)")
    p.set_defaults(run=_build)

    p = sub.add_parser("gen", help="generate a spec's package into OUT/NAME/")
    p.add_argument("spec", help="a spec file (TOML)")
    p.add_argument("--out", required=True, help="the directory to write NAME/ into")
    p.set_defaults(run=_gen)

    p = sub.add_parser("bench", help="measure calls, sandbox creation and bulk work vs native")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw the ratios to native (matplotlib)")
    p.add_argument("--full", action="store_true", help="longer measurements, less noise")
    p.set_defaults(run=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except SandboxError as exc:
        print(f"sandboxlib: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
