"""Whether two wheels of one release hold the same thing: usage: compare-wheels.py A B.

Every file is compared by name and bytes, but for what says how the wheel was built:
- the compiled extensions (``*.so``: compiled in other build directories; auditwheel
  rewrites a repaired wheel's) by name;
- the drop-ins' shipped wasm2c extensions by what their index (``_wasm2c/index.json``)
  says they were built from: the keys loading checks (module, meter, shim, backend C,
  flags, ABI) and the meter of each, each naming a file present. Their file names carry
  the build cache's key, which also covers the build environment (the compiler's
  version, Python's build string...), so those differ between builds;
- the metadata that names the wheel's tag or lists its hashes (``WHEEL``, ``RECORD``)
  is left out.
Prints what it compared; exits 1 naming each difference.
"""

import hashlib
import json
import sys
import zipfile
from pathlib import PurePosixPath

BUILD_SPECIFIC = ("WHEEL", "RECORD")
SHIPPED = "_wasm2c"  # sandboxlib.backends.wasm2c.build.PRECOMPILED
INDEX = "index.json"


def contents(path: str) -> tuple[dict[str, str], list[str]]:
    """File name -> what is compared (a sha256, "" for a compiled extension, the
    index's keys and meters), and the problems of a shipped index."""
    found: dict[str, str] = {}
    problems: list[str] = []
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        for info in wheel.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or (name.parent.suffix == ".dist-info"
                                 and name.name in BUILD_SPECIFIC):
                continue
            if name.parent.name == SHIPPED and name.suffix == ".so":
                continue  # its index stands for it
            if name.parent.name == SHIPPED and name.name == INDEX:
                index = json.loads(wheel.read(info))
                problems += [f"{path}: {name} names {e['file']}, which it lacks"
                             for e in index.values()
                             if str(name.parent / e["file"]) not in names]
                found[info.filename] = json.dumps(
                    sorted((key, e["meter"]) for key, e in index.items()))
            else:
                found[info.filename] = ("" if name.suffix == ".so"
                                        else hashlib.sha256(wheel.read(info)).hexdigest())
    return found, problems


def main(a: str, b: str) -> int:
    (left, problems), (right, more) = contents(a), contents(b)
    problems += more
    problems += [f"only in {a}: {n}" for n in sorted(left.keys() - right.keys())]
    problems += [f"only in {b}: {n}" for n in sorted(right.keys() - left.keys())]
    problems += [f"differs: {n}" for n in sorted(left.keys() & right.keys())
                 if left[n] != right[n]]
    for line in problems:
        print(line, file=sys.stderr)
    compiled = sum(1 for n in left if n.endswith(".so"))
    indexes = sum(1 for n in left if n.endswith(f"{SHIPPED}/{INDEX}"))
    print(f"wheels compared: {len(left)} files each, the same names; "
          f"{len(left) - compiled - indexes} byte for byte, {compiled} compiled extensions "
          f"by name, {indexes} drop-ins' wasm2c extensions by their index's keys"
          if not problems else f"wheels differ: {len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
