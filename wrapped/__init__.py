"""Sandboxed real libraries, drop-in for Python's own modules: ``wrapped.zlib``,
``wrapped.expat``. Each is generated from a spec file beside it on first use, and
adds its workload to ``sandboxlib bench`` (entry-point group ``sandboxlib.bench``)."""
