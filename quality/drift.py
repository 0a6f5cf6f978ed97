"""Drift: this pull's profile against the dataset's current published version.

Profile (pyarrow compute, stored in the quality summary as `profile`):

    number columns   nulls, min, median (exact), max
    text columns     nulls, distinct (non-null values)
    other columns    nulls
    every column     its Arrow type

The previous profile is the one in the summary of the pull the published version came from
(the version's copy of it, else reports/<agency>/<dataset>/<pull_id>/summary.json); older
versions without one are profiled from their published Parquet. No published version: no check.

Rules (`quality.drift`, max_ratio default 10); a ratio is max(|a|, |b|) / min(|a|, |b|) when both
values are non-zero, infinite when their signs differ:

    median of a number column       ratio > max_ratio   error (blocks)
    min or max of a number column   ratio > max_ratio   warn
    distinct count of a text column ratio > max_ratio   warn (both counts >= 10)
    a column changed type / is gone                     warn (a number column that changed type,
                                                        e.g. double -> int64, is compared too)

Columns under `quality.drift.acknowledge` keep their outcomes, passed, with a note. Nothing found:
one passing outcome naming the version compared with.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from citydata.storage.published import read_manifest, read_version_table
from quality.result import ExpectationOutcome

if TYPE_CHECKING:
    from citydata.spec.model import DatasetSpec
    from quality.non_gx import CheckInput
    from quality.spec import DriftSpec

TYPE = "citydata_drift"
ORIGIN = "quality.drift"
MIN_DISTINCT = 10  # distinct counts below this on either side are not compared
_ACK = "quality.drift.acknowledge"
_STATISTICS = {  # statistic: (Vietnamese, English) for descriptions
    "median": ("Trung vị", "Median"),
    "min": ("Giá trị nhỏ nhất", "Minimum"),
    "max": ("Giá trị lớn nhất", "Maximum"),
    "distinct": ("Số giá trị khác nhau", "Distinct count"),
    "type": ("Cột và kiểu dữ liệu", "Column and type"),
    "profile": ("Hồ sơ dữ liệu", "Profile"),
}


# --------------------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------------------


def _number(value: Any) -> float | int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, int) else float(value)


def profile(table: pa.Table) -> dict[str, Any]:
    """The statistics drift compares (see the module docstring), as JSON-ready values."""
    columns: dict[str, dict[str, Any]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        entry: dict[str, Any] = {"type": str(kind), "nulls": column.null_count}
        if pa.types.is_decimal(kind):
            column, kind = column.cast(pa.float64()), pa.float64()
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            bounds = pc.min_max(column)
            # exact median: quantile selects in linear time, cheaper than the t-digest approximation
            median = pc.quantile(column, q=0.5, interpolation="midpoint")[0].as_py() if len(column) else None
            low, high = _number(bounds["min"].as_py()), _number(bounds["max"].as_py())
            entry |= {"min": low, "median": _number(median), "max": high}
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            # unique() is ~2x faster than count_distinct() on a million distinct strings
            entry["distinct"] = len(pc.unique(column)) - (1 if column.null_count else 0)
        columns[name] = entry
    return {"rows": table.num_rows, "columns": columns}


# --------------------------------------------------------------------------------------------------
# The previous version
# --------------------------------------------------------------------------------------------------


def previous_profile(lake: Lake, spec: DatasetSpec) -> tuple[int, dict[str, Any]] | None:
    """(version, profile) of the current published version, or None when nothing is published."""
    manifest = read_manifest(lake, spec.agency.id, spec.id)
    if manifest is None:
        return None
    version = int(manifest["version"])
    keys = [(manifest.get("files", {}).get("quality_summary") or {}).get("key")]
    pull_id = (manifest.get("source") or {}).get("pull_id")
    if pull_id:
        keys.append(zone_prefix("reports", spec.agency.id, spec.id, str(pull_id)) + "summary.json")
    for key in keys:
        summary = lake.get_json(key) if key else None
        if isinstance(summary, dict) and summary.get("profile"):
            return version, summary["profile"]
    return version, profile(read_version_table(lake, manifest))  # published before profiles existed


# --------------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------------


def ratio(before: float | None, after: float | None) -> float | None:
    """How many times one value is the other (>= 1); inf for a sign change; None if either is 0."""
    if before is None or after is None or before == 0 or after == 0:
        return None
    if (before > 0) != (after > 0):
        return math.inf
    return max(abs(before), abs(after)) / min(abs(before), abs(after))


def show(value: float | None) -> str:
    """A number as people read it: 15682, 15.682, 0.0015 (no exponent, no thousands separator)."""
    if value is None:
        return "null"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    digits = max(0, 5 - math.floor(math.log10(abs(value))))
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _factor(before: float, after: float) -> str:
    if (before > 0) != (after > 0):
        return "sign changed"
    times = abs(after / before)
    grown = times >= 1
    times = times if grown else 1 / times
    return f"{'x' if grown else '÷'}{show(round(times, 1 if times < 100 else 0))}"


def _outcome(
    column: str | None, severity: str, statistic: str, message: str, **observed: Any
) -> ExpectationOutcome:
    vi, en = _STATISTICS[statistic]
    description = (
        f"{vi} không thay đổi bất thường so với phiên bản đã công bố / "
        f"{en}: no abnormal change from the published version"
    )
    kwargs = {"column": column, "statistic": statistic} if column else {"statistic": statistic}
    return ExpectationOutcome(
        0, TYPE, column, severity, ORIGIN, False, observed_value=observed or None, message=message,
        description=description, kwargs=kwargs,
    )  # fmt: skip


def compare(
    before: dict[str, Any], after: dict[str, Any], drift: DriftSpec, version: int
) -> list[ExpectationOutcome]:
    """Drift outcomes of profile `after` against `before` (published as `version`); see the rules."""
    limit = drift.max_ratio
    found: list[ExpectationOutcome] = []
    now = after.get("columns", {})
    for name, old in before.get("columns", {}).items():
        new = now.get(name)
        if new is None or new.get("type") != old.get("type"):
            current = None if new is None else new.get("type")
            finding = (
                f"column {name} of version {version} is missing"
                if new is None
                else f"{name} changed type from {old.get('type')} (version {version}) to {current}"
            )
            observed = {"previous": old.get("type"), "current": current, "previous_version": version}
            found.append(_outcome(name, "warn", "type", finding, **observed))
        if new is None:
            continue
        # statistics both sides have are compared even across a type change: 15.682 (double) read
        # as 15682 (int64) is the very drift to catch
        for statistic, severity in (
            ("median", "error"),
            ("min", "warn"),
            ("max", "warn"),
            ("distinct", "warn"),
        ):
            a, b = old.get(statistic), new.get(statistic)
            if statistic == "distinct" and (a is None or b is None or min(a, b) < MIN_DISTINCT):
                continue
            times = ratio(a, b)
            if a is None or b is None or times is None or times <= limit:
                continue
            what = "distinct values" if statistic == "distinct" else statistic
            finding = (
                f"{what} of {name} went from {show(a)} (version {version}) to {show(b)} "
                f"({_factor(a, b)}, more than x{show(limit)})"
            )
            observed = {"previous": a, "current": b, "ratio": None if math.isinf(times) else round(times, 3),
                        "max_ratio": limit, "previous_version": version}  # fmt: skip
            found.append(_outcome(name, severity, statistic, finding, **observed))
    for outcome in found:
        if outcome.column in drift.acknowledge:  # kept, passed: the report still shows the change
            outcome.success = True
            outcome.message = f"acknowledged in {_ACK}: {outcome.message}"
        else:
            outcome.message = f"{outcome.message}; if this is right, list it under {_ACK}"
    if not found:
        compared = len(set(before.get("columns", {})) & set(now))
        message = f"no drift against version {version} ({compared} columns compared, max_ratio {show(limit)})"
        summary = _outcome(None, "warn", "profile", message, previous_version=version)
        summary.success = True
        found.append(summary)
    return found


def drift_outcomes(data: CheckInput) -> list[ExpectationOutcome]:
    """The non-GX check (quality.non_gx): this pull against the current published version."""
    previous = previous_profile(data.lake, data.spec)
    if previous is None:
        return []  # a first version has nothing to drift from
    version, before = previous
    return compare(before, data.profile, data.quality.drift, version)
