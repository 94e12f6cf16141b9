"""The code generator: C headers to a typed proxy package, in stages.

``preprocess`` runs zig's ``cc -E`` for wasm32 and cleans GNU extensions;
``parse`` turns the pycparser AST into the IR (``ir``: plain dataclasses, with the
``#define`` constants that ``macros`` evaluates); ``lower`` maps IR types to the
runtime's (``abi``) types and says why what cannot cross the boundary is skipped;
``plan`` decides what the package contains and under which Python names (the rename
rule of ``names``, the spec's ``annotations`` and their ``helpers``); ``emit_py`` and
``emit_pyi`` write the proxy module and its stubs from the plan, laid out by
``formatting``. Each stage imports only earlier ones. ``generate`` runs them and
builds the module; ``spec`` reads spec files and ``packages`` generates packages on
first import. None of it imports the runtime, the backends or the compiled boundary
(what a generated class must not redefine is data in ``names``). Import the
submodules: this package imports nothing.
"""
