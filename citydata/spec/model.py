"""The dataset spec: one YAML file per dataset drives every stage.

Sections: identity and Dublin Core metadata (Circular 24/2011/TT-BTTTT), the source (typed by
the connector it names), schema hints, cleaning rules, and sections the quality, publication
and labeling stages own.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from citydata.spec.formats import FormatOptions
from citydata.spec.licenses import LICENSE_IDS, check_license
from citydata.spec.sources import SourceConfig, on_register, source_union

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


# The JSON Schema (datasets/spec.schema.json) states what the validators check, for editors.
Slug = Annotated[str, AfterValidator(_slug), WithJsonSchema({"type": "string", "pattern": SLUG_RE.pattern})]
Cron = Annotated[str, AfterValidator(_cron)]
License = Annotated[
    str, AfterValidator(check_license), WithJsonSchema({"type": "string", "enum": list(LICENSE_IDS)})
]
OneOrMany = Annotated[
    list[str],
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LocalizedText(StrictModel):
    """Text in Vietnamese (required) and English (recommended)."""

    vi: str = Field(min_length=1, description="Vietnamese text.")
    en: str | None = Field(None, description="English text (recommended).")


class Agency(StrictModel):
    """The publishing agency; becomes the CKAN organization."""

    id: Slug = Field(description="Agency slug (lowercase, digits, hyphens); the CKAN organization name.")
    title: LocalizedText = Field(description="Agency name.")
    url: str | None = Field(None, description="Agency web site.")
    email: str | None = Field(None, description="Contact e-mail of the agency.")


class DublinCore(StrictModel):
    """Dublin Core elements (Circular 24/2011/TT-BTTTT).

    Required: creator, publisher, date (title, description and identifier come from the spec).
    Recommended: language, source, contributor, subject. Optional: the rest.
    """

    creator: str = Field(min_length=1, description="Who made the data (an agency or unit).")
    publisher: str = Field(min_length=1, description="Who publishes it.")
    date: dt.date = Field(description="Date of the data (YYYY-MM-DD).")
    identifier: str | None = Field(None, description="Identifier; default: the dataset's catalog URL.")
    language: list[str] = Field(default_factory=lambda: ["vi"], description="Languages of the data.")
    source: str | None = Field(None, description="Where the data comes from.")
    contributor: list[str] = Field(default_factory=list, description="Other contributors.")
    subject: list[str] = Field(default_factory=list, description="Subject keywords.")
    coverage: str | None = Field(None, description="Place or period covered.")
    type: str = Field("Dataset", description="Dublin Core type.")
    format: str | None = Field(None, description="File format, when it matters.")
    relation: list[str] = Field(default_factory=list, description="Related resources (URLs or ids).")
    rights: str | None = Field(None, description="Rights statement, beside the licence.")


ColumnType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
PiiAction = Literal["mask", "drop", "keep"]


class ColumnHint(StrictModel):
    """What we know about one column, keyed by its cleaned (snake_case) name."""

    type: ColumnType = Field("string", description="Type of the cleaned values.")
    label: str | None = Field(
        None, description="Vietnamese label for the data dictionary (default: the original header)."
    )
    description: str | None = Field(None, description="Meaning of the column, for the data dictionary.")
    rename_from: OneOrMany = Field(
        default_factory=list, description="Original headers that map to this column (one or a list)."
    )
    nullable: bool = Field(True, description="false: a row without a value is rejected.")
    unique: bool = Field(False, description="Values must be unique (a quality expectation).")
    min: float | None = Field(None, description="Smallest allowed value (numbers).")
    max: float | None = Field(None, description="Largest allowed value (numbers).")
    values: list[Any] | None = Field(None, description="Allowed values.")
    admin_unit: Literal["province", "district", "ward"] | None = Field(
        None, description="An administrative unit: adds official post-2025 province and ward codes and names."
    )
    pii: PiiAction | None = Field(None, description="Personal data in this column; overrides cleaning.pii.")

    @field_validator("rename_from", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class SchemaHints(StrictModel):
    """Column hints; every key and column a spec names is checked against them when listed."""

    columns: dict[str, ColumnHint] = Field(
        default_factory=dict, description="Hints per column, keyed by the cleaned (snake_case) name."
    )
    primary_key: list[str] = Field(
        default_factory=list, description="Columns that identify a row; repeated keys are quarantined."
    )
    locale: Literal["vi", "en"] | None = Field(
        None,
        description="Numbers written as text: 1.234,5 (vi) or 1,234.5 (en); detected per column when absent.",
    )
    day_first: bool = Field(True, description="Dates as dd/mm/yyyy (the Vietnamese default).")


class CleaningRules(StrictModel):
    """How the clean stage treats values and bad rows."""

    null_tokens: list[str] | None = Field(
        None,
        description="Values read as empty; default: a Vietnamese-aware list ('', 'N/A', '-'...).",
    )
    trim: bool = Field(True, description="Trim text and make whitespace runs one space.")
    deduplicate: bool = Field(
        True, description="Quarantine repeated primary keys (or whole rows without one)."
    )
    pii: PiiAction = Field(
        "mask", description="What to do with detected personal data without a column hint."
    )
    max_rejected_ratio: float = Field(
        0.2, ge=0, le=1, description="More rejected rows than this share fails the run."
    )


if TYPE_CHECKING:
    SourceSpec = SourceConfig


class DatasetSpec(StrictModel):
    """One dataset, from source to catalog."""

    id: Slug = Field(description="Dataset id: lowercase, digits, hyphens; the file name and the CKAN name.")
    agency: Agency = Field(description="The publishing agency (the CKAN organization).")
    title: LocalizedText = Field(description="Dataset title.")
    description: LocalizedText = Field(description="What the dataset holds.")
    dublin_core: DublinCore = Field(description="Dublin Core metadata (Circular 24/2011/TT-BTTTT).")
    license: License = Field("cc-by", description="CKAN licence id (CKAN 2.12's default list).")
    update_frequency: Cron = Field("@daily", description="When to pull: 5-field cron or @daily, @weekly...")
    tags: list[str] = Field(default_factory=list, description="CKAN tags.")
    topics: list[str] = Field(default_factory=list, description="CKAN groups.")
    synthetic: bool = Field(False, description="Generated data: the catalog entry says so.")
    source: SourceSpec = Field(description="Where the data comes from; `type` selects the source type.")
    format: FormatOptions = Field(FormatOptions(), description="How to read the files; detected when absent.")
    schema_: SchemaHints = Field(
        SchemaHints(), alias="schema", description="Column hints and the primary key."
    )
    cleaning: CleaningRules = Field(CleaningRules(), description="Cleaning rules.")
    # Owned by later stages (quality/spec.py, catalog/spec.py, labeling/spec.py); validated there.
    quality: dict[str, Any] = Field(default_factory=dict, description="Quality gate (quality/spec.py).")
    publication: dict[str, Any] = Field(
        default_factory=dict, description="Lake and catalog publication (catalog/spec.py)."
    )
    labeling: dict[str, Any] = Field(
        default_factory=dict, description="Label Studio tasks (labeling/spec.py)."
    )


def _complete_source_union() -> None:
    """`source:` accepts the registered source types (citydata.spec.sources); until then the
    model is incomplete and validating a spec says so."""
    DatasetSpec.model_rebuild(_types_namespace={"SourceSpec": source_union()})


on_register(_complete_source_union)
