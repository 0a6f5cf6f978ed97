"""A dataset version's quality score (0-100), computed from measured facts and explained point by point.

Seven dimensions, each with a fixed share of the 100 points:

    metadata       20  one share per optional Dublin Core / DCAT field the spec fills (title and
                       description in English, keywords, spatial and temporal coverage, contact point,
                       themes, source, landing page, rights); the required ones are always there
    data_checks    20  the quality gate's score of the version (expectations passed, weighted by
                       severity, unchecked columns counting as failed: `quality.result`)
    completeness   10  the share of non-empty cells, from the empty-value counts the lake took from
                       the Parquet statistics (`columns[i].empty`); the columns with the most
                       empty values are named in what to fix ("Column X has 12% empty values")
    fidelity       15  the share of the source's cells read back equal by an independent reader;
                       0 when the comparison could not run
    freshness      15  the gap since the previous version against the declared update frequency:
                       full up to 1.5 periods, nothing from 4 periods; full for a first version or
                       an irregular frequency
    documentation  10  the share of published columns with a description
    licence        10  an open licence (the Open Definition's, as CKAN marks them); 0 otherwise

Deterministic for one version and one spec (no clock read), so an unchanged dataset keeps its
score and its catalog entry. Every point carries what it measured and, when it earned less than
it could, what to fix, in Vietnamese and English.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from catalog.dcat_fields import frequency_uri
from catalog.spec import PublicationSpec, parse_publication
from citydata.spec.licenses import OPEN_LICENSES
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.published import read_pointer

SHARES = {
    "metadata": 20, "data_checks": 20, "completeness": 10, "fidelity": 15, "freshness": 15,
    "documentation": 10, "licence": 10,
}  # fmt: skip
DIMENSION_LABELS = {
    "metadata": ("Mô tả (metadata)", "Metadata"),
    "data_checks": ("Kiểm tra dữ liệu", "Data checks"),
    "completeness": ("Đầy đủ giá trị", "Completeness"),
    "fidelity": ("Khớp với nguồn", "Fidelity to the source"),
    "freshness": ("Cập nhật đúng hạn", "Freshness"),
    "documentation": ("Mô tả cột", "Column documentation"),
    "licence": ("Giấy phép mở", "Open licence"),
}
# Days between two updates, from the EU frequency the cron maps to (catalog.dcat_fields).
PERIOD_DAYS = {"HOURLY": 1 / 24, "UPDATE_CONT": 1 / 24, "DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "ANNUAL": 366}
FULL_UNTIL, NONE_FROM = 1.5, 4.0  # in periods


@dataclass(frozen=True)
class ScorePoint:
    dimension: str
    key: str
    earned: float
    possible: float
    detail_vi: str
    detail_en: str
    fix_vi: str = ""
    fix_en: str = ""


@dataclass(frozen=True)
class DatasetScore:
    version: int
    score: float
    points: tuple[ScorePoint, ...]

    def dimensions(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, share in SHARES.items():
            earned = sum(p.earned for p in self.points if p.dimension == name)
            vi, en = DIMENSION_LABELS[name]
            out[name] = {"label_vi": vi, "label_en": en, "earned": round(earned, 2), "possible": share}
        return out

    def fixes(self) -> list[dict[str, str]]:
        """What to fix, largest loss first."""
        lost = sorted((p for p in self.points if p.fix_vi), key=lambda p: p.earned - p.possible)
        return [{"dimension": p.dimension, "key": p.key, "vi": p.fix_vi, "en": p.fix_en} for p in lost]

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "score": self.score,
            "dimensions": self.dimensions(),
            "points": [asdict(p) for p in self.points],
            "fixes": self.fixes(),
        }


def _metadata(spec: DatasetSpec, pub: PublicationSpec) -> list[ScorePoint]:
    dc = spec.dublin_core
    fields = [
        ("title_en", "tên tiếng Anh", "English title", bool(spec.title.en), "title.en"),
        ("description_en", "mô tả tiếng Anh", "English description", bool(spec.description.en),
         "description.en"),
        ("keywords", "từ khóa", "keywords", bool(dc.subject or spec.tags), "dublin_core.subject"),
        ("spatial", "phạm vi không gian", "spatial coverage", bool(pub.spatial or dc.coverage),
         "publication.spatial"),
        ("temporal", "khoảng thời gian", "temporal coverage",
         bool(pub.temporal and (pub.temporal.start or pub.temporal.end)), "publication.temporal"),
        ("contact", "đầu mối liên hệ", "contact point",
         bool((pub.contact and (pub.contact.email or pub.contact.url)) or spec.agency.email),
         "publication.contact"),
        ("themes", "chủ đề", "themes", bool(pub.themes), "publication.themes"),
        ("source", "nguồn gốc", "source", bool(dc.source), "dublin_core.source"),
        ("landing_page", "trang giới thiệu", "landing page", bool(pub.landing_page),
         "publication.landing_page"),
        ("rights", "quyền sử dụng", "rights statement", bool(dc.rights), "dublin_core.rights"),
    ]  # fmt: skip
    share = SHARES["metadata"] / len(fields)
    points = []
    for key, vi, en, present, where in fields:
        points.append(
            ScorePoint(
                "metadata", key, share if present else 0.0, share,
                f"{vi}: {'có' if present else 'chưa có'}", f"{en}: {'present' if present else 'missing'}",
                "" if present else f"Bổ sung {vi} (`{where}` trong spec)",
                "" if present else f"Add the {en} (`{where}` in the spec)",
            )
        )  # fmt: skip
    return points


def _data_checks(quality: dict[str, Any]) -> ScorePoint:
    possible = SHARES["data_checks"]
    score = quality.get("score")
    if score is None:
        return ScorePoint("data_checks", "gate", 0.0, possible, "chưa kiểm tra chất lượng",
                          "no quality checks ran", "Chạy kiểm tra chất lượng trước khi công bố",
                          "Run the quality gate before publishing")  # fmt: skip
    earned = _down(possible * float(score) / 100)
    unchecked = list(quality.get("unchecked_columns") or [])
    vi, en = f"điểm kiểm tra {float(score):g}/100", f"gate score {float(score):g}/100"
    if unchecked:
        vi, en = f"{vi}; {len(unchecked)} cột chưa có kiểm tra", f"{en}; {len(unchecked)} unchecked columns"
    fix_vi = fix_en = ""
    if unchecked:
        names = ", ".join(unchecked[:5]) + ("…" if len(unchecked) > 5 else "")
        fix_vi, fix_en = f"Thêm kiểm tra cho cột {names}", f"Add checks for the columns {names}"
    elif earned < possible:
        fix_vi, fix_en = "Sửa các dòng không đạt kiểm tra", "Fix the rows that fail the checks"
    return ScorePoint("data_checks", "gate", earned, possible, vi, en, fix_vi, fix_en)


def _down(points: float) -> float:
    """Points to the hundredth, rounded down: a loss, however small, never shows as full marks without
    its fix (1e-9 absorbs float noise such as 0.29 * 100 = 28.999999999999996)."""
    return math.floor(points * 100 + 1e-9) / 100


def _percent(share: float, decimals: int = 0, vi: bool = False) -> str:
    """12%, or 99.6% (99,6% in Vietnamese); a share above 0 never shows as 0%, one below 1 never as 100%."""
    text = f"{share * 100:.{decimals}f}"
    if 0 < share and float(text) == 0:
        text = f"<{10**-decimals:g}"
    elif share < 1 and float(text) == 100:
        text = f">{100 - 10**-decimals:g}"
    return (text.replace(".", ",") if vi else text) + "%"


def _completeness(columns: list[dict[str, Any]], rows: int) -> ScorePoint:
    possible = SHARES["completeness"]
    counted = [c for c in columns if isinstance(c.get("empty"), int)]
    if rows <= 0:
        return ScorePoint("completeness", "empty", 0.0, possible, "không có dòng", "no rows",
                          "Bộ dữ liệu chưa có dòng nào", "The dataset has no rows")  # fmt: skip
    if not counted:
        return ScorePoint("completeness", "empty", 0.0, possible, "chưa đo", "not measured",
                          "Công bố phiên bản mới để đo tỷ lệ ô trống",
                          "Publish a new version to measure the empty values")  # fmt: skip
    empty = sum(int(c["empty"]) for c in counted)
    filled = 1 - empty / (rows * len(counted))
    sparse = sorted(
        ((int(c["empty"]) / rows, str(c.get("column") or c.get("name"))) for c in counted),
        key=lambda found: (-found[0], found[1]),
    )
    named = [(share, name) for share, name in sparse if share > 0]
    vi = f"{_percent(filled, 1, vi=True)} ô có giá trị ({len(counted)} cột, {rows} dòng)"
    en = f"{_percent(filled, 1)} of the cells hold a value ({len(counted)} columns, {rows} rows)"
    listed = named[:5]
    more = len(named) - len(listed)
    fix_vi = "; ".join(f"Cột {name} có {_percent(share)} ô trống" for share, name in listed)
    fix_en = "; ".join(f"Column {name} has {_percent(share)} empty values" for share, name in listed)
    if more:
        fix_vi, fix_en = f"{fix_vi}; và {more} cột khác", f"{fix_en}; and {more} more columns"
    return ScorePoint("completeness", "empty", _down(possible * filled), possible, vi, en, fix_vi, fix_en)


def _fidelity(quality: dict[str, Any]) -> ScorePoint:
    possible = SHARES["fidelity"]
    found = quality.get("fidelity") or {}
    checked = int(found.get("cells_checked") or 0)
    unverified = int(found.get("cells_not_verified") or 0)
    if found.get("status") != "passed" or checked + unverified == 0:
        return ScorePoint("fidelity", "source", 0.0, possible, "chưa đối chiếu được với nguồn",
                          "not compared with the source", "Công bố từ tệp nguồn mà bộ đọc độc lập đọc được",
                          "Publish from a source file an independent reader can read")  # fmt: skip
    share = checked / (checked + unverified)
    return ScorePoint(
        "fidelity", "source", _down(possible * share), possible,
        f"{checked} ô khớp nguồn, {unverified} ô chưa kiểm được",
        f"{checked} cells equal to the source, {unverified} not verified",
        f"{unverified} ô chưa đối chiếu được" if unverified else "",
        f"{unverified} cells could not be verified" if unverified else "",
    )  # fmt: skip


def _freshness(spec: DatasetSpec, created_at: str, previous_at: str | None) -> ScorePoint:
    possible = SHARES["freshness"]
    code = (frequency_uri(spec.update_frequency) or "").rsplit("/", 1)[-1]
    period = PERIOD_DAYS.get(code)
    if previous_at is None or period is None:
        why_vi = "phiên bản đầu tiên" if previous_at is None else "tần suất cập nhật không cố định"
        why_en = "first version" if previous_at is None else "irregular update frequency"
        return ScorePoint("freshness", "gap", possible, possible, why_vi, why_en)
    gap = (datetime.fromisoformat(created_at) - datetime.fromisoformat(previous_at)).total_seconds() / 86400
    periods = gap / period
    if periods <= FULL_UNTIL:
        share = 1.0
    else:
        share = max(0.0, (NONE_FROM - periods) / (NONE_FROM - FULL_UNTIL))
    late = max(0.0, gap - period)
    vi = f"{gap:.1f} ngày sau phiên bản trước (tần suất khai báo: {period:g} ngày)"
    en = f"{gap:.1f} days after the previous version (declared every {period:g} days)"
    earned = _down(possible * share)
    fix = earned < possible
    return ScorePoint(
        "freshness", "gap", earned, possible, vi, en,
        f"Cập nhật trễ {late:.0f} ngày so với tần suất khai báo" if fix else "",
        f"Update {late:.0f} days late against the declared frequency" if fix else "",
    )  # fmt: skip


def _documentation(columns: list[dict[str, Any]]) -> ScorePoint:
    possible = SHARES["documentation"]
    if not columns:
        return ScorePoint("documentation", "columns", 0.0, possible, "không có cột", "no columns")
    # the manifest's data dictionary names a column `column` (lake/exports.py)
    missing = [
        str(c.get("column") or c.get("name")) for c in columns if not str(c.get("description") or "").strip()
    ]
    share = 1 - len(missing) / len(columns)
    names = ", ".join(missing[:5]) + ("…" if len(missing) > 5 else "")
    return ScorePoint(
        "documentation", "columns", _down(possible * share), possible,
        f"{len(columns) - len(missing)}/{len(columns)} cột có mô tả",
        f"{len(columns) - len(missing)}/{len(columns)} columns described",
        f"Thêm mô tả cho cột {names} (`schema.columns.<cột>.description`)" if missing else "",
        f"Describe the columns {names} (`schema.columns.<column>.description`)" if missing else "",
    )  # fmt: skip


def _licence(spec: DatasetSpec) -> ScorePoint:
    possible = SHARES["licence"]
    if spec.license in OPEN_LICENSES:
        return ScorePoint("licence", "open", possible, possible, f"giấy phép mở ({spec.license})",
                          f"open licence ({spec.license})")  # fmt: skip
    return ScorePoint(
        "licence", "open", 0.0, possible,
        f"giấy phép không mở ({spec.license})", f"not an open licence ({spec.license})",
        "Chọn giấy phép mở, ví dụ cc-by", "Choose an open licence, e.g. cc-by",
    )  # fmt: skip


def dataset_score(
    spec: DatasetSpec, pub: PublicationSpec, manifest: dict[str, Any], previous_at: str | None
) -> DatasetScore:
    """The score of the version `manifest` describes; `previous_at`: the previous version's `created_at`."""
    quality = manifest.get("quality") or {}
    points = (
        *_metadata(spec, pub),
        _data_checks(quality),
        _completeness(list(manifest.get("columns") or []), int(manifest.get("rows") or 0)),
        _fidelity(quality),
        _freshness(spec, str(manifest["created_at"]), previous_at),
        _documentation(list(manifest.get("columns") or [])),
        _licence(spec),
    )
    total = round(sum(p.earned for p in points), 1)
    return DatasetScore(int(manifest["version"]), total, points)


def previous_created_at(pointer: dict[str, Any], version: int) -> str | None:
    """`created_at` of the newest version before `version` in the pointer's list, if any."""
    older = [v for v in pointer.get("versions", []) if int(v["version"]) < version]
    return str(max(older, key=lambda v: int(v["version"]))["created_at"]) if older else None


def published_score(spec: DatasetSpec, lake: Lake) -> DatasetScore | None:
    """The score of the dataset's current published version, from the lake (as the catalog computed
    it); None before a first publication."""
    pointer = read_pointer(lake, spec.agency.id, spec.id)
    entry = pointer.entry() if pointer else None
    manifest = lake.get_json(entry.manifest) if entry else None
    if pointer is None or manifest is None:
        return None
    version = int(manifest["version"])
    return dataset_score(
        spec, parse_publication(spec), manifest, previous_created_at(pointer.as_dict(), version)
    )
