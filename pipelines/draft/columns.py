"""Facts about each sampled column: type, codes, admin units, personal data, key candidates."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from cleaning.admin_units import resolve_admin_unit
from cleaning.identifiers import is_code_name
from pipelines.draft.sample import Sample
from quality.suggest import key_like

Level = Literal["province", "district", "ward"]
ADMIN_MIN_SHARE = 0.8  # share of a column's distinct names that must resolve at one level
ADMIN_MAX_VALUES = 200  # distinct names looked up per column (each is a Python lookup)
_HCMC = "Thành phố Hồ Chí Minh"  # the default province of ward and district names (as cleaning)
_LEVEL_WORDS: dict[Level, tuple[str, ...]] = {
    "ward": ("phuong", "xa", "ward", "commune", "dia ban"),
    "district": ("quan", "huyen", "district"),
    "province": ("tinh", "thanh pho", "province"),
}
_ROW_NUMBER_NAMES = {"stt", "tt", "so_thu_tu", "so_tt"}  # "STT": row numbers of a report, not a key


@dataclass
class ColumnFacts:
    """One column of the draft, as the sample showed it."""

    name: str  # cleaned snake_case name (the spec's key)
    label: str  # the original header
    type: str
    identifier: bool  # codes kept as text (leading zeros, code-like name)
    locale: str | None
    locale_source: str | None
    present: int  # non-null cleaned values in the sample
    nulls: int
    distinct: int
    zero_led: list[str] = field(default_factory=list)  # codes with a leading zero, e.g. '00123'
    admin_unit: Level | None = None
    admin_share: float = 0.0  # share of distinct names that resolved at that level
    admin_examples: list[str] = field(default_factory=list)
    pii: dict[str, int] = field(default_factory=dict)  # kind -> cells in the sample

    @property
    def key_like(self) -> bool:
        """The name says the column identifies rows (ma_*, *_id, "Mã số"...)."""
        return key_like(self.name) or is_code_name(self.name, self.label)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join(
        "".join(c for c in text if not unicodedata.combining(c)).lower().replace("_", " ").split()
    )


def _resolves(level: Level, value: str) -> bool:
    if level == "province":
        unit = resolve_admin_unit(value)
        return unit.problem is None and unit.province_code is not None and unit.ward_code is None
    if level == "district":
        unit = resolve_admin_unit(None, value, None, default_province=_HCMC)
        return unit.problem is None and unit.old_district_code is not None
    unit = resolve_admin_unit(None, None, value, default_province=_HCMC)
    return unit.problem is None and unit.ward_code is not None


def admin_level(name: str, label: str, values: pa.ChunkedArray) -> tuple[Level, float, list[str]] | None:
    """The admin level the column's names resolve at (most of them), its share and examples."""
    if not pa.types.is_string(values.type):
        return None
    names = [v for v in pc.unique(pc.drop_null(values)).to_pylist() if any(c.isalpha() for c in v)]
    names = names[:ADMIN_MAX_VALUES]
    if not names or sum(len(n) for n in names) / len(names) > 60:  # sentences are not unit names
        return None
    said = _fold(f"{name} {label}").split()
    best: tuple[float, bool, Level] | None = None
    for level in ("ward", "district", "province"):
        share = sum(_resolves(level, n) for n in names) / len(names)
        named = any(
            " ".join(said[i : i + len(w.split())]) == w for w in _LEVEL_WORDS[level] for i in range(len(said))
        )
        if share >= ADMIN_MIN_SHARE and (best is None or (share, named) > best[:2]):
            best = (share, named, level)
    if best is None:
        return None
    return best[2], best[0], names[:3]


def _zero_led(values: pa.ChunkedArray) -> list[str]:
    if not pa.types.is_string(values.type):
        return []
    hits = pc.filter(values, pc.fill_null(pc.match_substring_regex(values, r"^0\d+$"), False))
    return [str(v) for v in pc.unique(hits).slice(0, 3).to_pylist()]


def column_facts(sample: Sample) -> list[ColumnFacts]:
    """Facts of every column of the sample, in file order."""
    table = sample.table
    out: list[ColumnFacts] = []
    taken: set[str] = set()
    for plan in sample.plans:
        if plan.name not in table.column_names:
            continue
        values = table.column(plan.name)
        present = len(values) - values.null_count
        facts = ColumnFacts(
            plan.name, plan.label, plan.type, plan.identifier, plan.locale, plan.locale_source, present,
            values.null_count, pc.count_distinct(values, mode="only_valid").as_py() or 0,
            zero_led=_zero_led(values) if plan.identifier else [], pii=dict(sample.pii.get(plan.name, {})),
        )  # fmt: skip
        if plan.type == "string" and not plan.identifier and not facts.pii:
            found = admin_level(plan.name, plan.label, values)
            if found is not None and found[0] not in taken:  # the clean stage takes one column per level
                facts.admin_unit, facts.admin_share, facts.admin_examples = found
                taken.add(found[0])
        out.append(facts)
    return out


def key_candidates(columns: list[ColumnFacts], rows: int) -> list[ColumnFacts]:
    """Columns unique and non-null in the sample, the likeliest keys first (key-like names, codes)."""
    found = [
        c
        for c in columns
        if rows > 1 and c.nulls == 0 and c.distinct == rows and not c.pii
        and (c.type in ("string", "integer") or c.key_like)
    ]  # fmt: skip
    return sorted(found, key=lambda c: (not c.key_like, not c.identifier, c.type != "integer"))


def primary_key(candidates: list[ColumnFacts]) -> list[str]:
    """The key the draft declares: the best candidate when its name or its codes say it is one."""
    for c in candidates:
        if c.name in _ROW_NUMBER_NAMES:
            continue
        if c.key_like or c.identifier:
            return [c.name]
    return []
