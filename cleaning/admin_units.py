"""Province / district / ward names to official codes and names, before and after the 2025 reform.

On 1 July 2025 districts were abolished and 63 provinces became 34 (Ho Chi Minh City absorbed
Bình Dương and Bà Rịa - Vũng Tàu). Agency files mix both systems. This module resolves each
distinct (province, district, ward) combination once, in Python, and maps the answers back to
all rows with ``pc.unique`` / ``pc.index_in`` / ``take``.

Data: the spelling variants and the old -> new mapping come from the data files of
``vietnamadminunits`` (its parser and converter functions are not called: they pick words out of
free text and can geocode over the network); official new codes and names come from
``vietnam-provinces`` (the GSO list); both are loaded by ``cleaning._admin_reference``. Where the
two packages give different codes for a ward, the GSO code is published and ``admin_conflict``
names both (``cleaning.admin_conflicts`` adds the row's own code columns to that check).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from citydata.spec.columns import ADMIN_COLUMNS  # the columns this module adds (the spec checks names)
from cleaning._admin_reference import Reference, accented, compact, name_keys, plain, reference
from cleaning.issues import Issue

__all__ = [
    "ADMIN_COLUMNS",
    "ADMIN_LABELS",
    "AdminUnit",
    "AdminUnitsResult",
    "admin_dictionary",
    "normalize_admin_units",
    "resolve_admin_unit",
]

# The data dictionary of the columns this module adds (Vietnamese label, description): the one place
# they are written; the clean stage's dictionary and the catalog's DataStore `info` read them.
_NEW = "theo danh mục sau sắp xếp từ ngày 01/07/2025 (Cục Thống kê)"
_OLD = "trước ngày 01/07/2025 (khi dữ liệu gốc có ghi)"
ADMIN_LABELS: dict[str, tuple[str, str]] = {
    "province_code": ("Mã tỉnh/thành phố", f"Mã tỉnh, thành phố {_NEW}."),
    "province_name": ("Tên tỉnh/thành phố", f"Tên tỉnh, thành phố {_NEW}."),
    "ward_code": ("Mã phường/xã", f"Mã phường, xã, đặc khu {_NEW}."),
    "ward_name": ("Tên phường/xã", f"Tên phường, xã, đặc khu {_NEW}."),
    "old_district_code": ("Mã quận/huyện cũ", f"Mã quận, huyện {_OLD}."),
    "old_district_name": ("Tên quận/huyện cũ", f"Tên quận, huyện {_OLD}."),
    "admin_status": (
        "Tình trạng chuẩn hóa địa giới",
        "current: đã là đơn vị mới; converted: đổi từ đơn vị cũ; converted_split: đơn vị cũ bị chia, "
        "ghi đơn vị kế thừa chính; partial: chỉ xác định được tỉnh; ambiguous: nhiều khả năng; "
        "unknown: không xác định được.",
    ),
    "admin_conflict": (
        "Ghi chú mã không khớp",
        "Khi các danh mục (hoặc mã ghi trong dòng dữ liệu) cho mã khác nhau: ghi cả hai mã.",
    ),
}
if set(ADMIN_LABELS) != set(ADMIN_COLUMNS):  # pragma: no cover - caught at import by every test
    raise RuntimeError("cleaning.admin_units: ADMIN_LABELS must describe every ADMIN_COLUMNS entry")


def admin_dictionary(column: str) -> tuple[str, str] | None:
    """(label, description) of an added column, by its name or its `std_` name; None for others."""
    base = column[4:] if column.startswith("std_") and column[4:] in ADMIN_LABELS else column
    if base not in ADMIN_LABELS:
        return None
    label, description = ADMIN_LABELS[base]
    return (f"{label} (chuẩn hóa)", description) if base != column else (label, description)


Mode = Literal["auto", "new", "legacy"]
_T = TypeVar("_T")
Status = Literal["current", "converted", "converted_split", "partial", "ambiguous", "unknown"]


@dataclass(frozen=True, slots=True)
class AdminUnit:
    """Resolved unit (post-2025 codes and names; old district kept when the input named one).

    ``status``: ``current`` (input already post-reform), ``converted`` (pre-reform unit mapped to
    its successor), ``converted_split`` (the old ward was split: the main successor is given),
    ``partial`` (province found, lower level not), ``ambiguous``, ``unknown``.
    ``problem`` names the failing level and reason for ``partial``/``ambiguous``/``unknown``.
    ``conflict`` names both codes when the two reference packages disagree on the ward (the GSO
    code is the one given in ``ward_code``).
    """

    province_code: str | None
    province_name: str | None
    ward_code: str | None
    ward_name: str | None
    old_district_code: str | None
    old_district_name: str | None
    status: Status
    problem: tuple[str, str] | None = None  # (level: province/district/ward, reason)
    conflict: str | None = None  # "ward_code 26794 (vietnam-provinces) ≠ 26800 (vietnamadminunits)"


@dataclass(frozen=True)
class AdminUnitsResult:
    """``table`` has the ``ADMIN_COLUMNS`` (one row per input row); ``issues`` name unknown values."""

    table: pa.Table
    issues: list[Issue]


# --------------------------------------------------------------------------------------------------
# Resolution of one combination
# --------------------------------------------------------------------------------------------------

_PROVINCE_WORDS = ("thanhpho", "tinh")
_DISTRICT_WORDS = ("quan", "huyen", "thixa", "thanhpho")
_WARD_WORDS = ("phuong", "xa", "thitran", "dackhu")


def _lookup(index: dict[str, set[_T]], keys: list[str]) -> set[_T]:
    for key in keys:
        if key in index:
            return index[key]
    return set()


def _ward_candidates(value: str, kw: dict[str, set[str]], kw_acc: dict[str, set[str]]) -> set[str]:
    """Ward keys matching ``value``: names that differ only by diacritics need them to be told apart."""
    keys = name_keys(value, _WARD_WORDS)
    if value.isascii():  # no diacritics: every ward whose name strips to the same letters
        found = set(_lookup(kw, keys))
        by_letters = {w for k, ws in kw_acc.items() if compact(plain(k)) in keys[:2] for w in ws}
        return found | by_letters
    acc = accented(value)
    found = set(kw_acc.get(acc, set()))
    if not found:
        stripped_acc = accented(_PREFIX_ACC.sub("", unicodedata.normalize("NFC", value).lower().strip()))
        found = set(kw_acc.get(stripped_acc, set()))
    return found or _lookup(kw, keys)


_PREFIX_ACC = re.compile(r"^(?:phường|xã|thị trấn|đặc khu|p|x|tt)(?=[\s.\d]|$)[\s.]*")


def _province_unit(ref: Reference, new_key: str) -> tuple[int, str]:
    code = int(ref.new_province[new_key]["provinceCode"])
    return code, ref.official_province.get(code, ref.new_province[new_key]["province"])


def _new_ward_unit(ref: Reference, prov: str, wkey: str) -> tuple[str, str, str | None]:
    info = ref.new_ward[(prov, wkey)]
    code, _ = _province_unit(ref, prov)
    return ref.official_ward_of(code, info["ward"], info["wardCode"])


def _result(
    ref: Reference,
    prov: str,
    ward: tuple[str, str, str | None] | None,
    district: dict[str, Any] | None,
    status: Status,
    problem: tuple[str, str] | None = None,
) -> AdminUnit:
    code, name = _province_unit(ref, prov)
    return AdminUnit(
        f"{code:02d}",
        name,
        ward[0] if ward else None,
        ward[1] if ward else None,
        district["districtCode"] if district else None,
        district["district"] if district else None,
        status,
        problem,
        ward[2] if ward else None,
    )


def _find_old_district(ref: Reference, old_prov: str, district: str, ward: str | None) -> str | None:
    keys = name_keys(district, _DISTRICT_WORDS)
    found = _lookup(ref.old_district_kw[old_prov], keys)
    if len(found) == 1:
        return next(iter(found))
    split = next((ref.divided[old_prov][k] for k in keys if k in ref.divided.get(old_prov, {})), None)
    if split:
        if ward:
            wkeys = name_keys(ward, _WARD_WORDS)
            for dkey, entry in split.items():
                if any(k in entry["wardKeywords"] for k in wkeys):
                    return str(dkey)
        return next((str(k) for k, e in split.items() if e["districtDefault"]), None)
    return None


def resolve_admin_unit(
    province: str | None,
    district: str | None = None,
    ward: str | None = None,
    mode: Mode = "auto",
    default_province: str | None = None,
) -> AdminUnit:
    """Resolve one (province, district, ward) spelling to post-reform codes and names.

    A district means pre-reform input (districts no longer exist). Without one, ``auto`` tries the
    post-reform ward list first, then pre-reform wards of the province (unique name needed).
    ``default_province`` (name or 2-digit code) is used when ``province`` is empty.
    """
    ref = reference()
    province = province if province and province.strip() else default_province
    if not province:
        return AdminUnit(None, None, None, None, None, None, "unknown", ("province", "missing province"))
    pkeys = name_keys(province, _PROVINCE_WORDS)
    if province.strip().isdigit():
        code = int(province)
        by_code = [k for k, v in ref.new_province.items() if int(v["provinceCode"]) == code]
        by_code_old = [k for k, v in ref.old_province.items() if int(v["provinceCode"]) == code]
        new_prov = by_code[0] if by_code and mode != "legacy" else None
        old_prov = by_code_old[0] if by_code_old else None
    else:
        new_prov = next((ref.new_province_kw[k] for k in pkeys if k in ref.new_province_kw), None)
        new_prov = new_prov if mode != "legacy" else None
        old_prov = next((ref.old_province_kw[k] for k in pkeys if k in ref.old_province_kw), None)
    if new_prov is None and old_prov is None:
        return AdminUnit(None, None, None, None, None, None, "unknown", ("province", "unknown province"))
    target = new_prov or ref.province_old_to_new[str(old_prov)]
    province_status: Status = "current" if new_prov else "converted"
    # old provinces that now form the target province (to read pre-reform districts and wards)
    old_candidates = list(
        dict.fromkeys([*([old_prov] if old_prov else []), *ref.new_to_old_provinces[target]])
    )

    if district and district.strip():
        for op in old_candidates:
            dkey = _find_old_district(ref, op, district, ward)
            if dkey is None:
                continue
            dinfo = ref.old_district[op][dkey]
            if not (ward and ward.strip()):
                key = f"{op}_{dkey}_"
                if key in ref.ward_old_to_new:  # island districts became special zones
                    nprov, nward, _ = ref.ward_old_to_new[key]
                    return _result(ref, nprov, _new_ward_unit(ref, nprov, nward), dinfo, "converted")
                return _result(ref, target, None, dinfo, "converted")
            wkeys = _ward_candidates(ward, ref.old_ward_kw[(op, dkey)], ref.old_ward_kw_acc[(op, dkey)])
            if len(wkeys) == 1:
                old_key = f"{op}_{dkey}_{next(iter(wkeys))}"
                if old_key in ref.ward_old_to_new:
                    nprov, nward, split = ref.ward_old_to_new[old_key]
                    status: Status = "converted_split" if split else "converted"
                    return _result(ref, nprov, _new_ward_unit(ref, nprov, nward), dinfo, status)
            if len(wkeys) > 1:
                return _result(ref, target, None, dinfo, "ambiguous", ("ward", "ambiguous ward in district"))
            # a post-reform ward written next to its old district
            nkeys = _ward_candidates(ward, ref.new_ward_kw[target], ref.new_ward_kw_acc[target])
            if len(nkeys) == 1:
                return _result(ref, target, _new_ward_unit(ref, target, next(iter(nkeys))), dinfo, "current")
            return _result(ref, target, None, dinfo, "partial", ("ward", "unknown ward in district"))
        if not (ward and ward.strip()):
            return _result(ref, target, None, None, "partial", ("district", "unknown district"))

    if not (ward and ward.strip()):
        return _result(ref, target, None, None, province_status)
    if mode != "legacy":
        nkeys = _ward_candidates(ward, ref.new_ward_kw[target], ref.new_ward_kw_acc[target])
        if len(nkeys) == 1:
            return _result(ref, target, _new_ward_unit(ref, target, next(iter(nkeys))), None, province_status)
        if len(nkeys) > 1:
            return _result(ref, target, None, None, "ambiguous", ("ward", "ambiguous ward name"))
    if mode != "new":
        hits: set[tuple[str, str, str]] = set()
        keys = name_keys(ward, _WARD_WORDS)
        acc = accented(ward)
        for op in old_candidates:
            for dkey, wkey in _lookup(ref.old_ward_by_province[op], [acc, *keys]):
                hits.add((op, dkey, wkey))
        if len(hits) == 1:
            op, dkey, wkey = next(iter(hits))
            mapped = ref.ward_old_to_new.get(f"{op}_{dkey}_{wkey}")
            if mapped:
                nprov, nward, split = mapped
                dinfo = ref.old_district[op][dkey]
                return _result(
                    ref,
                    nprov,
                    _new_ward_unit(ref, nprov, nward),
                    dinfo,
                    "converted_split" if split else "converted",
                )
        if len(hits) > 1:
            return _result(
                ref, target, None, None, "ambiguous", ("ward", f"ward name in {len(hits)} old districts")
            )
    return _result(ref, target, None, None, "partial", ("ward", "unknown ward"))


# --------------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------------

_SEP = "\x1f"
_NULL = "\x00"


def normalize_admin_units(
    province: pa.Array | pa.ChunkedArray | None,
    district: pa.Array | pa.ChunkedArray | None = None,
    ward: pa.Array | pa.ChunkedArray | None = None,
    mode: Mode = "auto",
    default_province: str | None = None,
    column_names: tuple[str, str, str] = ("province", "district", "ward"),
) -> AdminUnitsResult:
    """Resolve admin-unit columns row by row (each distinct combination once).

    Returns ``ADMIN_COLUMNS``: 2-digit province code, 5-digit ward code (GSO, post-reform), official
    names, the old district when given, ``admin_status``, and ``admin_conflict`` (null, or the two
    packages' differing ward codes). Rows whose names are not found get
    an issue on the failing column (``column_names``); all-null rows stay null without issue.
    """
    given = [a for a in (province, district, ward) if a is not None]
    if not given:
        raise ValueError("give at least one of province, district, ward")
    length = len(given[0])

    def as_text(a: pa.Array | pa.ChunkedArray | None) -> pa.Array | pa.ChunkedArray:
        if a is None:
            return pa.nulls(length, pa.string())
        return pc.cast(a, pa.string())

    cols = [as_text(a) for a in (province, district, ward)]
    joined = pc.binary_join_element_wise(*cols, _SEP, null_handling="replace", null_replacement=_NULL)
    uniques = pc.unique(joined)
    combos = [u.split(_SEP) for u in uniques.to_pylist()]
    resolved: list[AdminUnit | None] = []
    for p, d, w in combos:
        values = [None if v == _NULL else v for v in (p, d, w)]
        if all(v is None or not v.strip() for v in values) and default_province is None:
            resolved.append(None)
            continue
        resolved.append(resolve_admin_unit(values[0], values[1], values[2], mode, default_province))
    positions = pc.index_in(joined, value_set=uniques)
    out = {}
    attrs = {"admin_status": "status", "admin_conflict": "conflict"}
    for name in ADMIN_COLUMNS:
        attr = attrs.get(name, name)
        lookup = pa.array([getattr(r, attr) if r else None for r in resolved], pa.string())
        out[name] = pc.take(lookup, positions)
    table = pa.table(out)

    issues: list[Issue] = []
    level_column = dict(zip(("province", "district", "ward"), column_names, strict=True))
    level_index = {"province": 0, "district": 1, "ward": 2}
    bad = [i for i, r in enumerate(resolved) if r is not None and r.problem is not None]
    if bad:
        bad_set = pa.array(bad, pa.int32())
        rows = pc.indices_nonzero(pc.is_in(positions, value_set=bad_set)).to_pylist()
        pos = pc.take(positions, pa.array(rows, pa.int64())).to_pylist() if rows else []
        for row, u in zip(rows, pos, strict=True):
            unit = resolved[u]
            assert unit is not None and unit.problem is not None
            level, reason = unit.problem
            value = combos[u][level_index[level]]
            issues.append(Issue(int(row), level_column[level], None if value == _NULL else value, reason))
    return AdminUnitsResult(table, issues)
