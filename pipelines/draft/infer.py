"""A draft spec from a sample: the spec's content, the comments that explain it, a JSON summary.

Everything the data tells is inferred (format, layout, title, columns, key, admin units, personal
data, expectations); what it cannot tell (the agency, the description, Dublin Core creator,
publisher and date) gets a placeholder that validates, marked ``# TODO``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from citydata.spec.model import DatasetSpec
from pipelines.draft.columns import ColumnFacts, column_facts, key_candidates, primary_key
from pipelines.draft.layout import describe_layout, title_from_name, title_from_rows
from pipelines.draft.sample import Sample
from quality.suggest import MIN_EVIDENCE, suggest_expectations, without_defaults

Path_ = tuple[str | int, ...]  # a location in the spec: ("schema", "columns", "ma_so")
_CHECKS = ("expect_column_values_to_be_unique", "expect_column_values_to_not_be_null")
_TYPE_NOTES = {
    "date": "dates (day first, dd/mm/yyyy)",
    "datetime": "dates with a time",
    "boolean": "yes/no values",
}


@dataclass
class Draft:
    """The spec's content with its comments: ``above`` a key's line, ``inline`` at its end."""

    data: dict[str, Any]
    header: list[str] = field(default_factory=list)  # comment lines at the top of the file
    above: dict[Path_, list[str]] = field(default_factory=dict)
    inline: dict[Path_, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _column_note(c: ColumnFacts, rows: int) -> str:
    notes = []
    if c.identifier and c.zero_led and not c.pii:  # personal data is never copied into the spec
        shown = ", ".join(repr(v) for v in c.zero_led)
        notes.append(f"codes with leading zeros ({shown}): kept as text")
    elif c.identifier:
        notes.append("codes: kept as text")
    if c.type in ("integer", "number") and c.locale_source == "column":
        example = "1.234,5" if c.locale == "vi" else "1,234.5"
        notes.append(f"numbers written like {example} ({c.locale}, from its cells)")
    elif c.type in _TYPE_NOTES:
        notes.append(_TYPE_NOTES[c.type])
    if c.admin_unit:
        resolved = round(c.admin_share * 100)
        notes.append(f"{c.admin_unit} names ({resolved}% resolve, e.g. {c.admin_examples[0]!r}): "
                     "adds official ward and province codes")  # fmt: skip
    if c.pii:
        kinds = ", ".join(f"{kind} in {n} of {c.present} cells" for kind, n in c.pii.items())
        notes.append(f"personal data suspected: {kinds}; mask keeps the last digits, drop removes it")
    if c.nulls:
        notes.append(f"{c.nulls} of {rows} empty")
    return "; ".join(notes)


def _hint(c: ColumnFacts) -> dict[str, Any]:
    hint: dict[str, Any] = {"type": c.type}
    if c.label and c.label != c.name:
        hint["label"] = c.label
    if c.admin_unit:
        hint["admin_unit"] = c.admin_unit
    if c.pii:
        hint["pii"] = "mask"
    return hint


def _locale(columns: list[ColumnFacts], typed: bool) -> tuple[str | None, str]:
    """(schema.locale to write, the comment): written when the columns' own cells agree.

    ``typed``: a format with native numbers (a sheet, JSON): no locale question without evidence."""
    numbers = [c for c in columns if c.type in ("integer", "number")]
    told = {c.locale for c in numbers if c.locale_source == "column"}
    if not numbers:
        return None, ""
    if len(told) == 1:
        locale = told.pop()
        names = ", ".join(c.name for c in numbers if c.locale_source == "column")
        example = "1.234,5" if locale == "vi" else "1,234.5"
        return locale, f"detected: numbers written like {example} in {names}"
    if len(told) > 1:
        return None, "numbers: columns disagree (vi and en); each is read as its cells say"
    if typed:
        return None, ""
    return None, "numbers: no cell tells 1.234 (vi) from 1,234 (en); set vi or en if they are text"


def _format(sample: Sample, pinned: dict[str, int] | None) -> tuple[dict[str, Any], list[str]]:
    info = sample.info
    fmt: dict[str, Any] = {}
    said = []
    if not sample.extension_known:
        fmt["name"] = sample.format
    if sample.format == "csv" and info.encoding:
        fmt["encoding"] = info.encoding
        if info.delimiter:
            fmt["delimiter"] = info.delimiter
        sure = "" if sample.encoding_confidence is None else f" (confidence {sample.encoding_confidence:.2f})"
        delimiter = f", delimiter {info.delimiter!r}" if info.delimiter else ""
        said.append(f"detected: {info.encoding}{sure}{delimiter}")
    else:
        said.append(f"detected: {sample.format}" + (f", sheets {', '.join(map(repr, sample.sheets))}"
                                                     if len(sample.sheets) > 1 else ""))  # fmt: skip
    said += [f"detected: {line}" for line in describe_layout(sample)]
    if pinned:
        fmt.update(pinned)
        said.append(
            "layout pinned as detected; delete skip_rows, header_rows, footer_rows to detect it on every pull"
        )
    return fmt, said


def build_draft(
    sample: Sample, dataset_id: str, source: dict[str, Any], pinned: dict[str, int] | None, today: dt.date
) -> Draft:
    """The draft spec of ``sample``, read from ``source`` (the spec's source section)."""
    rows = sample.table.num_rows
    columns = column_facts(sample)
    candidates = key_candidates(columns, rows)
    key = primary_key(candidates)
    from_rows = title_from_rows(sample)
    title, title_note = (
        (from_rows[0], f"from the {from_rows[1]}; check the wording")
        if from_rows
        else (title_from_name(sample.name), "TODO: from the file name; write the dataset's real title")
    )
    draft = Draft({"id": dataset_id})
    d, above, inline = draft.data, draft.above, draft.inline
    d["agency"] = {"id": "todo", "title": {"vi": "TODO: tên cơ quan"}}
    inline[("agency", "id")] = "TODO: your agency's id (lowercase, hyphens), e.g. so-gtvt"
    inline[("agency", "title", "vi")] = "TODO: the agency's name"
    d["title"] = {"vi": title}
    inline[("title", "vi")] = title_note
    d["description"] = {"vi": f"TODO: mô tả dữ liệu ({sample.name})"}
    inline[("description", "vi")] = "TODO: what the dataset holds, for the catalog"
    d["dublin_core"] = {"creator": "TODO", "publisher": "TODO", "date": today}
    inline[("dublin_core", "creator")] = "TODO: who made the data (an agency or unit)"
    inline[("dublin_core", "publisher")] = "TODO: who publishes it"
    inline[("dublin_core", "date")] = "TODO: date of the data (today's date as a placeholder)"
    d["license"] = "cc-by"
    inline[("license",)] = "TODO: check the licence (CKAN ids: docs/spec-reference.md)"
    d["update_frequency"] = "@daily"
    inline[("update_frequency",)] = "TODO: when to pull (cron or @daily, @weekly, @monthly)"
    d["source"] = source
    fmt, format_notes = _format(sample, pinned)
    if fmt:
        d["format"] = fmt
        above[("format",)] = format_notes
    else:
        draft.header += [f"# {line}" for line in format_notes]
    schema: dict[str, Any] = {}
    others = [c.name for c in candidates if c.name not in key]
    scope = f"in the {rows} rows read" if not sample.complete else f"in all {rows} rows"
    if key:
        schema["primary_key"] = key
        more = f"; also unique: {', '.join(others)}" if others else ""
        inline[("schema", "primary_key")] = f"unique and never empty {scope}{more}"
    else:
        shown = ", ".join(others) if others else "none"
        above[("schema",)] = [f"no key-like column; unique and never empty {scope}: {shown}",
                              "set schema.primary_key if one of them identifies a row"]  # fmt: skip
    locale, locale_note = _locale(columns, sample.format not in ("csv", "tsv"))
    if locale:
        schema["locale"] = locale
        inline[("schema", "locale")] = locale_note
    elif locale_note:
        above.setdefault(("schema",), []).append(locale_note)
    schema["columns"] = {c.name: _hint(c) for c in columns}
    above[("schema", "columns")] = ["cleaned names; label: the header as the file has it"]
    for c in columns:
        if note := _column_note(c, rows):
            inline[("schema", "columns", c.name)] = note
    d["schema"] = schema
    entries = _expectations(sample, columns, d)
    if entries:
        d["quality"] = {"expectations": entries}
        above[("quality", "expectations")] = [
            f"suggested from the {rows} rows read: ranges and value sets describe today's data; review them",
            f"unique / not-null checks on fewer than {MIN_EVIDENCE} values are warn until there is more data",
        ]
        for i, e in enumerate(entries):
            inline[("quality", "expectations", i, "severity")] = _severity_note(e, columns)
    draft.header = _header(sample) + draft.header
    draft.summary = _summary(sample, draft, columns, [c.name for c in candidates], title_note)
    return draft


def _expectations(sample: Sample, columns: list[ColumnFacts], data: dict[str, Any]) -> list[dict[str, Any]]:
    """Suggestions the schema hints do not already imply; none on personal data (it is masked)."""
    private = [c.name for c in columns if c.pii]
    table = sample.table.drop_columns([n for n in private if n in sample.table.column_names])
    spec = DatasetSpec.model_validate(data)
    return without_defaults(spec, suggest_expectations(table), table.column_names)


def _severity_note(entry: dict[str, Any], columns: list[ColumnFacts]) -> str:
    if entry["type"] not in _CHECKS:
        return "describes today's data"
    present = next((c.present for c in columns if c.name == entry["args"].get("column")), 0)
    if entry["severity"] == "warn":
        return f"{present} values: severity warn until there is more data"
    return f"{present} values: error blocks publication"


def _header(sample: Sample) -> list[str]:
    lines = []
    read = f"all {sample.rows_read} rows" if sample.complete else f"the first {sample.rows_read} rows"
    lines.append(f"# Inferred from {read} of {sample.name}.")
    if sample.rows_rejected:
        lines.append(f"# {sample.rows_rejected} of them have a cell that does not fit its column's type.")
    return lines


def _summary(
    sample: Sample, draft: Draft, columns: list[ColumnFacts], candidates: list[str], title_note: str
) -> dict[str, Any]:
    schema = draft.data["schema"]
    return {
        "id": draft.data["id"],
        "source": draft.data["source"],
        "format": sample.format,
        "encoding": sample.info.encoding,
        "encoding_confidence": sample.encoding_confidence,
        "delimiter": sample.info.delimiter,
        "sheets": sample.sheets,
        "layout": sample.info.layout,
        "layout_pinned": {k: v for k, v in draft.data.get("format", {}).items() if k.endswith("_rows")},
        "rows_sampled": sample.rows_read,
        "rows_rejected": sample.rows_rejected,
        "complete": sample.complete,
        "title": draft.data["title"]["vi"],
        "title_source": title_note,
        "locale": schema.get("locale"),
        "primary_key": schema.get("primary_key", []),
        "key_candidates": candidates,
        "columns": [
            {
                "name": c.name,
                "label": c.label,
                "type": c.type,
                "identifier": c.identifier,
                "admin_unit": c.admin_unit,
                "pii": sorted(c.pii),
                "nulls": c.nulls,
                "distinct": c.distinct,
            }
            for c in columns
        ],
        "expectations": draft.data.get("quality", {}).get("expectations", []),
        "todo": [".".join(map(str, k)) for k, v in draft.inline.items() if v.startswith("TODO")],
    }
