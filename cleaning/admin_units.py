"""Province / district / ward names to official codes and names, before and after the 2025 reform.

On 1 July 2025 districts were abolished and 63 provinces became 34 (Ho Chi Minh City absorbed
Bình Dương and Bà Rịa - Vũng Tàu). Agency files mix both systems. This module resolves each
distinct (province, district, ward) combination once, in Python, and maps the answers back to
all rows with ``pc.unique`` / ``pc.index_in`` / ``take``.

Data: the spelling variants and the old -> new mapping come from the data files of
``vietnamadminunits`` (its parser and converter functions are not called: they pick words out of
free text and can geocode over the network); official new codes and names come from
``vietnam-provinces`` (the GSO list).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from vietnam_provinces import Province, Ward

from cleaning._vi import strip_accents
from cleaning.issues import Issue

__all__ = ["ADMIN_COLUMNS", "AdminUnit", "AdminUnitsResult", "normalize_admin_units", "resolve_admin_unit"]

Mode = Literal["auto", "new", "legacy"]
_T = TypeVar("_T")
Status = Literal["current", "converted", "converted_split", "partial", "ambiguous", "unknown"]

ADMIN_COLUMNS = (
    "province_code",
    "province_name",
    "ward_code",
    "ward_name",
    "old_district_code",
    "old_district_name",
    "admin_status",
)


@dataclass(frozen=True, slots=True)
class AdminUnit:
    """Resolved unit (post-2025 codes and names; old district kept when the input named one).

    ``status``: ``current`` (input already post-reform), ``converted`` (pre-reform unit mapped to
    its successor), ``converted_split`` (the old ward was split: the main successor is given),
    ``partial`` (province found, lower level not), ``ambiguous``, ``unknown``.
    ``problem`` names the failing level and reason for ``partial``/``ambiguous``/``unknown``.
    """

    province_code: str | None
    province_name: str | None
    ward_code: str | None
    ward_name: str | None
    old_district_code: str | None
    old_district_name: str | None
    status: Status
    problem: tuple[str, str] | None = None  # (level: province/district/ward, reason)


@dataclass(frozen=True)
class AdminUnitsResult:
    """``table`` has the ``ADMIN_COLUMNS`` (one row per input row); ``issues`` name unknown values."""

    table: pa.Table
    issues: list[Issue]


# --------------------------------------------------------------------------------------------------
# Name keys
# --------------------------------------------------------------------------------------------------

_PREFIX = re.compile(
    r"^(?:thanh pho|tp|tinh|quan|q|huyen|h|thi xa|tx|thi tran|tt|phuong|p|f|xa|x|dac khu)(?=[\s.\d]|$)[\s.]*"
)
_NOT_ALNUM_ASCII = re.compile(r"[^a-z0-9]+")
_NOT_WORD = re.compile(r"[\W_]+")


def _plain(text: str) -> str:
    """Lower-case ASCII with single spaces: "Tp. Hồ Chí Minh" -> "tp. ho chi minh"."""
    return " ".join(strip_accents(unicodedata.normalize("NFC", text)).lower().split())


def _compact(text: str) -> str:
    return _NOT_ALNUM_ASCII.sub("", text)


def _accented(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFC", text).lower())


def _keys(value: str, type_words: tuple[str, ...]) -> list[str]:
    """Candidate lookup keys, most specific first: full name, name without its unit-type prefix."""
    plain = _plain(value)
    stripped = _PREFIX.sub("", plain)
    keys = [_compact(plain), _compact(stripped)]
    bare = _compact(stripped)
    if bare.isdigit():
        number = str(int(bare))
        keys += [w + bare for w in type_words] + [w + number for w in type_words]
    else:
        keys += [w + bare for w in type_words]
    return [k for k in dict.fromkeys(keys) if k]


# --------------------------------------------------------------------------------------------------
# Reference data (loaded once)
# --------------------------------------------------------------------------------------------------


def _data_dir() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("vietnamadminunits is required for admin-unit normalisation")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _load(name: str) -> dict[str, Any]:
    with (_data_dir() / name).open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


_DistrictIndex = dict[tuple[str, str], dict[str, set[str]]]
_EXTRA_PROVINCE_KEYWORDS = {
    k: "thanhphohochiminh" for k in ("hcmc", "tphcm", "tphochiminh", "hochiminhcity", "cityhochiminh")
} | {
    "tphn": "thanhphohanoi",
    "tpdanang": "thanhphodanang",
    "tpcantho": "thanhphocantho",
    "tphaiphong": "thanhphohaiphong",
}


class _Reference:
    def __init__(self) -> None:
        new = _load("parser_from_2025.json")
        old = _load("parser_legacy.json")
        conv = _load("converter_2025.json")

        self.new_province = new["DICT_PROVINCE"]
        self.new_province_kw: dict[str, str] = {
            kw: key for key, v in self.new_province.items() for kw in v["provinceKeywords"]
        }
        self.new_province_kw.update(_EXTRA_PROVINCE_KEYWORDS)
        self.new_ward: dict[tuple[str, str], dict[str, Any]] = {}
        self.new_ward_kw: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.new_ward_kw_acc: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for source, index in (
            ("DICT_PROVINCE_WARD_NO_ACCENTED", self.new_ward_kw),
            ("DICT_PROVINCE_WARD_ACCENTED", self.new_ward_kw_acc),
            ("DICT_PROVINCE_WARD_SHORT_ACCENTED", self.new_ward_kw_acc),
        ):
            for prov, wards in new[source].items():
                for wkey, info in wards.items():
                    self.new_ward[(prov, wkey)] = info
                    for kw in info["wardKeywords"]:
                        index[prov][kw].add(wkey)
                    if index is self.new_ward_kw_acc:
                        index[prov][_accented(info["ward"])].add(wkey)

        self.old_province = old["DICT_PROVINCE"]
        self.old_province_kw: dict[str, str] = {
            kw: key for key, v in self.old_province.items() for kw in v["provinceKeywords"]
        }
        self.old_province_kw.update(_EXTRA_PROVINCE_KEYWORDS)
        self.old_district = old["DICT_PROVINCE_DISTRICT"]
        self.old_district_kw: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for prov, districts in self.old_district.items():
            for dkey, info in districts.items():
                for kw in info["districtKeywords"]:
                    self.old_district_kw[prov][kw].add(dkey)
        # districts split before 2025 (one old name, several later districts): choose by ward
        self.divided: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for prov, entries in old["DICT_PROVINCE_DISTRICT_DIVIDED"].items():
            for entry in entries.values():
                for kw in entry["dividedDistrictKeywords"]:
                    self.divided[prov][kw] = entry["districts"]
        self.old_ward: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.old_ward_kw: _DistrictIndex = defaultdict(lambda: defaultdict(set))
        self.old_ward_kw_acc: _DistrictIndex = defaultdict(lambda: defaultdict(set))
        self.old_ward_by_province: dict[str, dict[str, set[tuple[str, str]]]] = defaultdict(
            lambda: defaultdict(set)
        )
        for source, accented in (
            ("DICT_PROVINCE_DISTRICT_WARD_NO_ACCENTED", False),
            ("DICT_PROVINCE_DISTRICT_WARD_ACCENTED", True),
            ("DICT_PROVINCE_DISTRICT_WARD_SHORT_ACCENTED", True),
        ):
            old_index = self.old_ward_kw_acc if accented else self.old_ward_kw
            for prov, districts in old[source].items():
                for dkey, wards in districts.items():
                    for wkey, info in wards.items():
                        self.old_ward[(prov, dkey, wkey)] = info
                        for kw in info["wardKeywords"]:
                            old_index[(prov, dkey)][kw].add(wkey)
                            self.old_ward_by_province[prov][kw].add((dkey, wkey))
                        if accented:
                            old_index[(prov, dkey)][_accented(info["ward"])].add(wkey)

        self.province_old_to_new: dict[str, str] = {
            o: n for n, olds in conv["DICT_PROVINCE"].items() for o in olds
        }
        self.new_to_old_provinces: dict[str, list[str]] = {
            n: list(o) for n, o in conv["DICT_PROVINCE"].items()
        }
        self.ward_old_to_new: dict[str, tuple[str, str, bool]] = {}
        for prov, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
            for wkey, olds in wards.items():
                for o in olds:
                    self.ward_old_to_new[o] = (prov, wkey, False)
        for prov, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
            for o, targets in olds.items():
                default = next((t["newWardKey"] for t in targets if t["isDefaultNewWard"]), None)
                if default:
                    self.ward_old_to_new[o] = (prov, default, True)

        # official names and codes (GSO list, vietnam-provinces)
        self.official_province = {int(p.code): p.name for p in Province.iter_all()}
        self.official_ward: dict[tuple[int, str], list[Ward]] = defaultdict(list)
        for w in Ward.iter_all():
            self.official_ward[(int(w.province_code), _compact(_plain(w.name)))].append(w)

    def official_ward_of(self, province_code: int, name: str, fallback_code: str) -> tuple[str, str]:
        """(5-digit code, name) from the GSO list, matched by name within the province."""
        found = self.official_ward.get((province_code, _compact(_plain(name))), [])
        if len(found) > 1:
            found = [w for w in found if _accented(_tone_style(w.name)) == _accented(_tone_style(name))]
        if len(found) == 1:
            return f"{int(found[0].code):05d}", " ".join(found[0].name.split())
        return f"{int(fallback_code):05d}", name


_OLD_TONES = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "oè": "òe", "oé": "óe", "oẻ": "ỏe",
              "oẽ": "õe", "oẹ": "ọe", "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy"}  # fmt: skip


def _tone_style(name: str) -> str:
    """Old tone placement to new ("Hoà" -> "Hòa"), to compare names written in either style."""
    name = unicodedata.normalize("NFC", name)
    for old, new in _OLD_TONES.items():
        name = name.replace(old, new).replace(old.capitalize(), new.capitalize())
    return name


@functools.cache
def _reference() -> _Reference:
    return _Reference()


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
    keys = _keys(value, _WARD_WORDS)
    if value.isascii():  # no diacritics: every ward whose name strips to the same letters
        found = set(_lookup(kw, keys))
        accented = {w for k, ws in kw_acc.items() if _compact(_plain(k)) in keys[:2] for w in ws}
        return found | accented
    acc = _accented(value)
    found = set(kw_acc.get(acc, set()))
    if not found:
        stripped_acc = _accented(_PREFIX_ACC.sub("", unicodedata.normalize("NFC", value).lower().strip()))
        found = set(kw_acc.get(stripped_acc, set()))
    return found or _lookup(kw, keys)


_PREFIX_ACC = re.compile(r"^(?:phường|xã|thị trấn|đặc khu|p|x|tt)(?=[\s.\d]|$)[\s.]*")


def _province_unit(ref: _Reference, new_key: str) -> tuple[int, str]:
    code = int(ref.new_province[new_key]["provinceCode"])
    return code, ref.official_province.get(code, ref.new_province[new_key]["province"])


def _new_ward_unit(ref: _Reference, prov: str, wkey: str) -> tuple[str, str]:
    info = ref.new_ward[(prov, wkey)]
    code, _ = _province_unit(ref, prov)
    return ref.official_ward_of(code, info["ward"], info["wardCode"])


def _result(
    ref: _Reference,
    prov: str,
    ward: tuple[str, str] | None,
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
    )


def _find_old_district(ref: _Reference, old_prov: str, district: str, ward: str | None) -> str | None:
    keys = _keys(district, _DISTRICT_WORDS)
    found = _lookup(ref.old_district_kw[old_prov], keys)
    if len(found) == 1:
        return next(iter(found))
    split = next((ref.divided[old_prov][k] for k in keys if k in ref.divided.get(old_prov, {})), None)
    if split:
        if ward:
            wkeys = _keys(ward, _WARD_WORDS)
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
    ref = _reference()
    province = province if province and province.strip() else default_province
    if not province:
        return AdminUnit(None, None, None, None, None, None, "unknown", ("province", "missing province"))
    pkeys = _keys(province, _PROVINCE_WORDS)
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
        keys = _keys(ward, _WARD_WORDS)
        acc = _accented(ward)
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
    names, the old district when given, and ``admin_status``. Rows whose names are not found get
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
    for name in ADMIN_COLUMNS:
        attr = "status" if name == "admin_status" else name
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
