"""The dataset spec: one YAML file per dataset drives every stage.

Sections: identity and Dublin Core metadata (Circular 24/2011/TT-BTTTT), the source (typed by
the connector it names), schema hints, cleaning rules, and sections the quality, publication
and labeling stages own.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.base import SourceConfig
from connectors.formats.base import FormatOptions
from connectors.registry import source_config_models

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")
_CRON_ALIASES = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"}


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(
            "must be lowercase letters, digits and single hyphens (2-100 characters, no '/', '.' or "
            f"spaces): {value!r}"
        )
    if "--" in value:
        raise ValueError(f"must not contain '--': {value!r}")
    return value


def _cron(value: str) -> str:
    value = value.strip()
    if value in _CRON_ALIASES:
        return value
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"expected a 5-field cron expression like '0 2 * * *' or @daily, got {value!r}")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Cron = Annotated[str, AfterValidator(_cron)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LocalizedText(StrictModel):
    """Text in Vietnamese (required) and English (recommended)."""

    vi: str = Field(min_length=1)
    en: str | None = None


class Agency(StrictModel):
    """The publishing agency; becomes the CKAN organization."""

    id: Slug
    title: LocalizedText
    url: str | None = None
    email: str | None = None


class DublinCore(StrictModel):
    """Dublin Core elements (Circular 24/2011/TT-BTTTT).

    Required: creator, publisher, date (title, description and identifier come from the spec).
    Recommended: language, source, contributor, subject. Optional: the rest.
    """

    creator: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    date: date
    identifier: str | None = None  # defaults to the catalog URL of the dataset
    language: list[str] = Field(default_factory=lambda: ["vi"])
    source: str | None = None
    contributor: list[str] = Field(default_factory=list)
    subject: list[str] = Field(default_factory=list)
    coverage: str | None = None
    type: str = "Dataset"
    format: str | None = None
    relation: list[str] = Field(default_factory=list)
    rights: str | None = None


ColumnType = Literal["string", "integer", "number", "boolean", "date", "datetime"]


class ColumnHint(StrictModel):
    """What we know about one column, keyed by its cleaned (snake_case) name."""

    type: ColumnType = "string"
    label: str | None = None  # Vietnamese label for the data dictionary (default: original header)
    description: str | None = None
    rename_from: list[str] = Field(default_factory=list)  # original headers that map to this column
    nullable: bool = True
    unique: bool = False
    min: float | None = None
    max: float | None = None
    values: list[Any] | None = None  # allowed values
    admin_unit: Literal["province", "district", "ward"] | None = None
    pii: Literal["mask", "drop", "keep"] | None = None  # overrides cleaning.pii for this column

    @field_validator("rename_from", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class SchemaHints(StrictModel):
    columns: dict[str, ColumnHint] = Field(default_factory=dict)
    primary_key: list[str] = Field(default_factory=list)
    # "1.234,5" (vi) or "1,234.5" (en), for numbers that arrive as text; None: detected per column
    locale: Literal["vi", "en"] | None = None
    day_first: bool = True  # dd/mm/yyyy, the Vietnamese default

    @model_validator(mode="after")
    def _keys_are_columns(self) -> SchemaHints:
        if self.columns:
            missing = [k for k in self.primary_key if k not in self.columns]
            if missing:
                raise ValueError(f"primary_key names columns not listed under columns: {missing}")
        return self


class CleaningRules(StrictModel):
    null_tokens: list[str] | None = None  # default: the cleaning library's Vietnamese-aware list
    trim: bool = True
    deduplicate: bool = True  # on the primary key (or whole rows without one)
    pii: Literal["mask", "drop", "keep"] = "mask"  # for detected PII without a column hint
    max_rejected_ratio: float = Field(0.2, ge=0, le=1)  # more bad rows than this fails the run


def _source_union() -> Any:
    models = source_config_models()
    if not models:
        return dict[str, Any]
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007 - built at runtime


if TYPE_CHECKING:
    SourceSpec = SourceConfig
else:
    SourceSpec = _source_union()


class DatasetSpec(StrictModel):
    """One dataset, from source to catalog."""

    id: Slug
    agency: Agency
    title: LocalizedText
    description: LocalizedText
    dublin_core: DublinCore
    license: str = "cc-by"  # CKAN license id
    update_frequency: Cron = "@daily"
    tags: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)  # CKAN groups
    synthetic: bool = False  # generated data: said so in the catalog entry
    source: SourceSpec
    format: FormatOptions = FormatOptions()
    schema_: SchemaHints = Field(SchemaHints(), alias="schema")
    cleaning: CleaningRules = CleaningRules()
    # Owned by later stages; validated there.
    quality: dict[str, Any] = Field(default_factory=dict)
    publication: dict[str, Any] = Field(default_factory=dict)
    labeling: dict[str, Any] = Field(default_factory=dict)
