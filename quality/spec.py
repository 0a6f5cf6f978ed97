"""The `quality` section of a dataset spec, and the expectation plan derived from it.

    quality:
      partial_publication: false   # true: publish the rows that pass, quarantine the others
      defaults: true               # derive expectations from the schema hints (see below)
      expectations:                # any GX 1.x expectation, by snake_case or class name
        - type: expect_column_values_to_be_between
          args: {column: suc_chua, min_value: 0, max_value: 5000, mostly: 0.99}
          severity: error          # error (blocks promotion) or warn (reported, promoted)
          description: Sức chứa hợp lý
      plausibility: true           # automatic range / code checks by column meaning (see below)
      drift: {max_ratio: 10, acknowledge: [dien_tich_km2]}   # vs the published version

Derived from `schema` (severity error unless noted):
    every hinted column     expect_column_values_to_be_of_type (str, int64, float64, bool, datetime64;
                            float64 for an integer column with nulls: pandas holds it so)
    nullable: false, key    expect_column_values_to_not_be_null
    unique: true, 1-col key expect_column_values_to_be_unique
    multi-column key        expect_compound_columns_to_be_unique
    min / max (numbers)     expect_column_values_to_be_between
    values                  expect_column_values_to_be_in_set
    admin_unit columns      province_code in the 34 official codes; ward_code matches ^\\d{5}$
                            (the 3,321-code ward set costs GX ~0.5 s per run; the regex is free);
                            admin_conflict null (warn: the two reference lists, or the row's own
                            code, disagree with the published code; reported, not blocking)
    hinted column absent    expect_column_to_exist (error when required, else warn)

Automatic (`quality.plausibility`, from the column's name, header label and Arrow type; see
`quality.plausibility`): coordinates inside Viet Nam, admin codes in the official lists, dates
after 1800, percentages 0-100. Comparison with the previous published version (`quality.drift`)
is not a GX expectation: see `quality.drift`.

This module does not import Great Expectations unless a spec lists explicit expectations.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from citydata.spec.model import DatasetSpec
from cleaning.admin_units import ADMIN_COLUMNS

if TYPE_CHECKING:
    from quality.plausibility import ColumnFacts

Severity = Literal["error", "warn"]

PANDAS_TYPES = {
    "string": "str",
    "integer": "int64",
    "number": "float64",
    "boolean": "bool",
    "date": "datetime64",
    "datetime": "datetime64",
}
ADMIN_DERIVED = ADMIN_COLUMNS  # added by cleaning when a column is an administrative unit
COLUMN_ARGS = ("column", "column_A", "column_B")
# Owned by the runner: a spec must not set them through `args`.
RESERVED_ARGS = {
    "severity", "result_format", "catch_exceptions", "id", "meta", "rendered_content", "batch_id",
}  # fmt: skip
_REGEX_ARGS = ("regex", "regex_list")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectationSpec(_Strict):
    """One expectation: its GX name, its arguments and what a failure means."""

    type: str = Field(
        min_length=1,
        description="GX 1.x expectation, e.g. expect_column_values_to_be_between (or its class name).",
    )
    args: dict[str, Any] = Field(
        default_factory=dict, description="The expectation's arguments (column, min_value...)."
    )
    severity: Severity = Field("error", description="error blocks publication; warn is reported.")
    description: str | None = Field(None, description="Shown in the quality report.")


class DriftSpec(_Strict):
    """Comparison with the previous published version (quality.drift)."""

    max_ratio: float = Field(
        10.0, gt=1, description="A statistic changing more than this many times is drift."
    )
    # columns whose drift is expected (a new unit...): their outcomes pass, with a note; remove them
    # once that version is published, or later drift of those columns passes unnoticed
    acknowledge: list[str] = Field(
        default_factory=list, description="Columns whose drift is expected; remove them once published."
    )


class QualitySpec(_Strict):
    expectations: list[ExpectationSpec] = Field(default_factory=list, description="Explicit GX expectations.")
    defaults: bool = Field(True, description="Derive expectations from the schema hints.")
    partial_publication: bool = Field(
        False, description="Publish the passing rows when only row-level errors fail."
    )
    plausibility: bool = Field(
        True, description="Automatic checks by column meaning (coordinates, codes, dates)."
    )
    drift: DriftSpec = Field(DriftSpec(), description="Comparison with the published version.")


@dataclass
class PlannedExpectation:
    """An expectation ready for GX: `origin` names the spec field it comes from."""

    type: str
    kwargs: dict[str, Any]
    severity: Severity
    origin: str
    description: str | None = None
    columns: list[str] = field(default_factory=list)
    # "arrow": evaluated with pyarrow, not GX (a value set too large for GX to run it cheaply)
    engine: Literal["gx", "arrow"] = "gx"

    def __post_init__(self) -> None:
        self.columns = columns_of(self.kwargs)


def columns_of(kwargs: dict[str, Any]) -> list[str]:
    cols = [kwargs[k] for k in COLUMN_ARGS if isinstance(kwargs.get(k), str)]
    column_list = kwargs.get("column_list")
    if isinstance(column_list, list):
        cols += [c for c in column_list if isinstance(c, str)]
    return cols


def parse_quality(spec: DatasetSpec) -> QualitySpec:
    """The typed quality section; raises pydantic's ValidationError (see validate_quality_section)."""
    return QualitySpec.model_validate(spec.quality)


