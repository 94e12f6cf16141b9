"""A drop-in's generated package, as its ``_package`` module."""

from __future__ import annotations

import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from sandboxlib.codegen.packages import load_generated


class GeneratedPackage:
    """The ``__getattr__`` of a drop-in's ``_package`` module::

        __getattr__ = GeneratedPackage(globals(), "zlib.toml")

    The first name read from the module (``_package.sandbox``, a constant, a struct)
    loads the package generated from the spec beside it (``load_generated``) and
    copies its names into the module, where later reads find them directly."""

    def __init__(self, namespace: dict[str, Any], spec_name: str) -> None:
        self.namespace = namespace
        self.spec = Path(namespace["__file__"]).with_name(spec_name)
        self._package: ModuleType | None = None
        self._lock = threading.Lock()

    def load(self) -> ModuleType:
        """The generated package (loaded once; its names copied into the module)."""
        with self._lock:
            if self._package is None:
                package = load_generated(self.spec)
                self.namespace.update({k: v for k, v in vars(package).items()
                                       if not k.startswith("__")})
                self._package = package
            return self._package

    def __call__(self, name: str) -> Any:
        if not name.startswith("__"):  # dunder probes (copy, pickle, help) load nothing
            self.load()
            if name in self.namespace:
                return self.namespace[name]
        raise AttributeError(f"module {self.namespace['__name__']!r} has no attribute {name!r}")
