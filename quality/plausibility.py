"""Automatic plausibility checks: what a column's meaning says its values must look like.

A column's meaning is read from its cleaned snake_case name and its header labels (the clean
manifest's `label` and `source_label`), with or without Vietnamese accents, and its Arrow type:

    family        matches                                             check                 severity
    coordinates   vi_do, vĩ độ, toa_do_vi_do, latitude, lat           6.0 <= value <= 23.5  error
                  kinh_do, kinh độ, longitude, lon, lng               102.0 <= value <= 118.0
                  (numeric; lat/lon/lng alone need the other axis beside them, or to be the
                  whole name: `so_lon` is "số lớn", not a longitude)
    admin_codes   names ending in ma_tinh(_thanh), province_code /    value in the official     error
                  ma_quan(_huyen), district_code / ma_phuong(_xa),    codes of that level
                  ma_xa, ward_code (then _cu, _moi... allowed); labels alike ("Mã phường/xã");
                  text, and >= 50% of a sample already in the list: a code of another kind
                  (ma_tinh_trang, a status) keeps its own meaning
    dates         every date / datetime column                        1800-01-01 .. today+50y   warn
    percentages   ty_le, ti_le, phan_tram, percent, pct, *_pct,       0 <= value <= 100         warn
                  labels with "%", "tỷ lệ", "phần trăm" (numeric)

Official codes: the current list (`vietnam-provinces`, after 1 July 2025) united with the
pre-2025 one (`vietnamadminunits`' dataset.db): 63 provinces, 696 districts, ~10,000 wards.
GX copies an expectation's arguments ~100 times per run through pydantic: the ward set costs it
~1.2 s per column whatever the row count, pyarrow 15 ms on 1M rows; sets over GX_MAX_VALUE_SET
codes are planned with engine "arrow" and evaluated by `evaluate_arrow` (same semantics: every
non-null value in the set; failing rows quarantined like GX's).

Skipped: columns the spec already bounds (schema min/max/values, or a range / value-set
expectation of its own), the columns the clean stage adds for admin units (they have their own
checks), and everything when `quality.plausibility` is false.
"""

from __future__ import annotations

import functools
import importlib.util
import sqlite3
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.spec.model import DatasetSpec
from quality.result import ExpectationOutcome
from quality.spec import PlannedExpectation, QualitySpec, Severity, admin_columns

Kind = Literal["number", "text", "date", "other"]
Level = Literal["province", "district", "ward"]

LATITUDE = (6.0, 23.5)  # Viet Nam with its islands (Trường Sa reaches ~6.5°N)
LONGITUDE = (102.0, 118.0)  # ... and Trường Sa ~117.8°E
FIRST_DATE = "1800-01-01"
FUTURE_YEARS = 50
SAMPLE = 500  # values sampled per text column to tell a code column's kind
MIN_SHARE = 0.5  # share of the sample in the official list for a code column to be checked
GX_MAX_VALUE_SET = 1000  # larger value sets run in pyarrow (see the module docstring)
PARTIAL = 20
# Expectations of the spec's own that already bound a column's values.
_BOUNDING = {
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
    "expect_column_min_to_be_between",
    "expect_column_max_to_be_between",
}
_ACCENT_FREE = str.maketrans({"đ": "d", "Đ": "D"})

# Token sequences (accent-free, lower case) naming each meaning; one match anywhere in a name.
_LATITUDE = [("vi", "do"), ("vido",), ("latitude",)]
_LONGITUDE = [("kinh", "do"), ("kinhdo",), ("longitude",)]
_SHORT = {"lat": "latitude", "lon": "longitude", "lng": "longitude"}
_PERCENT = [
    ("ty", "le"), ("ti", "le"), ("tyle",), ("tile",), ("phan", "tram"), ("phantram",), ("percent",),
    ("percentage",), ("pct",),
]  # fmt: skip
# Admin codes: the name must END with one of these (before qualifiers such as _cu, _moi), since
# "tinh", "quan", "phuong", "xa" start other words: ma_tinh_trang (status), ma_quan_ly, ma_xa_hoi.
_ADMIN: dict[Level, list[tuple[str, ...]]] = {
    "province": [("ma", "tinh"), ("ma", "tinh", "thanh"), ("ma", "tinh", "thanh", "pho"),
                 ("ma", "tinh", "tp"), ("matinh",), ("province", "code"), ("provincecode",)],
    "district": [("ma", "quan"), ("ma", "huyen"), ("ma", "quan", "huyen"), ("district", "code"),
                 ("districtcode",)],
    "ward": [("ma", "phuong"), ("ma", "xa"), ("ma", "phuong", "xa"), ("ma", "xa", "phuong"), ("ma", "px"),
             ("ward", "code"), ("wardcode",), ("commune", "code")],
}  # fmt: skip
_QUALIFIERS = {"cu", "moi", "truoc", "sau", "hien", "tai", "old", "new", "legacy", "current", "2025"}


