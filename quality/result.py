"""What one quality run found: per-expectation outcomes, the score, and whether to promote.

Quality score (0-100): a weighted mean over the expectations that ran and the unchecked columns,

    score = 100 * sum(w_i * q_i) / sum(w_i)      w = 3 for `error`, 1 for `warn`,
                                                  1 for each unchecked column
    q_i   = 1                                     the expectation passed
          = 1 - unexpected_count / rows           a row-level expectation failed (share of rows
                                                  that pass it: one bad row in a million barely
                                                  moves the score)
          = 0                                     any other failure (aggregate, missing column,
                                                  exception), and every unchecked column

Coverage: a column the source sent (the cleaned columns minus those the clean stage adds for
admin units) is *unchecked* when no outcome checks its values: existence and type checks
(`COVERAGE_EXEMPT`) do not count, nor does drift (it only exists from the second version on, so
counting it would raise a score merely because a previous version exists). An unchecked column
adds weight 1 with q = 0, so data nobody checks cannot score 100: 20 passing `error` checks and
one unchecked column score 98.36; no checks at all on 5 columns score 0. Nothing to score (no
outcomes, no columns) is 100. The score describes the data and how much of it is checked; whether
the batch may be promoted is `blocking` / `promotable`, not a score threshold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITY_WEIGHT = {"error": 3.0, "warn": 1.0}
UNCHECKED_WEIGHT = 1.0
# Outcomes that say a column exists or has a type, or compare with the previous version: they do
# not check the column's values in this batch, so they do not cover it.
COVERAGE_EXEMPT = frozenset(
    {"expect_column_to_exist", "expect_column_values_to_be_of_type", "citydata_drift"}
)
_COLUMN_KWARGS = ("column", "column_A", "column_B")


@dataclass
class ExpectationOutcome:
    index: int  # position: the plan (derived, the spec's, automatic), then the non-GX checks
    type: str  # GX snake_case name, or citydata_* for checks that are not GX expectations
    column: str | None  # the column, or "a, b" for pair/multicolumn expectations
    severity: str  # error | warn
    origin: str  # the spec field it comes from (or the automatic family, e.g. plausibility.*)
    success: bool
    row_level: bool = False  # a map expectation: the failing rows are known
    unexpected_count: int | None = None
    unexpected_percent: float | None = None  # GX's figure (of non-null values for most map expectations)
    partial_unexpected_list: list[Any] = field(default_factory=list)
    observed_value: Any = None
    message: str | None = None  # missing column, the exception GX raised, or a non-GX check's finding
    description: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.type}({self.column})" if self.column else self.type

    @property
    def columns(self) -> list[str]:
        """The columns it checks (from its arguments; else from `column`)."""
        cols = [self.kwargs[k] for k in _COLUMN_KWARGS if isinstance(self.kwargs.get(k), str)]
        column_list = self.kwargs.get("column_list")
        if isinstance(column_list, list):
            cols += [c for c in column_list if isinstance(c, str)]
        if not cols and self.column:
            cols = self.column.split(", ")
        return cols


@dataclass
class QualityResult:
    dataset: str
    pull_id: str
    rows: int = 0
    score: float = 100.0
    success: bool = True  # every expectation passed
    blocking: bool = False  # an `error` expectation failed
    promotable: bool = True  # not blocking, or partial publication applies
    partial: bool = False  # validated.parquet holds the passing rows; the others are quarantined
    publish_key: str | None = None  # what the publish stage should take (None: nothing)
    expectations: list[ExpectationOutcome] = field(default_factory=list)
    covered_columns: list[str] = field(default_factory=list)  # source columns whose values are checked
    unchecked_columns: list[str] = field(default_factory=list)  # source columns nothing checks (score)
    profile: dict[str, Any] = field(default_factory=dict)  # quality.drift.profile of the table
    fidelity: dict[str, Any] = field(default_factory=dict)  # quality.fidelity: published vs source
    failed_rows: list[int] = field(default_factory=list)  # row positions failing an `error` row check
    warned_rows: list[int] = field(default_factory=list)  # rows failing only `warn` row checks
    failed_row_count: int = 0
    warned_row_count: int = 0
    keys: dict[str, str] = field(default_factory=dict)
    data_docs_url: str | None = None
    validated_at: str | None = None
    seconds: float = 0.0
    gx_seconds: float = 0.0

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    def as_dict(self, rows: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not rows:  # summary.json: the row positions are in the quarantine Parquet (`_row`)
            data["failed_rows"], data["warned_rows"] = [], []
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityResult:
        data = dict(data)
        outcomes = [ExpectationOutcome(**e) for e in data.pop("expectations", [])]
        known = set(cls.__dataclass_fields__)
        return cls(expectations=outcomes, **{k: v for k, v in data.items() if k in known})


def coverage(outcomes: Iterable[ExpectationOutcome], columns: Iterable[str]) -> tuple[list[str], list[str]]:
    """(covered, unchecked): the given columns, split by whether an outcome checks their values."""
    checked = {c for o in outcomes if o.type not in COVERAGE_EXEMPT for c in o.columns}
    names = list(dict.fromkeys(columns))
    return [c for c in names if c in checked], [c for c in names if c not in checked]


def quality_score(outcomes: list[ExpectationOutcome], rows: int, unchecked: int = 0) -> float:
    """The score defined in the module docstring; `unchecked` is the number of unchecked columns."""
    total = sum(SEVERITY_WEIGHT[o.severity] for o in outcomes) + UNCHECKED_WEIGHT * unchecked
    if not total:
        return 100.0
    got = 0.0
    for o in outcomes:
        if o.success:
            q = 1.0
        elif o.row_level and o.unexpected_count is not None and rows and not o.message:
            q = max(0.0, 1.0 - o.unexpected_count / rows)
        else:
            q = 0.0
        got += SEVERITY_WEIGHT[o.severity] * q
    return round(100.0 * got / total, 2)
