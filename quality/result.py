"""What one quality run found: per-expectation outcomes, the score, and whether to promote.

Quality score (0-100): a weighted mean over the expectations that ran,

    score = 100 * sum(w_i * q_i) / sum(w_i)      w = 3 for `error`, 1 for `warn`
    q_i   = 1                                     the expectation passed
          = 1 - unexpected_count / rows           a row-level expectation failed (share of rows
                                                  that pass it: one bad row in a million barely
                                                  moves the score)
          = 0                                     any other failure (aggregate, missing column,
                                                  exception)

No expectations, or an empty batch whose expectations all pass, scores 100. The score describes
the data; whether the batch may be promoted is `blocking` / `promotable`, not a score threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITY_WEIGHT = {"error": 3.0, "warn": 1.0}


@dataclass
class ExpectationOutcome:
    index: int  # position in the plan (derived expectations first, then quality.expectations)
    type: str  # GX snake_case name
    column: str | None  # the column, or "a, b" for pair/multicolumn expectations
    severity: str  # error | warn
    origin: str  # the spec field it comes from
    success: bool
    row_level: bool = False  # a map expectation: the failing rows are known
    unexpected_count: int | None = None
    unexpected_percent: float | None = None  # GX's figure (of non-null values for most map expectations)
    partial_unexpected_list: list[Any] = field(default_factory=list)
    observed_value: Any = None
    message: str | None = None  # missing column or the exception GX raised
    description: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.type}({self.column})" if self.column else self.type


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


def quality_score(outcomes: list[ExpectationOutcome], rows: int) -> float:
    total = sum(SEVERITY_WEIGHT[o.severity] for o in outcomes)
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