@dataclass(frozen=True)
class ColumnFacts:
    """What the planner knows of a cleaned column besides its name."""

    kind: Kind = "other"
    labels: tuple[str, ...] = ()  # header labels (clean manifest `label`, `source_label`)
    timezone: str | None = None  # a timestamp column's time zone
    sample: tuple[str, ...] = ()  # text columns: up to SAMPLE values spread over the rows


def _kind(arrow_type: pa.DataType) -> Kind:
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "number"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type):
        return "date"
    return "other"


def facts_of(table: pa.Table, manifest_columns: Sequence[Mapping[str, Any]] = ()) -> dict[str, ColumnFacts]:
    """Per column of the table: kind, labels (from the clean manifest's dictionary), a sample."""
    labels = {
        str(c.get("name")): tuple(dict.fromkeys(str(c[k]) for k in ("label", "source_label") if c.get(k)))
        for c in manifest_columns
    }
    rows = table.num_rows
    spread = pa.array(np.unique(np.linspace(0, rows - 1, min(rows, SAMPLE)).astype(np.int64)))
    out = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = _kind(column.type)
        sample: tuple[str, ...] = ()
        if kind == "text" and rows:
            sample = tuple(v for v in column.take(spread).to_pylist() if v is not None)
        zone = column.type.tz if pa.types.is_timestamp(column.type) else None
        out[name] = ColumnFacts(kind, labels.get(name, ()), zone, sample)
    return out


# --------------------------------------------------------------------------------------------------
# Meaning from names and labels
# --------------------------------------------------------------------------------------------------


def tokens(text: str) -> tuple[str, ...]:
    """Accent-free lower-case words: "Tọa độ - Vĩ độ (°)" -> ("toa", "do", "vi", "do")."""
    plain = unicodedata.normalize("NFD", text.translate(_ACCENT_FREE))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    return tuple("".join(ch if ch.isascii() and ch.isalnum() else " " for ch in plain).split())


def _has(words: tuple[str, ...], patterns: list[tuple[str, ...]]) -> bool:
    return any(words[i : i + len(p)] == p for p in patterns for i in range(len(words) - len(p) + 1))


def _texts(name: str, facts: ColumnFacts) -> list[tuple[str, ...]]:
    return [tokens(name), *(tokens(label) for label in facts.labels)]


def _axis(name: str, facts: ColumnFacts) -> tuple[str | None, bool]:
    """("latitude" | "longitude" | None, whether only a short abbreviation said so)."""
    texts = _texts(name, facts)
    for axis, patterns in (("latitude", _LATITUDE), ("longitude", _LONGITUDE)):
        if any(_has(words, patterns) for words in texts):
            return axis, False
    for words in texts:
        for word in words:
            if word in _SHORT:
                return _SHORT[word], words != (word,)
    return None, False


def _is_percent(name: str, facts: ColumnFacts) -> bool:
    return any("%" in label for label in facts.labels) or any(
        _has(words, _PERCENT) for words in _texts(name, facts)
    )


def _admin_level(name: str, facts: ColumnFacts) -> Level | None:
    """The level a code column names; the name decides before the labels."""
    for words in _texts(name, facts):
        while words and words[-1] in _QUALIFIERS:
            words = words[:-1]
        for level, patterns in _ADMIN.items():
            if any(words[-len(p) :] == p for p in patterns):
                return level
    return None


