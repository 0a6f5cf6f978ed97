"""One rule for every column a spec names: it must exist in the dataset.

A spec names columns in `schema.primary_key`, in quality expectations' arguments, in
`quality.drift.acknowledge` and in the labeling section. When `schema.columns` lists the
columns, the loader checks every reference against that list plus the columns the clean stage
adds; when it does not, the stages check them against the cleaned data with `column_problems`,
so both say the same thing.

The quality and labeling sections are read here as plain dicts (their models belong to later
stages): only the keys that hold column names are looked at, and malformed sections are left to
those stages' own checks.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from citydata.spec.model import DatasetSpec

Loc = tuple[str | int, ...]

# The columns the clean stage adds when a column has an `admin_unit` hint (named `std_<name>` when
# the source already has a column of that name): defined here, where specs are checked, and used
# by cleaning.admin_units, which adds them.
ADMIN_COLUMNS: tuple[str, ...] = (
    "province_code",
    "province_name",
    "ward_code",
    "ward_name",
    "old_district_code",
    "old_district_name",
    "admin_status",
    "admin_conflict",
)
# Expectation arguments that name columns (GX 1.x): one column, a pair, or a list.
COLUMN_ARGS: tuple[str, ...] = ("column", "column_A", "column_B", "column_list")


@dataclass(frozen=True)
class ColumnRef:
    """A column named by the spec, and where: `loc` is the path of keys to it in the YAML."""

    loc: Loc
    column: str

    @property
    def field(self) -> str:
        return format_loc(self.loc)


def format_loc(loc: Loc) -> str:
    """('quality', 'expectations', 0, 'args', 'column') -> 'quality.expectations[0].args.column'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(top level)"


def _names(value: Any, loc: Loc) -> Iterator[ColumnRef]:
    """A column name or a list of them; other shapes are the owning stage's to report."""
    if isinstance(value, str):
        yield ColumnRef(loc, value)
    elif isinstance(value, list):
        yield from (ColumnRef((*loc, i), v) for i, v in enumerate(value) if isinstance(v, str))


def _get(section: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(section, dict):
            return None
        section = section.get(key)
    return section


def column_references(spec: DatasetSpec) -> list[ColumnRef]:
    """Every column the spec names outside `schema.columns`, in file order of sections."""
    refs = list(_names(list(spec.schema_.primary_key), ("schema", "primary_key")))
    expectations = _get(spec.quality, "expectations")
    for i, entry in enumerate(expectations if isinstance(expectations, list) else []):
        args = _get(entry, "args")
        for key in COLUMN_ARGS if isinstance(args, dict) else ():
            refs += _names(args.get(key), ("quality", "expectations", i, "args", key))
    refs += _names(_get(spec.quality, "drift", "acknowledge"), ("quality", "drift", "acknowledge"))
    lab = spec.labeling
    refs += _names(_get(lab, "columns"), ("labeling", "columns"))
    refs += _names(_get(lab, "id_column"), ("labeling", "id_column"))
    refs += _names(_get(lab, "sampling", "column"), ("labeling", "sampling", "column"))
    refs += _names(_get(lab, "baseline", "column"), ("labeling", "baseline", "column"))
    return refs


def derived_columns(spec: DatasetSpec) -> set[str]:
    """Columns the clean stage adds (admin-unit codes and names, under either name)."""
    if not any(h.admin_unit for h in spec.schema_.columns.values()):
        return set()
    return set(ADMIN_COLUMNS) | {f"std_{c}" for c in ADMIN_COLUMNS}


def dropped_columns(spec: DatasetSpec) -> set[str]:
    """Listed columns the clean stage removes (`pii: drop`)."""
    return {n for n, h in spec.schema_.columns.items() if h.pii == "drop"}


def column_problems(
    refs: Collection[ColumnRef], available: Collection[str], dropped: Collection[str] = ()
) -> list[tuple[Loc, str]]:
    """(location, message) for each reference to a column that is not in `available`.

    `available`: the listed and derived columns before a run, the cleaned data's columns after.
    """
    known = sorted(set(available) - set(dropped))
    out: list[tuple[Loc, str]] = []
    for ref in refs:
        if ref.column in dropped:
            out.append((ref.loc, f"column {ref.column!r} is dropped by cleaning (pii: drop)"))
        elif ref.column not in known:
            close = difflib.get_close_matches(ref.column, known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(c for c in known if not c.startswith("std_")) or "none"
            out.append((ref.loc, f"unknown column {ref.column!r}{hint} (columns: {shown})"))
    return out


def spec_column_problems(
    spec: DatasetSpec, available: Collection[str] | None = None
) -> list[tuple[Loc, str]]:
    """The rule for a whole spec: against `schema.columns` (+ derived), or the cleaned data's columns.

    Without `available` and without listed columns there is nothing to check yet: `[]`.
    """
    if available is None:
        if not spec.schema_.columns:
            return []
        available = set(spec.schema_.columns) | derived_columns(spec)
    return column_problems(column_references(spec), available, dropped_columns(spec))


def problem_lines(problems: list[tuple[Loc, str]]) -> list[str]:
    """'field: message' lines, as `SpecError.problems` and the stages' reports show them."""
    return [f"{format_loc(loc)}: {message}" for loc, message in problems]
