"""Plugin discovery: every concrete subclass of a base class defined in a package's modules.

Services, source connectors and file formats are each "one module, one class": adding one
means adding a file, with no list to edit.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Collection
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")


def discover(package: ModuleType, base: type[T], skip: Collection[str] = ()) -> list[type[T]]:
    """Concrete subclasses of `base` defined in the modules of `package` (not imported ones)."""
    found: list[type[T]] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in skip or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, base)
                and obj is not base
                and obj.__module__ == module.__name__
                and not inspect.isabstract(obj)
            ):
                found.append(obj)
    return found
