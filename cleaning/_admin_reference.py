"""Reference data for admin units: name keys and the two packages' lists, loaded once.

``vietnamadminunits`` gives the spelling variants, the old -> new mapping and its own ward codes;
``vietnam-provinces`` gives the official GSO list. Where both give a code for the same ward and the
codes differ, the GSO code is kept and the disagreement is recorded (``official_ward_of``).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

from vietnam_provinces import Province, Ward

from citydata.kernels.vietnamese import strip_accents

GSO_SOURCE = "vietnam-provinces"
VAU_SOURCE = "vietnamadminunits"


def disagreement(column: str, value: str, source: str, other: str, other_source: str) -> str:
    """``ward_code 26794 (vietnam-provinces) ≠ 26800 (vietnamadminunits)``: both values, both sources."""
    return f"{column} {value} ({source}) ≠ {other} ({other_source})"


# --------------------------------------------------------------------------------------------------
# Name keys
# --------------------------------------------------------------------------------------------------

PREFIX = re.compile(
    r"^(?:thanh pho|tp|tinh|quan|q|huyen|h|thi xa|tx|thi tran|tt|phuong|p|f|xa|x|dac khu)(?=[\s.\d]|$)[\s.]*"
)
_NOT_ALNUM_ASCII = re.compile(r"[^a-z0-9]+")
_NOT_WORD = re.compile(r"[\W_]+")


def plain(text: str) -> str:
    """Lower-case ASCII with single spaces: "Tp. Hồ Chí Minh" -> "tp. ho chi minh"."""
    return " ".join(strip_accents(unicodedata.normalize("NFC", text)).lower().split())


def compact(text: str) -> str:
    return _NOT_ALNUM_ASCII.sub("", text)


def accented(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFC", text).lower())


def name_keys(value: str, type_words: tuple[str, ...]) -> list[str]:
    """Candidate lookup keys, most specific first: full name, name without its unit-type prefix."""
    flat = plain(value)
    stripped = PREFIX.sub("", flat)
    keys = [compact(flat), compact(stripped)]
    bare = compact(stripped)
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


class Reference:
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
                        index[prov][accented(info["ward"])].add(wkey)

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
        for source, is_accented in (
            ("DICT_PROVINCE_DISTRICT_WARD_NO_ACCENTED", False),
            ("DICT_PROVINCE_DISTRICT_WARD_ACCENTED", True),
            ("DICT_PROVINCE_DISTRICT_WARD_SHORT_ACCENTED", True),
        ):
            old_index = self.old_ward_kw_acc if is_accented else self.old_ward_kw
            for prov, districts in old[source].items():
                for dkey, wards in districts.items():
                    for wkey, info in wards.items():
                        self.old_ward[(prov, dkey, wkey)] = info
                        for kw in info["wardKeywords"]:
                            old_index[(prov, dkey)][kw].add(wkey)
                            self.old_ward_by_province[prov][kw].add((dkey, wkey))
                        if is_accented:
                            old_index[(prov, dkey)][accented(info["ward"])].add(wkey)

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
            self.official_ward[(int(w.province_code), compact(plain(w.name)))].append(w)

    def official_ward_of(
        self, province_code: int, name: str, fallback_code: str
    ) -> tuple[str, str, str | None]:
        """(5-digit code, name, disagreement) from the GSO list, matched by name within the province.

        ``fallback_code`` is vietnamadminunits' code, used when the GSO list has no single match.
        When both lists give a code and they differ, the GSO code wins (it is the official list)
        but the third item names both, so the output can flag the row instead of hiding it.
        """
        found = self.official_ward.get((province_code, compact(plain(name))), [])
        if len(found) > 1:
            found = [w for w in found if accented(tone_style(w.name)) == accented(tone_style(name))]
        own = f"{int(fallback_code):05d}"
        if len(found) == 1:
            code = f"{int(found[0].code):05d}"
            conflict = None if code == own else disagreement("ward_code", code, GSO_SOURCE, own, VAU_SOURCE)
            return code, " ".join(found[0].name.split()), conflict
        return own, name, None


_OLD_TONES = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "oè": "òe", "oé": "óe", "oẻ": "ỏe",
              "oẽ": "õe", "oẹ": "ọe", "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy"}  # fmt: skip


def tone_style(name: str) -> str:
    """Old tone placement to new ("Hoà" -> "Hòa"), to compare names written in either style."""
    name = unicodedata.normalize("NFC", name)
    for old, new in _OLD_TONES.items():
        name = name.replace(old, new).replace(old.capitalize(), new.capitalize())
    return name


@functools.cache
def reference() -> Reference:
    return Reference()
