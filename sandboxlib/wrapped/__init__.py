"""Sandboxed real libraries: drop-in for Python's own modules (``sandboxlib.wrapped.zlib``,
``sandboxlib.wrapped.expat``), lz4's block format as python-lz4 offers it
(``sandboxlib.wrapped.lz4``), and image decoding (``sandboxlib.wrapped.stb_image``).
Each is generated from a spec file beside it (shipped with a wheel, else on first use),
and adds its workload to ``sandboxlib bench`` (entry-point group ``sandboxlib.bench``)."""
