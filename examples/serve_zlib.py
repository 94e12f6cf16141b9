"""An asyncio HTTP service that inflates untrusted uploads, a fresh sandbox per request.

``POST /inflate`` with a zlib stream as the body answers ``{"bytes": N, "crc32": C}``
for what it inflates to; a corrupt stream or one inflating past ``--max-output`` is a
400 with the reason, and the service carries on. Each request gets a decompressor of
its own (``sandboxlib.wrapped.zlib.decompressobj``: a new sandbox, started from the
snapshot taken after ``inflateInit``, discarded afterwards), run off the event loop in
a thread (``asyncio.to_thread``) so that other requests go on meanwhile. The loop
enforces a deadline (``--deadline``): a request not done by then is a 503, and its
sandboxed call is stopped (``interrupt()`` from the loop's thread; the call raises in
its thread at its next loop iteration). ``--backend zlib`` runs the same service on
CPython's zlib, unsandboxed (its calls cannot be stopped): the baseline
``benchmarks/serve_load.py`` compares with.

    python examples/serve_zlib.py [--backend wasm2c|wasmtime|native|zlib] [--port 0]
                                  [--deadline 10]

It listens on 127.0.0.1 only and prints ``listening on http://127.0.0.1:PORT`` once
it is ready (port 0: one the system chooses). Needs aiohttp (``pip install
'sandboxlib-wasm[serve]'``).
"""

from __future__ import annotations

import argparse
import asyncio
import zlib
from collections.abc import Callable
from typing import Union

from aiohttp import web

import sandboxlib.wrapped.zlib as sandboxed_zlib
from sandboxlib import SandboxError

HOST = "127.0.0.1"
MAX_UPLOAD = 16 << 20
MAX_OUTPUT = 64 << 20
DEADLINE = 10.0


class SandboxedInflate:
    """One upload's decompressor: a fresh sandbox (from the warm snapshot taken after
    inflateInit), which another thread can stop."""

    def __init__(self, backend: str, max_output: int) -> None:
        self.d = sandboxed_zlib.decompressobj(max_output=max_output, backend=backend)

    def __call__(self, data: bytes) -> bytes:
        out = self.d.decompress(data)
        if not self.d.eof:
            raise sandboxed_zlib.error("incomplete or truncated stream")
        return out

    def interrupt(self) -> bool:
        return self.d.interrupt()


class CPythonInflate:
    """The same on CPython's zlib, which nothing can stop."""

    def __init__(self, max_output: int) -> None:
        self.max_output = max_output

    def __call__(self, data: bytes) -> bytes:
        d = zlib.decompressobj()
        out = d.decompress(data, self.max_output)
        if d.unconsumed_tail:
            raise zlib.error(f"more than {self.max_output} bytes of output")
        if not d.eof:
            raise zlib.error("incomplete or truncated stream")
        return out

    def interrupt(self) -> bool:
        return False


Inflate = Union[SandboxedInflate, CPythonInflate]


def make_app(start: Callable[[], Inflate], deadline: float) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        inflate = start()
        work = asyncio.ensure_future(asyncio.to_thread(inflate, body))
        try:
            out = await asyncio.wait_for(asyncio.shield(work), deadline)
        except TimeoutError:  # stop the call (a sandbox's); it ends with its error
            if inflate.interrupt():
                await asyncio.wait([work])
            work.add_done_callback(lambda done: done.exception())  # nothing waits for it
            return web.json_response({"error": f"not done within {deadline} s"}, status=503)
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
    parser.add_argument("--deadline", type=float, default=DEADLINE,
                        help="seconds a request may take (a sandboxed call is stopped then)")
    args = parser.parse_args()

    def start() -> Inflate:
        if args.backend == "zlib":
            return CPythonInflate(args.max_output)
        return SandboxedInflate(args.backend, args.max_output)
    start()(zlib.compress(b"warm-up"))  # load the module and take its warm snapshot
    try:
        asyncio.run(serve(make_app(start, args.deadline), args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
