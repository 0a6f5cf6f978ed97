"""Plugin discovery: every concrete subclass of a base class defined in a package's modules.

Services, source connectors and file formats are each "one module, one class": adding one
means adding a file, with no list to edit. A plugin too large for one module can be a package
instead: its classes may live in its submodules, and those its ``__init__`` imports count.
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
    """Concrete subclasses of `base` defined in the modules of `package` (not imported ones).

    For a subpackage, the classes its ``__init__`` holds that are defined in it or in its own
    submodules (``formats.csv`` exporting ``formats.csv.reader.CsvReader``).
    """
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
                and _defined_in(obj, module.__name__, info.ispkg)
                and not inspect.isabstract(obj)
            ):
                found.append(obj)
    return found


def _defined_in(cls: type, module: str, ispkg: bool) -> bool:
    """Is ``cls`` defined in ``module`` (or, for a package, in one of its submodules)?"""
    return cls.__module__ == module or (ispkg and cls.__module__.startswith(f"{module}."))
