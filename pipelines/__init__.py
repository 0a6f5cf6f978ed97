"""Dagster pipelines of citydata; the code location loads `pipelines.defs`.

`defs` is built on first access, so modules of this package (the CLI imports `spec_checks`,
`run_launcher`, `preview`) do not load every dataset's assets when imported.
"""

from typing import Any

__all__ = ["defs"]


def __getattr__(name: str) -> Any:
    if name == "defs":
        from pipelines.definitions import defs

        return defs
    raise AttributeError(f"module 'pipelines' has no attribute {name!r}")