_NOT_NULL = {"expect_column_values_to_not_be_null", "ExpectColumnValuesToNotBeNull"}


def required_columns(spec: DatasetSpec) -> set[str]:
    """Columns every published row has a value in: the primary key and `nullable: false` columns
    (cleaning rejects a row without them) and the columns of an error-severity not-null expectation
    that allows no exception (`mostly` absent or 1: a failing row blocks or is quarantined)."""
    schema = spec.schema_
    out = set(schema.primary_key) | {n for n, h in schema.columns.items() if not h.nullable}
    out -= {n for n, h in schema.columns.items() if h.pii == "drop"}
    for e in parse_quality(spec).expectations:
        column = e.args.get("column")
        if e.type.strip() in _NOT_NULL and e.severity == "error" and isinstance(column, str):
            if float(e.args.get("mostly", 1) or 1) >= 1 and not e.args.get("row_condition"):
                out.add(column)
    return out


@functools.cache
def province_codes() -> tuple[str, ...]:
    from vietnam_provinces import Province

    return tuple(sorted(f"{int(p.code):02d}" for p in Province.iter_all()))


def admin_columns(spec: DatasetSpec) -> set[str]:
    """Columns the clean stage adds when a column has an admin_unit hint (std_ when taken)."""
    if not any(h.admin_unit for h in spec.schema_.columns.values()):
        return set()
    return set(ADMIN_DERIVED) | {f"std_{c}" for c in ADMIN_DERIVED}


def _admin_name(name: str, present: Collection[str] | None) -> str:
    return f"std_{name}" if present is not None and f"std_{name}" in present else name


def derived_expectations(
    spec: DatasetSpec, present: Collection[str] | None = None, float_ints: Collection[str] = ()
) -> list[PlannedExpectation]:
    """Expectations implied by the schema hints; `present` is the cleaned data's columns, if known.

    `float_ints`: integer columns with nulls, which pandas holds as float64 (see
    `quality.validate.to_frame`); their type expectation asks for float64.
    """
    out: list[PlannedExpectation] = []
    hints = spec.schema_.columns
    key = spec.schema_.primary_key

    def add(kind: str, origin: str, severity: Severity = "error", **kwargs: Any) -> None:
        out.append(PlannedExpectation(kind, kwargs, severity, origin))

    for name, hint in hints.items():
        origin = f"schema.columns.{name}"
        if hint.pii == "drop":
            continue  # the clean stage drops it
        required = not hint.nullable or name in key
        if present is not None and name not in present:
            add("expect_column_to_exist", origin, "error" if required else "warn", column=name)
            continue
        kind = "float64" if hint.type == "integer" and name in float_ints else PANDAS_TYPES[hint.type]
        add("expect_column_values_to_be_of_type", f"{origin}.type", column=name, type_=kind)
        if required:
            add("expect_column_values_to_not_be_null", f"{origin}.nullable", column=name)
        if hint.unique or key == [name]:
            add("expect_column_values_to_be_unique", f"{origin}.unique", column=name)
        if hint.type in ("integer", "number") and (hint.min is not None or hint.max is not None):
            add("expect_column_values_to_be_between", f"{origin}.min", column=name,
                min_value=hint.min, max_value=hint.max)  # fmt: skip
        if hint.values is not None and hint.type in ("string", "integer", "number", "boolean"):
            add("expect_column_values_to_be_in_set", f"{origin}.values", column=name,
                value_set=list(hint.values))  # fmt: skip
    for name in key:
        if name in hints:
            continue
        if present is not None and name not in present:
            add("expect_column_to_exist", "schema.primary_key", column=name)
            continue
        add("expect_column_values_to_not_be_null", "schema.primary_key", column=name)
        if len(key) == 1:
            add("expect_column_values_to_be_unique", "schema.primary_key", column=name)
    if len(key) > 1 and (present is None or all(k in present for k in key)):
        add("expect_compound_columns_to_be_unique", "schema.primary_key", column_list=list(key))
    if admin_columns(spec):
        province = _admin_name("province_code", present)
        ward = _admin_name("ward_code", present)
        if present is None or province in present:
            add("expect_column_values_to_be_in_set", "schema.columns (admin_unit)", column=province,
                value_set=list(province_codes()))  # fmt: skip
        if present is None or ward in present:
            add("expect_column_values_to_match_regex", "schema.columns (admin_unit)", column=ward,
                regex=r"^\d{5}$")  # fmt: skip
        conflict = _admin_name("admin_conflict", present)
        if present is None or conflict in present:
            # codes that disagree between the references or with the row are shown, not blocked
            add("expect_column_values_to_be_null", "schema.columns (admin_unit)", "warn", column=conflict)
    return out