# --------------------------------------------------------------------------------------------------
# Official codes
# --------------------------------------------------------------------------------------------------


def _database() -> Path:
    found = importlib.util.find_spec("vietnamadminunits")
    if found is None or not found.submodule_search_locations:
        raise ModuleNotFoundError("vietnamadminunits is required for the admin-code checks")
    return Path(next(iter(found.submodule_search_locations))) / "data" / "dataset.db"


def _legacy(sql: str) -> set[str]:
    with sqlite3.connect(f"file:{_database()}?mode=ro", uri=True) as conn:
        return {str(r[0]) for r in conn.execute(sql) if r[0]}


@functools.cache
def official_codes(level: Level) -> frozenset[str]:
    """Zero-padded codes of one level, current list united with the pre-2025 one."""
    from vietnam_provinces import Province, Ward

    if level == "province":
        current = {f"{int(p.code):02d}" for p in Province.iter_all()}
        old = _legacy(
            "SELECT provinceCode FROM admin_units UNION SELECT provinceCode FROM admin_units_legacy"
        )
    elif level == "district":  # districts were abolished on 1 July 2025: the old list only
        current, old = set(), _legacy("SELECT districtCode FROM admin_units_legacy")
    else:
        current = {f"{int(w.code):05d}" for w in Ward.iter_all()}
        old = _legacy("SELECT wardCode FROM admin_units UNION SELECT wardCode FROM admin_units_legacy")
    return frozenset(current | old)


# --------------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------------


def _bounded(spec: DatasetSpec, quality: QualitySpec) -> set[str]:
    """Columns whose values the spec bounds itself (hints, or a range / set expectation)."""
    hints = spec.schema_.columns
    out = {n for n, h in hints.items() if h.min is not None or h.max is not None or h.values is not None}
    bounding = {b.replace("_", "") for b in _BOUNDING}  # snake_case or class name, compared alike
    for e in quality.expectations:
        if e.type.strip().replace("_", "").lower() in bounding and isinstance(e.args.get("column"), str):
            out.add(e.args["column"])
    return out


def _future() -> str:
    today = date.today()
    try:
        return today.replace(year=today.year + FUTURE_YEARS).isoformat()
    except ValueError:  # 29 February
        return today.replace(year=today.year + FUTURE_YEARS, day=28).isoformat()


_LEVEL_WORDS = {
    "province": ("tỉnh/thành phố", "province"),
    "district": ("quận/huyện (trước 7/2025)", "district"),
    "ward": ("phường/xã", "ward"),
}
_DESCRIPTIONS = {
    "latitude": f"Vĩ độ trong lãnh thổ Việt Nam kể cả hải đảo ({LATITUDE[0]}–{LATITUDE[1]}) / "
    f"Latitude within Viet Nam and its islands ({LATITUDE[0]} to {LATITUDE[1]})",
    "longitude": f"Kinh độ trong lãnh thổ Việt Nam kể cả hải đảo ({LONGITUDE[0]}–{LONGITUDE[1]}) / "
    f"Longitude within Viet Nam and its islands ({LONGITUDE[0]} to {LONGITUDE[1]})",
    "percentages": "Tỷ lệ phần trăm từ 0 đến 100 / Percentage between 0 and 100",
    "dates": f"Ngày từ {FIRST_DATE} đến {FUTURE_YEARS} năm sau hôm nay / "
    f"Date from {FIRST_DATE} to {FUTURE_YEARS} years after today",
} | {
    level: f"Mã {vi} có trong danh mục chính thức (hiện hành hoặc trước 7/2025) / "
    f"{en} code in the official lists (current or before July 2025)"
    for level, (vi, en) in _LEVEL_WORDS.items()
}


def _between(
    name: str, low: Any, high: Any, family: str, severity: Severity, meaning: str
) -> PlannedExpectation:
    kwargs = {"column": name, "min_value": low, "max_value": high}
    origin = f"plausibility.{family}"
    return PlannedExpectation(
        "expect_column_values_to_be_between", kwargs, severity, origin, _DESCRIPTIONS[meaning]
    )


