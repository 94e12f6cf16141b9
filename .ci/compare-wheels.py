"""Whether two wheels of one release hold the same thing: usage: compare-wheels.py A B.

Same file names, and the same bytes in every file but those that say how the wheel
was built: the compiled extensions (``*.so``: compiled in other build directories, and
auditwheel rewrites a repaired wheel's) must be present in both, and the metadata that
names the wheel's tag or lists its hashes (``WHEEL``, ``RECORD``) is left out. Prints
what it compared; exits 1 naming each difference.
"""

import hashlib
import sys
import zipfile
from pathlib import PurePosixPath

BUILD_SPECIFIC = ("WHEEL", "RECORD")


def contents(path: str) -> dict[str, str]:
    """File name -> sha256 (``""`` for a compiled extension), metadata names left out."""
    found: dict[str, str] = {}
    with zipfile.ZipFile(path) as wheel:
        for info in wheel.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or (name.parent.suffix == ".dist-info"
                                 and name.name in BUILD_SPECIFIC):
                continue
            found[info.filename] = ("" if name.suffix == ".so"
                                    else hashlib.sha256(wheel.read(info)).hexdigest())
    return found


def main(a: str, b: str) -> int:
    left, right = contents(a), contents(b)
    problems = [f"only in {a}: {n}" for n in sorted(left.keys() - right.keys())]
    problems += [f"only in {b}: {n}" for n in sorted(right.keys() - left.keys())]
    problems += [f"differs: {n}" for n in sorted(left.keys() & right.keys())
                 if left[n] != right[n]]
    for line in problems:
        print(line, file=sys.stderr)
    compiled = sum(1 for n in left if n.endswith(".so"))
    print(f"wheels compared: {len(left)} files each, the same names; {len(left) - compiled} "
          f"byte for byte, {compiled} compiled extensions by name"
          if not problems else f"wheels differ: {len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
