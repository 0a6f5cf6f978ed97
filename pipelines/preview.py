"""A dataset pulled, cleaned and checked as it would be published, without publishing anything.

Nothing is written to the lake, the catalog or Label Studio, and the connector's saved state is
neither read nor changed: the source is fetched whole into a scratch folder, cleaned by the clean
stage's own code (`ingest.clean_files`) into local Parquet, and checked by the quality gate's
expectations (`quality.validate.check_table`). Drift and the fidelity check need the lake's
history and raw files; they run when the dataset runs.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from cleaning.columns import logical_type
from connectors.base import FetchContext
from connectors.registry import connector_for
from ingest.clean_files import CleanOutputs, CleanResult, clean_files
from ingest.detected import describe

DICTIONARY_KEYS = ("name", "label", "type", "identifier", "pii", "locale")


@dataclass
class Preview:
    """What `citydata preview` shows; `as_dict` is its `--json` output."""

    dataset: str
    files: list[dict[str, Any]]  # per file: format, encoding, rows read / clean / rejected, error
    detected: list[str]  # encoding, delimiter, header and skipped rows, locales, codes kept as text
    columns: list[dict[str, Any]]  # the schema as published: name, label, type...
    rows: int  # clean rows
    rows_read: int
    rejected: int
    truncated: bool  # stopped after --max-rows rows read
    first_rows: list[dict[str, Any]]  # as they will be published
    rejected_rows: list[dict[str, Any]]  # file, line, reasons, the row as read (the first ones)
    quality: dict[str, Any] = field(default_factory=dict)  # score, verdict, each check's result
    problems: list[str] = field(default_factory=list)  # what would stop the run

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Values as JSON shows them: dates and decimals as text, numbers as numbers."""
    return json.loads(json.dumps(rows, ensure_ascii=False, default=str))  # type: ignore[no-any-return]


def _schema(dictionary: list[dict[str, Any]], table: pa.Table) -> list[dict[str, Any]]:
    """The source's columns as the data dictionary has them, then those cleaning adds (admin units)."""
    columns = [{k: c.get(k) for k in DICTIONARY_KEYS} | {"added": False} for c in dictionary]
    known = {c["name"] for c in columns}
    for name, kind in zip(table.column_names, table.schema.types, strict=True):
        if name not in known:
            columns.append(
                {k: None for k in DICTIONARY_KEYS} | {"name": name, "type": logical_type(kind), "added": True}
            )
    return columns


def _quality(spec: DatasetSpec, table: pa.Table, columns: list[dict[str, Any]]) -> dict[str, Any]:
    from quality.validate import check_table

    result = check_table(spec, table, columns)
    return {
        "score": result.score,
        "promotable": result.promotable,
        "blocking": result.blocking,
        "failed_rows": result.failed_row_count,
        "warned_rows": result.warned_row_count,
        "unchecked_columns": result.unchecked_columns,
        "checks": [
            {
                "type": o.type,
                "column": o.column,
                "severity": o.severity,
                "success": o.success,
                "unexpected": o.unexpected_count,
                "detail": o.message
                or ", ".join(repr(v) for v in (o.partial_unexpected_list or [])[:3] if not o.success),
            }
            for o in result.expectations
        ],
    }


def preview(
    spec: DatasetSpec, settings: Settings, rows: int = 10, max_rows: int | None = None, checks: bool = True
) -> Preview:
    """Fetch, clean and check `spec`'s source; `rows` first rows and rejected rows are kept to show."""
    scratch = settings.stack_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"preview-{spec.id}-", dir=scratch))
    try:
        connector = connector_for(spec.source)(spec.source, FetchContext(settings, spec.id, workdir / "pull"))
        fetched = connector.fetch({})  # no saved state: what the source holds now, in full
        out_dir = workdir / "clean"
        out_dir.mkdir()
        outputs = CleanOutputs(out_dir)
        result = CleanResult(spec.id, "preview")
        try:
            read = clean_files(spec, fetched.objects, outputs, result, max_rows=max_rows)
        finally:
            outputs.close()
        table = pq.read_table(outputs.data_path) if outputs.data is not None else pa.table({})
        rejected = pq.read_table(outputs.rejected_path).slice(0, rows).to_pylist()
        problems = [str(f.error) for f in result.files if f.error]
        if result.files and len(problems) == len(result.files):
            problems.insert(0, f"{spec.id}: no file could be read")
        ratio = result.rejected / read.rows_read if read.rows_read else 0.0
        if ratio > spec.cleaning.max_rejected_ratio:
            limit = spec.cleaning.max_rejected_ratio
            problems.append(
                f"{result.rejected} of {read.rows_read} rows rejected ({ratio:.0%}), above the spec's "
                f"limit of {limit:.0%} (cleaning.max_rejected_ratio): the run would fail"
            )
        quality = _quality(spec, table, result.columns) if checks and table.num_columns else {}
        if quality and not quality["promotable"]:
            problems.append("an error-severity quality check fails: the run would not publish")
        return Preview(
            dataset=spec.id,
            files=[
                {k: v for k, v in asdict(f).items() if k not in ("skipped", "layout", "key")}
                for f in result.files
            ],
            detected=describe(result.as_dict()),
            columns=_schema(result.columns, table),
            rows=table.num_rows,
            rows_read=read.rows_read,
            rejected=result.rejected,
            truncated=read.truncated,
            first_rows=_jsonable(table.slice(0, rows).to_pylist()),
            rejected_rows=rejected,
            quality=quality,
            problems=problems,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
