"""Discovers connectors in `connectors/sources/`: one module, one source type."""

from __future__ import annotations

from functools import cache

import connectors.sources
from citydata.plugins import discover
from citydata.spec import sources as spec_sources
from connectors.base import Connector, SourceConfig


@cache
def connector_classes() -> dict[str, type[Connector]]:  # type: ignore[type-arg]
    found: dict[str, type[Connector]] = {}  # type: ignore[type-arg]
    for cls in discover(connectors.sources, Connector):
        if cls.type in found:
            raise RuntimeError(f"two connectors claim source type {cls.type!r}")
        found[cls.type] = cls
    return found


def register_sources() -> None:
    """Every connector's config becomes a valid `source:` of specs (citydata.spec.sources)."""
    spec_sources.register_sources(c.config_model for c in connector_classes().values())


def connector_for(config: SourceConfig) -> type[Connector]:  # type: ignore[type-arg]
    try:
        return connector_classes()[config.type]
    except KeyError:
        known = ", ".join(sorted(connector_classes()))
        raise ValueError(f"unknown source type {config.type!r} (known: {known})") from None
