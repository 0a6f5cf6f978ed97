"""Dagster pipelines of citydata; the code location loads `pipelines.defs`."""

from pipelines.definitions import defs

__all__ = ["defs"]
