"""The agency scoreboard (`/chat-luong`, CSV at `/chat-luong.csv`): every agency, its public datasets,
their quality scores (computed by the platform per version, `quality_score.py`), their freshness
against the declared update frequency, and what to fix per dataset; sortable; Vietnamese, English
at /en/.

Freshness is measured when the page is asked for: a dataset is late when its current version is
older than its update period by more than half a period (an hourly, daily, weekly, monthly or
yearly dataset; irregular ones are never late). The periods are those of the platform's score
(catalog/quality_score.py), repeated here because this plugin runs in CKAN's own environment.
Pure functions, apart from `packages` (CKAN's package_search).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from ckanext.citydata.quality_score import score_of

PERIOD_DAYS = {"HOURLY": 1 / 24, "UPDATE_CONT": 1 / 24, "DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "ANNUAL": 366}
LATE_AFTER = 1.5  # periods
SORTS = ("agency", "dataset", "score", "late")
CSV_COLUMNS = (
    ("agency", "Cơ quan", "Agency"),
    ("dataset", "Mã bộ dữ liệu", "Dataset id"),
    ("title", "Tên bộ dữ liệu", "Title"),
    ("score", "Điểm chất lượng", "Quality score"),
    ("version", "Phiên bản", "Version"),
    ("modified", "Cập nhật lần cuối", "Last updated"),
    ("frequency", "Tần suất", "Frequency"),
    ("late_days", "Số ngày trễ", "Days late"),
    ("fixes", "Cần khắc phục", "What to fix"),
    ("url", "Địa chỉ", "URL"),
)


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def late_days(modified: str | None, frequency_uri: str | None, now: datetime) -> float | None:
    """Days beyond the update period (None: not late, or no regular period to be late against)."""
    period = PERIOD_DAYS.get(str(frequency_uri or "").rstrip("/").rsplit("/", 1)[-1])
    updated = _when(modified)
    if period is None or updated is None:
        return None
    age = (now - updated).total_seconds() / 86400
    return round(age - period, 1) if age > LATE_AFTER * period else None


def dataset_row(pkg: dict[str, Any], now: datetime, site_url: str, lang: str = "vi") -> dict[str, Any] | None:
    """One dataset's line; None for a dataset the platform did not score."""
    detail = score_of(pkg)
    if detail is None:
        return None
    org = pkg.get("organization") or {}
    modified = pkg.get("modified") or pkg.get("metadata_modified")
    late = late_days(modified, pkg.get("frequency"), now)
    fixes = [f.get("en" if lang == "en" else "vi", "") for f in detail.get("fixes") or []]
    if late is not None:
        fixes.insert(0, f"Update {late:g} days late" if lang == "en" else f"Cập nhật trễ {late:g} ngày")
    return {
        "agency": org.get("title") or org.get("name") or "",
        "agency_name": org.get("name") or "",
        "dataset": pkg["name"],
        "title": pkg.get("title") or pkg["name"],
        "score": float(detail["score"]),
        "version": detail.get("version"),
        "modified": str(modified or "")[:10],
        "frequency": str(pkg.get("frequency") or "").rstrip("/").rsplit("/", 1)[-1],
        "late_days": late,
        "fixes": fixes,
        "url": f"{site_url.rstrip('/')}/dataset/{pkg['name']}",
    }


def sort_rows(rows: list[dict[str, Any]], by: str, descending: bool) -> list[dict[str, Any]]:
    """Sorted by `by` (one of SORTS); ties by agency then dataset, so the order is stable."""
    by = by if by in SORTS else "agency"

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        if by == "late":
            first: Any = row["late_days"] or 0.0
        elif by == "score":
            first = row["score"]
        else:
            first = str(row[by]).casefold()
        return (first, row["agency"].casefold(), row["dataset"])

    return sorted(rows, key=key, reverse=descending)


def agencies(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per agency: datasets, mean score, late datasets (lowest mean first: who needs help first)."""
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = found.setdefault(row["agency_name"], {"agency": row["agency"], "name": row["agency_name"],
                                                      "datasets": 0, "total": 0.0, "late": 0})  # fmt: skip
        entry["datasets"] += 1
        entry["total"] += row["score"]
        entry["late"] += 1 if row["late_days"] is not None else 0
    out = [{**e, "mean_score": round(e.pop("total") / e["datasets"], 1)} for e in found.values()]
    return sorted(out, key=lambda e: (e["mean_score"], e["agency"].casefold()))


def csv_bytes(rows: list[dict[str, Any]], lang: str = "vi") -> bytes:
    """The scoreboard as CSV, UTF-8 with a BOM (opened by double-click in Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([en if lang == "en" else vi for _, vi, en in CSV_COLUMNS])
    for row in rows:
        values = {**row, "fixes": "; ".join(row["fixes"]), "late_days": row["late_days"] or ""}
        writer.writerow(["" if values[k] is None else values[k] for k, _, _ in CSV_COLUMNS])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def packages(search: Any, page: int = 500) -> list[dict[str, Any]]:
    """Every public dataset, through `search(**data)` (package_search), page by page."""
    found: list[dict[str, Any]] = []
    while True:
        result = search(q="*:*", rows=page, start=len(found), sort="name asc")
        found.extend(result["results"])
        if not result["results"] or len(found) >= int(result["count"]):
            return found
