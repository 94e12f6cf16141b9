"""An asyncio HTTP service that inflates untrusted uploads, a fresh sandbox per request.

``POST /inflate`` with a zlib stream as the body answers ``{"bytes": N, "crc32": C}``
for what it inflates to; a corrupt stream or one inflating past ``--max-output`` is a
400 with the reason, and the service carries on. Each request gets a decompressor of
its own (``sandboxlib.wrapped.zlib.decompressobj``: a new sandbox from the
pre-initialized image, discarded afterwards), run off the event loop in a thread
(``asyncio.to_thread``) so that other requests go on meanwhile. ``--backend zlib`` runs
the same service on CPython's zlib, unsandboxed: the baseline
``benchmarks/serve_load.py`` compares with.

    python examples/serve_zlib.py [--backend wasm2c|wasmtime|native|zlib] [--port 0]

It listens on 127.0.0.1 only and prints ``listening on http://127.0.0.1:PORT`` once
it is ready (port 0: one the system chooses). Needs aiohttp (``pip install
'sandboxlib-wasm[serve]'``).
"""

from __future__ import annotations

import argparse
import asyncio
import zlib
from collections.abc import Callable

from aiohttp import web

import sandboxlib.wrapped.zlib as sandboxed_zlib
from sandboxlib import SandboxError

HOST = "127.0.0.1"
MAX_UPLOAD = 16 << 20
MAX_OUTPUT = 64 << 20


def sandboxed_inflater(backend: str, max_output: int) -> Callable[[bytes], bytes]:
    def inflate(data: bytes) -> bytes:
        d = sandboxed_zlib.decompressobj(max_output=max_output, backend=backend)
        out = d.decompress(data)
        if not d.eof:
            raise sandboxed_zlib.error("incomplete or truncated stream")
        return out
    return inflate


def cpython_inflater(max_output: int) -> Callable[[bytes], bytes]:
    def inflate(data: bytes) -> bytes:
        d = zlib.decompressobj()
        out = d.decompress(data, max_output)
        if d.unconsumed_tail:
            raise zlib.error(f"more than {max_output} bytes of output")
        if not d.eof:
            raise zlib.error("incomplete or truncated stream")
        return out
    return inflate


def make_app(inflate: Callable[[bytes], bytes]) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            out = await asyncio.to_thread(inflate, body)
        except (zlib.error, SandboxError) as exc:  # a bad upload: its sandbox is gone
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"bytes": len(out), "crc32": zlib.crc32(out)})

    app = web.Application(client_max_size=MAX_UPLOAD)
    app.router.add_post("/inflate", handle)
    return app


async def serve(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, port)
    await site.start()
    print(f"listening on http://{HOST}:{runner.addresses[0][1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="wasm2c",
                        choices=["wasm2c", "wasmtime", "native", "zlib"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-output", type=int, default=MAX_OUTPUT)
    args = parser.parse_args()
    inflate = (cpython_inflater(args.max_output) if args.backend == "zlib"
               else sandboxed_inflater(args.backend, args.max_output))
    inflate(zlib.compress(b"warm-up"))  # load the module before the first request
    try:
        asyncio.run(serve(make_app(inflate), args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
