"""The gate's verdict on a run's outcomes: coverage, score, blocking, and the rows to quarantine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from quality.result import ExpectationOutcome, QualityResult, coverage, quality_score


def _row_reasons(
    outcomes: list[ExpectationOutcome], rows: dict[int, list[int]], severity: str
) -> dict[int, list[str]]:
    reasons: dict[int, list[str]] = defaultdict(list)
    for o in outcomes:
        if o.severity == severity and o.index in rows:
            for row in rows[o.index]:
                reasons[row].append(o.label)
    return reasons


def conclude(
    result: QualityResult,
    partial_publication: bool,
    outcomes: list[ExpectationOutcome],
    failing: dict[int, list[int]],
    added_columns: Collection[str],
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Coverage, score and verdict of a run; the failing and the warned rows with their reasons."""
    result.expectations = outcomes
    source_columns = [c for c in result.profile.get("columns", {}) if c not in added_columns]
    result.covered_columns, result.unchecked_columns = coverage(outcomes, source_columns)
    result.score = quality_score(outcomes, result.rows, len(result.unchecked_columns))
    result.success = all(o.success for o in outcomes)
    errors = [o for o in outcomes if not o.success and o.severity == "error"]
    result.blocking = bool(errors)
    failed = _row_reasons(outcomes, failing, "error")
    warned = {r: v for r, v in _row_reasons(outcomes, failing, "warn").items() if r not in failed}
    result.failed_rows, result.warned_rows = sorted(failed), sorted(warned)
    result.failed_row_count, result.warned_row_count = len(failed), len(warned)
    rows_only = all(o.row_level for o in errors)
    result.partial = bool(errors and partial_publication and rows_only and len(failed) < result.rows)
    result.promotable = not result.blocking or result.partial
    return failed, warned
