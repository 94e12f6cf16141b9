"""Sources of the checked callers and callback targets the sandbox generates per
signature shape (straight-line Python, compiled once by ``specialize.factory``)."""

from __future__ import annotations

from ..abi import CType, FuncPtr, Ptr


CALL_FREE = ("sb", "raw", "conv", "lo", "hi", "acquire", "release", "busy", "escaped", "name",
              "origin", "Tainted", "lift", "arity")


def param_shape(t: CType) -> str:
    """How a generated caller checks a parameter: i(nt) inline, c(onverter), p(ointer)."""
    if isinstance(t, (Ptr, FuncPtr)):
        return "p"
    return "i" if t.is_integer else "c"


def call_source(shape: tuple[str, ...], plain_result: bool) -> str:
    """Source of a checked caller: usable-check, inline int range checks (the
    converter only on the slow path), lock, raw call, poisoning, tainted result."""
    args = [f"a{i}" for i in range(len(shape))]
    temps = "p" in shape
    lines = ["def fn(*args):",
             f"    if len(args) != {len(shape)}:",
             "        arity(len(args))",
             f"    {', '.join(args)}{',' if len(args) == 1 else ''} = args" if args else "",
             "    if sb._poisoned is not None or sb._closed:",
             "        sb._check_usable()",
             "    if sb._borrowed:",
             "        sb._release_borrowed()"]
    indent = "    "
    if temps:  # data copied in for the call lives in the scratch area, or in temps
        lines += ["    temps = []", "    mark = sb._scratch_top", "    try:"]
        indent = "        "
    for i, kind in enumerate(shape):
        if kind == "i":
            lines.append(f"{indent}if type(a{i}) is not int or not lo[{i}] <= a{i} <= hi[{i}]:")
            lines.append(f"{indent}    a{i} = conv[{i}](a{i}, None)")
        else:
            lines.append(f"{indent}a{i} = conv[{i}](a{i}, {'temps' if kind == 'p' else 'None'})")
    lines += [f"{indent}if not acquire(False):",
              f"{indent}    busy()",
              f"{indent}try:",
              f"{indent}    r = raw({', '.join(args)})",
              f"{indent}except BaseException as exc:",
              f"{indent}    raise escaped(name, exc) from None",
              f"{indent}finally:",
              f"{indent}    release()",
              f"{indent}return {'Tainted(r, origin)' if plain_result else 'lift(r)'}"]
    if temps:
        lines += ["    finally:",
                  "        sb._scratch_top = mark",
                  "        for t in temps:",
                  "            t.free()"]
    return "\n".join(lines)


CALLBACK_FREE = ("sb", "call", "lifts", "max_depth", "too_deep", "poisoned", "finish")


def callback_source(arity: int, has_result: bool) -> str:
    """Source of a callback target: depth limit, arguments lifted to tainted values
    (straight-line, no per-call loop), poison check, result conversion."""
    args = ", ".join(f"a{i}" for i in range(arity))
    lifted = ", ".join(f"lifts[{i}](a{i})" for i in range(arity))
    return "\n".join([
        f"def fn({args}):",
        "    depth = sb._callback_depth",
        "    if depth >= max_depth:",
        "        too_deep(depth)",
        "    sb._callback_depth = depth + 1",
        "    try:",
        f"        value = call({lifted})",
        "    finally:",
        "        sb._callback_depth -= 1",
        "    if sb._poisoned is not None:",
        "        poisoned()",
        "    return finish(value)" if has_result else "    return None"])
