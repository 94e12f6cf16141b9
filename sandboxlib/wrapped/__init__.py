"""Sandboxed real libraries, drop-in for Python's own modules: ``sandboxlib.wrapped.zlib``,
``sandboxlib.wrapped.expat``, and lz4's block format as python-lz4 offers it: ``sandboxlib.wrapped.lz4``.
Each is generated from a spec file beside it on first use, and
adds its workload to ``sandboxlib bench`` (entry-point group ``sandboxlib.bench``)."""
