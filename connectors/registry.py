"""Discovers connectors in `connectors/sources/`: one module, one source type."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import connectors.sources
from connectors.base import Connector, SourceConfig


@cache
def connector_classes() -> dict[str, type[Connector]]:  # type: ignore[type-arg]
    found: dict[str, type[Connector]] = {}  # type: ignore[type-arg]
    for info in pkgutil.iter_modules(connectors.sources.__path__):
        module = importlib.import_module(f"connectors.sources.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Connector)
                and obj is not Connector
                and obj.__module__ == module.__name__
            ):
                if obj.type in found:
                    raise RuntimeError(f"two connectors claim source type {obj.type!r}")
                found[obj.type] = obj
    return found


def source_config_models() -> tuple[type[SourceConfig], ...]:
    return tuple(c.config_model for c in connector_classes().values())


def connector_for(config: SourceConfig) -> type[Connector]:  # type: ignore[type-arg]
    try:
        return connector_classes()[config.type]
    except KeyError:
        known = ", ".join(sorted(connector_classes()))
        raise ValueError(f"unknown source type {config.type!r} (known: {known})") from None
