"""The spec's `source:` section: the base of every source type's config, and the registry the
connectors register their configs into.

The spec model knows no source type itself: each module of `connectors/sources/` defines a
`SourceConfig` subclass (its `type` a Literal) and `connectors` registers them all when it is
imported (`connectors.registry.register_sources`). Registering completes the spec model's
`source:` union, so a new source type is one new file and no edit here or in the spec model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field


class SourceConfig(BaseModel):
    """Base of every connector's config; `type` selects the connector."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str


_MODELS: dict[str, type[SourceConfig]] = {}
_LISTENERS: list[Callable[[], None]] = []


class NoSourceTypes(RuntimeError):
    """A spec was validated before any source type was registered."""


def _tag(model: type[SourceConfig]) -> str:
    annotation = model.model_fields["type"].annotation
    if get_origin(annotation) is not Literal or len(get_args(annotation)) != 1:
        raise TypeError(f"{model.__name__}.type must be a Literal of one value, got {annotation!r}")
    return str(get_args(annotation)[0])


def register_sources(models: Iterable[type[SourceConfig]]) -> None:
    """Make `models` the valid `source:` types of specs (each one's `type` value selects it).

    Called once, by `connectors` when it is imported: pydantic resolves the spec model's union
    once, so a second call raises instead of being silently ignored.
    """
    if _MODELS:
        raise RuntimeError("source types are registered once, by importing `connectors`")
    for model in models:
        tag = _tag(model)
        if tag in _MODELS:
            raise RuntimeError(
                f"two source configs claim type {tag!r}: {_MODELS[tag].__name__}, {model.__name__}"
            )
        _MODELS[tag] = model
    for rebuild in _LISTENERS:
        rebuild()


def source_models() -> tuple[type[SourceConfig], ...]:
    return tuple(_MODELS.values())


def source_union() -> Any:
    """The `source:` field's type: a union of the registered configs, told apart by `type`."""
    models = source_models()
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007 - built at runtime


def on_register(rebuild: Callable[[], None]) -> None:
    """Call `rebuild` once the source types are registered (now, if they are)."""
    _LISTENERS.append(rebuild)
    if _MODELS:
        rebuild()


def require_sources() -> None:
    """A clear error instead of a confusing validation one when nothing registered source types."""
    if not _MODELS:
        raise NoSourceTypes(
            "no source types are registered: import `connectors` (which registers connectors/sources/) "
            "before loading specs"
        )
