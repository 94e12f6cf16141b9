"""The ``sandboxlib`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import SandboxError


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sandboxlib", description="Use untrusted C libraries in-process, isolated by "
                                       "WebAssembly, behind generated typed proxies.")
    parser.add_argument("--version", action="version", version=f"sandboxlib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", help="list a module's imports (capabilities) and exports")
    p.add_argument("module", help="a .wasm file")
    p.set_defaults(run=_inspect)
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
