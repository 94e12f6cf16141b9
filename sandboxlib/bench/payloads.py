"""Deterministic inputs of the bulk workloads (the drop-ins' and the corpus's)."""

from __future__ import annotations

import random

SIZE = 1 << 20


def text_like(size: int = SIZE, seed: int = 1) -> bytes:
    """Text-like data (words, punctuation, some numbers): compresses to about 35%."""
    rng = random.Random(seed)
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 10)))
             for _ in range(2000)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + rng.choice([b" ", b" ", b" ", b", ", b".\n"])
        if rng.random() < 0.02:
            out += str(rng.randint(0, 99999)).encode() + b" "
    return bytes(out[:size])
