"""Sandboxed real libraries: drop-in for Python's own modules (``sandboxlib.wrapped.zlib``,
``sandboxlib.wrapped.expat``), lz4's block format as python-lz4 offers it
(``sandboxlib.wrapped.lz4``), and image decoding (``sandboxlib.wrapped.stb_image``).
Each is built on one skeleton (``_skeleton``): a package generated from a spec file beside
it (shipped with a wheel, else generated on first use) and typed by its generated stub, the
one backend rule, a sandbox per thread for module-level functions; each adds its workload
to ``sandboxlib bench`` (entry-point group ``sandboxlib.bench``)."""