def plan(
    spec: DatasetSpec,
    present: Collection[str] | None = None,
    float_ints: Collection[str] = (),
    facts: Mapping[str, ColumnFacts] | None = None,
) -> tuple[QualitySpec, list[PlannedExpectation]]:
    """The quality section and every expectation to run: derived ones, the spec's, then automatic.

    `facts` (the cleaned columns' labels, types and samples) enables the plausibility checks.
    """
    quality = parse_quality(spec)
    planned = derived_expectations(spec, present, float_ints) if quality.defaults else []
    for i, e in enumerate(quality.expectations):
        planned.append(
            PlannedExpectation(e.type, dict(e.args), e.severity, f"quality.expectations[{i}]", e.description)
        )
    if quality.plausibility and facts is not None:
        from quality.plausibility import plausibility_expectations  # it imports this module

        planned += plausibility_expectations(spec, quality, facts)
    return quality, planned


# --------------------------------------------------------------------------------------------------
# Validation before any run
# --------------------------------------------------------------------------------------------------


def _pydantic_problems(exc: ValidationError, prefix: str) -> list[str]:
    out = []
    for err in exc.errors():
        where = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (expected type, args, severity, description / expectations, defaults, "
            message += "partial_publication, plausibility, drift / max_ratio, acknowledge)"
        elif err["type"] != "missing" and "input" in err:
            shown = repr(err["input"])
            message += f" (got {shown[:80]}{'…' if len(shown) > 80 else ''})"
        out.append(f"{where}: {message}")
    return out


def _gx_arg_problems(exc: Exception, where: str) -> list[str]:
    """GX's pydantic-v1 errors, one line per argument (union alternatives merged)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return [f"{where}.args: {exc}"]
    by_loc: dict[str, list[str]] = {}
    for err in errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        message = str(err.get("msg", ""))
        if err.get("type") == "value_error.extra":
            message = "unknown argument for this expectation"
        by_loc.setdefault(loc, [])
        if message not in by_loc[loc]:
            by_loc[loc].append(message)
    out = []
    for loc, messages in by_loc.items():
        useful = [m for m in messages if "valid dict" not in m] or messages  # dict = the $PARAMETER form
        out.append(f"{where}.args{'.' + loc if loc else ''}: {' or '.join(useful)}")
    return out


def _extra_arg_problems(args: dict[str, Any], where: str) -> list[str]:
    out = []
    low, high = args.get("min_value"), args.get("max_value")
    if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
        out.append(f"{where}.args.min_value: greater than max_value ({low} > {high})")
    for key in _REGEX_ARGS:
        value = args.get(key)
        for pattern in value if isinstance(value, list) else [value] if isinstance(value, str) else []:
            try:
                re.compile(pattern)
            except re.error as exc:
                out.append(f"{where}.args.{key}: invalid regular expression {pattern!r}: {exc}")
    return out


def validate_quality_section(spec: DatasetSpec) -> list[str]:
    """Problems with `spec.quality`, each naming its field (`quality.expectations[i].args.x: ...`).

    Checks the section's shape, that each expectation exists in GX 1.x and runs on a DataFrame,
    that GX accepts its arguments, and that every column it names is declared under
    `schema.columns` (or added by the clean stage for admin units) when columns are declared.
    """
    try:
        quality = parse_quality(spec)
    except ValidationError as exc:
        return _pydantic_problems(exc, "quality")
    if not quality.expectations:
        return []
    from quality import _gx  # GX is imported only when there is something to check

    declared = set(spec.schema_.columns)
    dropped = {n for n, h in spec.schema_.columns.items() if h.pii == "drop"}
    known = (declared - dropped) | admin_columns(spec)
    problems: list[str] = []
    for i, e in enumerate(quality.expectations):
        where = f"quality.expectations[{i}]"
        cls = _gx.expectation_class(e.type)
        if cls is None:
            close = _gx.suggest_name(e.type)
            hint = f"; did you mean {', '.join(close)}?" if close else " in Great Expectations 1.x"
            problems.append(f"{where}.type: unknown expectation {e.type!r}{hint}")
            continue
        if _gx.pandas_unsupported(cls):
            problems.append(f"{where}.type: {e.type} cannot run on a DataFrame (it needs a SQL engine)")
            continue
        reserved = sorted(RESERVED_ARGS & set(e.args))
        if reserved:
            problems += [f"{where}.args.{r}: set by the quality runner; not allowed here" for r in reserved]
            continue
        try:
            cls(**e.args)
        except (_gx.GXValidationError, _gx.GreatExpectationsError, TypeError, ValueError) as exc:
            problems += _gx_arg_problems(exc, where)
            continue
        problems += _extra_arg_problems(e.args, where)
        if declared:
            for key in (*COLUMN_ARGS, "column_list"):
                value = e.args.get(key)
                for column in value if isinstance(value, list) else [value] if isinstance(value, str) else []:
                    if column in dropped:
                        problems.append(f"{where}.args.{key}: column {column!r} is dropped (pii: drop)")
                    elif column not in known:
                        problems.append(
                            f"{where}.args.{key}: column {column!r} is not declared under schema.columns "
                            f"(declared: {', '.join(sorted(declared))})"
                        )
    return problems