@functools.cache
def _sorted_codes(level: Level) -> tuple[str, ...]:
    return tuple(sorted(official_codes(level)))


def _admin_expectation(name: str, level: Level, facts: ColumnFacts) -> PlannedExpectation | None:
    """The in-set check when most of the sampled values are official codes of that level."""
    codes = official_codes(level)
    if not facts.sample or sum(v in codes for v in facts.sample) < MIN_SHARE * len(facts.sample):
        return None  # a code of another kind (ma_xa_hoi...): its name misled us
    kwargs = {"column": name, "value_set": list(_sorted_codes(level))}
    planned = PlannedExpectation(
        "expect_column_values_to_be_in_set", kwargs, "error", "plausibility.admin_codes", _DESCRIPTIONS[level]
    )
    planned.engine = "arrow" if len(codes) > GX_MAX_VALUE_SET else "gx"
    return planned


def plausibility_expectations(
    spec: DatasetSpec, quality: QualitySpec, facts: Mapping[str, ColumnFacts]
) -> list[PlannedExpectation]:
    """The automatic checks for the cleaned columns described by `facts` (see the docstring)."""
    skip = _bounded(spec, quality) | admin_columns(spec)
    axes = {n: _axis(n, f) for n, f in facts.items() if f.kind == "number"}
    found = {axis for axis, _ in axes.values() if axis}
    out: list[PlannedExpectation] = []
    for name, f in facts.items():
        if name in skip:
            continue
        axis, short = axes.get(name, (None, False))
        partner = "longitude" if axis == "latitude" else "latitude"
        if axis and (not short or partner in found):
            bounds = LATITUDE if axis == "latitude" else LONGITUDE
            out.append(_between(name, *bounds, "coordinates", "error", axis))
        elif f.kind == "number" and _is_percent(name, f):
            out.append(_between(name, 0, 100, "percentages", "warn", "percentages"))
        elif f.kind == "date":
            zone = "+00:00" if f.timezone else ""  # GX compares an aware column with aware bounds only
            first, last = f"{FIRST_DATE}T00:00:00{zone}", f"{_future()}T00:00:00{zone}"
            out.append(_between(name, first, last, "dates", "warn", "dates"))
        elif f.kind == "text" and (level := _admin_level(name, f)):
            planned = _admin_expectation(name, level, f)
            if planned is not None:
                out.append(planned)
    return out


# --------------------------------------------------------------------------------------------------
# Evaluation of engine "arrow" expectations
# --------------------------------------------------------------------------------------------------


@functools.cache
def _value_array(values: tuple[str, ...]) -> pa.Array:
    return pa.array(values, pa.string())


def evaluate_arrow(
    p: PlannedExpectation, index: int, table: pa.Table
) -> tuple[ExpectationOutcome, list[int]]:
    """An in-set expectation computed with pyarrow, as GX would report it; and the failing rows."""
    if p.type != "expect_column_values_to_be_in_set":
        raise ValueError(f"engine arrow runs expect_column_values_to_be_in_set only, not {p.type}")
    name, values = p.kwargs["column"], tuple(p.kwargs["value_set"])
    kwargs = {"column": name, "value_set_size": len(values)}  # the set itself would bloat the summary
    outcome = ExpectationOutcome(
        index, p.type, name, p.severity, p.origin, False, description=p.description, kwargs=kwargs
    )
    if name not in table.column_names:
        outcome.message = f"column {name} not found in the cleaned data"
        return outcome, []
    column = table.column(name)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    # nulls are not values (GX skips them too); is_in says False for them, so they are masked
    outside = pc.and_(pc.invert(pc.is_in(column, value_set=_value_array(values))), pc.is_valid(column))
    rows = pc.indices_nonzero(outside.combine_chunks() if isinstance(outside, pa.ChunkedArray) else outside)
    failing = rows.to_pylist()
    present = len(column) - column.null_count
    outcome.success = not failing
    outcome.row_level = True
    outcome.unexpected_count = len(failing)
    outcome.unexpected_percent = round(100.0 * len(failing) / present, 4) if present else 0.0
    outcome.partial_unexpected_list = column.take(rows[:PARTIAL]).to_pylist()
    return outcome, failing
