"""The `publication` section of a dataset spec (owned by the publish stage).

publication:
  private: false          # true: catalog entry and files visible to authorised users only
  keep_versions: 5        # versions kept in the lake (older ones deleted)
  part_rows: 1000000      # rows per Parquet part
  csv: true               # a CSV download beside the Parquet
  csv_bom: true           # UTF-8 BOM in the CSV: Excel opens it right on a double-click
  xlsx: true              # an Excel workbook (rows + data dictionary) when the version fits in a sheet
  xlsx_max_rows: 200000   # no workbook above this many rows (bounds build time; Excel's own: 1048575)
  datastore: true         # load rows into the CKAN DataStore (preview, datastore_search)
  datastore_rows: null    # cap on rows in the DataStore (preview, API); null = every row (files: always all)
  require_quality: false  # refuse to publish a pull without a quality summary
  contact: {name: "Phòng Dữ liệu", email: "dulieu@example.gov.vn", url: "https://..."}
  temporal: {start: 2024-01-01, end: 2024-12-31}
  spatial: "Thành phố Hồ Chí Minh"   # default: dublin_core.coverage
  themes: [TRAN]          # EU data themes (codes or URIs) -> DCAT-AP dcat:theme
  landing_page: https://example.gov.vn/bai-giu-xe
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from citydata.spec.model import DatasetSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    name: str | None = Field(None, description="Contact person or unit.")
    email: str | None = Field(None, description="Contact e-mail.")
    url: str | None = Field(None, description="Contact page.")


class Temporal(_Strict):
    start: date | None = Field(None, description="First date the data covers.")
    end: date | None = Field(None, description="Last date the data covers.")

    @model_validator(mode="after")
    def _ordered(self) -> Temporal:
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        return self


class PublicationSpec(_Strict):
    private: bool = Field(False, description="Catalog entry and files visible to authorised users only.")
    keep_versions: int = Field(
        5, ge=1, le=1000, description="Versions kept in the lake (older ones deleted)."
    )
    part_rows: int = Field(1_000_000, ge=1, description="Rows per Parquet part.")
    csv: bool = Field(True, description="A CSV download beside the Parquet.")
    csv_bom: bool = True  # most agency staff and citizens open a CSV by double-clicking it in Excel
    xlsx: bool = Field(
        True, description="An Excel workbook (rows, data dictionary) when the version fits in a sheet."
    )
    xlsx_max_rows: int = Field(
        200_000, ge=0, le=1_048_575,
        description="No workbook above this many rows (bounds build time; Excel's limit: 1048575).",
    )  # fmt: skip
    datastore: bool = Field(True, description="Load the rows into the CKAN DataStore (preview, API).")
    datastore_rows: int | None = Field(None, ge=0, description="Cap on DataStore rows; none: every row.")
    require_quality: bool = Field(False, description="Refuse to publish a pull without a quality summary.")
    contact: Contact | None = Field(None, description="Contact point (DCAT-AP).")
    temporal: Temporal | None = Field(None, description="Period the data covers.")
    spatial: str | None = Field(None, description="Place the data covers; default: dublin_core.coverage.")
    themes: list[str] = Field(
        default_factory=list, description="EU data themes (codes or URIs), DCAT-AP dcat:theme."
    )
    landing_page: str | None = Field(None, description="The dataset's page on the agency's site.")


class PublicationSpecError(ValueError):
    def __init__(self, dataset: str, problems: list[str]) -> None:
        super().__init__(f"{dataset}: invalid publication section: " + "; ".join(problems))
        self.problems = problems


def _problems(exc: ValidationError, section: str) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in (section, *err["loc"]))
        out.append(f"{where}: {err['msg']}")
    return out


def parse_publication(spec: DatasetSpec) -> PublicationSpec:
    try:
        return PublicationSpec.model_validate(spec.publication or {})
    except ValidationError as exc:
        raise PublicationSpecError(spec.id, _problems(exc, "publication")) from exc


def validate_publication_section(spec: DatasetSpec) -> list[str]:
    """Problems with `spec.publication`, each naming its field (`publication.part_rows: ...`)."""
    try:
        PublicationSpec.model_validate(spec.publication or {})
    except ValidationError as exc:
        return _problems(exc, "publication")
    return []


def example() -> dict[str, Any]:
    return PublicationSpec().model_dump(mode="json")
