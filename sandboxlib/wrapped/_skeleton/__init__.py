"""What every drop-in is built from (``sandboxlib.wrapped.zlib``, ``.expat``, ``.lz4``,
``.stb_image``, and the next ones):

- ``NAME.toml``, the spec its package is generated from, and ``_package.py``, two lines
  that make that package the drop-in's ``_package`` module (``GeneratedPackage``:
  shipped in a wheel, else generated into the cache on first use); ``_package.pyi`` is
  the stub the generator wrote for it, kept beside it (a test checks they are equal), so
  that mypy checks the drop-in's calls against the C signatures.
- ``_package.sandbox(backend, limits=...)``, the one sandbox factory: a fresh sandbox on
  the backend ``resolve_backend`` chooses (the argument, else ``$SANDBOXLIB_BACKEND``,
  else wasmtime), typed as the generated proxy.
- For module-level functions, ``PerThread``: one sandbox per thread and backend (a
  ``Kept`` of the proxy and what the drop-in set up in it), reused, replaced after a
  failure, never shared by a re-entered call or with a forked child.
"""

from __future__ import annotations

from sandboxlib.runtime.backend_name import resolve_backend

from .package import GeneratedPackage
from .per_thread import Kept, PerThread

__all__ = ["GeneratedPackage", "Kept", "PerThread", "resolve_backend"]
