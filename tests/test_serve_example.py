"""examples/serve_zlib.py, the service benchmarks/serve_load.py loads: it answers what an
upload inflates to, turns corrupt uploads and bombs into 400s, and carries on."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from libs import ROOT

SERVER = ROOT / "examples" / "serve_zlib.py"


@contextmanager
def running(*args: str) -> Iterator[str]:
    """The service's address, while it runs with ``args``."""
    proc = subprocess.Popen([sys.executable, str(SERVER), "--port", "0", *args],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(params=["wasm2c", "wasmtime", "zlib"])
def service(request: pytest.FixtureRequest) -> Iterator[str]:
    with running("--backend", request.param, "--max-output", str(1 << 20)) as url:
        yield url


def post(url: str, body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url + "/inflate", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_service_inflates_rejects_and_carries_on(service: str) -> None:
    text = b"".join(b"line %d of an upload\n" % i for i in range(20_000))
    blob = zlib.compress(text)
    assert post(service, blob) == (200, {"bytes": len(text), "crc32": zlib.crc32(text)})
    corrupt = blob[:100] + bytes([blob[100] ^ 0xFF]) + blob[101:]
    for bad in (corrupt, blob[: len(blob) // 2], zlib.compress(bytes(4 << 20))):
        status, answer = post(service, bad)
        assert status == 400 and answer["error"], answer
    assert post(service, blob) == (200, {"bytes": len(text), "crc32": zlib.crc32(text)})


@pytest.mark.parametrize("backend", ["wasm2c", "zlib"])
def test_a_request_past_its_deadline_is_a_503_and_the_service_carries_on(backend: str) -> None:
    blob = zlib.compress(bytes(8 << 20))
    with running("--backend", backend, "--deadline", "0") as url:
        for _ in range(3):
            status, answer = post(url, blob)
            assert status == 503 and "not done within 0.0 s" in str(answer["error"]), answer
