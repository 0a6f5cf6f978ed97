"""The quality gate: run a spec's expectations on a cleaned pull with Great Expectations 1.x.

    result = validate_clean(spec, settings, lake, pull_id)
    result.blocking     an `error` expectation failed
    result.promotable   nothing blocks, or partial publication applies (only row-level errors
                        failed and `quality.partial_publication` is true)
    result.publish_key  data.parquet, validated.parquet (the passing rows), or None

Rows failing a failed row-level (map) expectation are written to the quarantine zone with the
reason per row; the GX result, Data Docs and a summary go to the reports zone (see
`quality.reports` for the keys). Scoring and coverage are defined in `quality.result`.

Order of a run: plan (schema, the spec's, automatic plausibility checks), GX (plus the
plausibility checks pyarrow runs, engine "arrow"), the profile, then the checks that are not GX
expectations (`quality.non_gx`: drift...), the score.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from citydata.retry import RetryPolicy
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from quality.docs_assets import ensure_assets, finish_site
from quality.drift import profile
from quality.fidelity import FIDELITY
from quality.non_gx import CheckInput, run_non_gx_checks
from quality.plausibility import ColumnFacts, evaluate_arrow, facts_of
from quality.reports import DOCS, quality_keys, remove_previous, report_prefix, upload_site
from quality.result import ExpectationOutcome, QualityResult
from quality.spec import PlannedExpectation, admin_columns, plan
from quality.verdict import conclude

DOCS_ASSETS_POLICY = RetryPolicy(attempts=3, backoff_s=1.0)  # the npm registry, when the cache lacks a file

if TYPE_CHECKING:
    from quality._gx import Expectation, ExpectationSuiteValidationResult

CLEAN_MANIFEST = "_clean.json"
PARTIAL_UNEXPECTED = 20
_ARROW_TYPES = {
    "string": pa.string(),
    "large_string": pa.large_string(),
    "int64": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "date32[day]": pa.date32(),
    "timestamp[s]": pa.timestamp("s"),
}
_FULL_LISTS = ("unexpected_list", "unexpected_index_list", "unexpected_rows")
Failing = dict[int, list[int]]  # per outcome index, the positions of the rows failing it


class QualityError(RuntimeError):
    """The pull cannot be validated (not cleaned, unreadable); the message says why."""


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def read_clean(lake: Lake, spec: DatasetSpec, pull_id: str) -> pa.Table:
    """The clean rows of a pull (an empty table with the dictionary's columns when none survived)."""
    return read_clean_with_manifest(lake, spec, pull_id)[0]


def read_clean_with_manifest(lake: Lake, spec: DatasetSpec, pull_id: str) -> tuple[pa.Table, dict[str, Any]]:
    """The clean rows of a pull and its clean manifest (`_clean.json`: keys, the data dictionary)."""
    prefix = zone_prefix("clean", spec.agency.id, spec.id, pull_id)
    manifest = lake.get_json(prefix + CLEAN_MANIFEST)
    if manifest is None:
        raise QualityError(f"{spec.id}: pull {pull_id} is not cleaned (no {prefix}{CLEAN_MANIFEST})")
    key = manifest.get("keys", {}).get("data") or prefix + "data.parquet"
    if not lake.exists(key):
        fields = [
            pa.field(c["name"], _ARROW_TYPES.get(c.get("arrow_type") or "", pa.string()))
            for c in manifest.get("columns", [])
        ]
        return pa.schema(fields).empty_table(), manifest
    return pq.read_table(io.BytesIO(lake.get_bytes(key))), manifest


def to_frame(table: pa.Table) -> pd.DataFrame:
    """pandas for GX, in the dtypes GX computes fastest: numpy ones.

    Integers with nulls become float64 (pandas' default; see `float_int_columns`): as nullable
    `Int64`, GX checks ranges value by value in Python (~1.6 s more per million rows). Booleans
    with nulls become `boolean`, text pandas' string dtype, dates and timestamps datetime64[ns]
    when they fit (1677-2262): GX compares only nanosecond columns vectorised, other units value
    by value (~4 s per million rows); a column out of that range keeps its unit (correct, slow).
    """
    for i, column in enumerate(table.columns):
        if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            zone = column.type.tz if pa.types.is_timestamp(column.type) else None
            with contextlib.suppress(pa.ArrowInvalid):  # out of the nanosecond range
                table = table.set_column(i, table.field(i).name, column.cast(pa.timestamp("ns", zone)))
    frame = table.to_pandas(date_as_object=False)
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count and pa.types.is_boolean(column.type):
            frame[name] = pd.array(column.to_pylist(), dtype="boolean")
    return frame


def float_int_columns(table: pa.Table) -> set[str]:
    """Integer columns with nulls: float64 in the frame, so their type expectation says float64."""
    return {
        name
        for name, column in zip(table.column_names, table.columns, strict=True)
        if column.null_count and pa.types.is_integer(column.type)
    }


def jsonable(value: Any) -> Any:
    """Plain JSON values for partial unexpected lists and observed values."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


# --------------------------------------------------------------------------------------------------
# GX
# --------------------------------------------------------------------------------------------------


def build_expectations(planned: list[PlannedExpectation]) -> list[Expectation]:
    """GX expectations for the planned ones GX runs (engine "gx"), each tagged with its plan index."""
    from quality import _gx

    out = []
    for i, p in enumerate(planned):
        if p.engine != "gx":
            continue
        expectation = _gx.instantiate(
            p.type, p.kwargs, p.severity, {"citydata": {"index": i, "origin": p.origin}}
        )
        if p.origin.startswith("plausibility."):  # Data Docs show why an automatic check is there
            expectation.description = p.description
        out.append(expectation)
    return out


def _exception_message(info: Any) -> str | None:
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "GX raised an exception")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "GX raised an exception")
    return None


def _outcomes(
    planned: list[PlannedExpectation], result: ExpectationSuiteValidationResult, columns: set[str]
) -> tuple[list[ExpectationOutcome], dict[int, list[int]]]:
    """Per-expectation outcomes (plan order) and, per outcome index, the failing row positions."""
    outcomes: dict[int, ExpectationOutcome] = {}
    rows: dict[int, list[int]] = {}
    for r in result.results:
        meta = (r.expectation_config.meta or {}).get("citydata", {}) if r.expectation_config else {}
        i = int(meta["index"])
        p = planned[i]
        res: dict[str, Any] = dict(r.result or {})
        missing = [c for c in p.columns if c not in columns]
        if missing:  # GX raised on the absent column: keep its message, drop the traceback
            message: str | None = (
                f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} not found in the cleaned data"
            )
            r.exception_info = {
                "raised_exception": True,
                "exception_message": message,
                "exception_traceback": None,
            }
        else:
            message = _exception_message(r.exception_info)
        success = bool(r.success) and message is None
        row_level = "unexpected_index_list" in res and message is None
        if row_level and not success:
            rows[i] = [int(x) for x in res.get("unexpected_index_list") or [] if not isinstance(x, dict)]
        percent = res.get("unexpected_percent")
        outcomes[i] = ExpectationOutcome(
            index=i,
            type=r.expectation_config.type if r.expectation_config else p.type,
            column=", ".join(p.columns) or None,
            severity=p.severity,
            origin=p.origin,
            success=success,
            row_level=row_level,
            unexpected_count=res.get("unexpected_count"),
            unexpected_percent=None if percent is None else round(float(percent), 4),
            partial_unexpected_list=jsonable(res.get("partial_unexpected_list") or [])[:PARTIAL_UNEXPECTED],
            observed_value=jsonable(res.get("observed_value")),
            message=message,
            description=p.description,
            kwargs=jsonable(p.kwargs),
        )
        for name in _FULL_LISTS:  # what is kept of the result: counts and partial lists
            r.result.pop(name, None)
    return [outcomes[i] for i in sorted(outcomes)], rows


# --------------------------------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------------------------------


def _rows_table(table: pa.Table, reasons: dict[int, list[str]]) -> pa.Table:
    positions = sorted(reasons)
    picked = table.take(pa.array(positions, pa.int64()))
    head = pa.table(
        {
            "_row": pa.array(positions, pa.int64()),
            "_reasons": pa.array(["; ".join(reasons[p]) for p in positions], pa.string()),
        }
    )
    for name, column in zip(picked.column_names, picked.columns, strict=True):
        head = head.append_column(name, column)
    return head


def _put_parquet(lake: Lake, key: str, table: pa.Table, workdir: Path) -> None:
    path = workdir / key.rsplit("/", 1)[-1]
    pq.write_table(table, path, compression="zstd")
    lake.put_file(key, path, "application/vnd.apache.parquet")


def run_suite(
    spec: DatasetSpec,
    frame: pd.DataFrame,
    float_ints: Collection[str] = (),
    facts: dict[str, ColumnFacts] | None = None,
) -> tuple[list[PlannedExpectation], ExpectationSuiteValidationResult]:
    """Plan the expectations for the frame's columns and run GX's (ephemeral context).

    Without `facts` (labels, types, samples) no plausibility check is planned.
    """
    from quality import _gx

    _, planned = plan(spec, set(frame.columns), float_ints, facts)
    expectations = build_expectations(planned)
    return planned, _gx.validate_frame(frame, spec.id, expectations, PARTIAL_UNEXPECTED)


def evaluate(
    spec: DatasetSpec, table: pa.Table, manifest_columns: Sequence[Mapping[str, Any]] = ()
) -> tuple[list[PlannedExpectation], ExpectationSuiteValidationResult, list[ExpectationOutcome], Failing]:
    """Plan and run every expectation on the table: GX's, then pyarrow's (engine "arrow").

    Returns the plan, GX's result, the outcomes in plan order and, per outcome index, failing rows.
    """
    frame = to_frame(table)
    planned, gx_result = run_suite(spec, frame, float_int_columns(table), facts_of(table, manifest_columns))
    outcomes, failing = _outcomes(planned, gx_result, set(frame.columns))
    for i, p in enumerate(planned):
        if p.engine == "arrow":
            outcome, rows = evaluate_arrow(p, i, table)
            outcomes.append(outcome)
            if rows:
                failing[i] = rows
    outcomes.sort(key=lambda o: o.index)
    return planned, gx_result, outcomes, failing


def validate_clean(
    spec: DatasetSpec, settings: Settings, lake: Lake, pull_id: str, *, data_docs: bool = True
) -> QualityResult:
    """Validate the clean Parquet of a pull; quarantine failing rows; store the reports."""
    started = time.monotonic()
    quality, _ = plan(spec)  # a malformed section fails here, before any data is read
    table, clean_manifest = read_clean_with_manifest(lake, spec, pull_id)
    gx_started = time.monotonic()
    planned, gx_result, outcomes, failing = evaluate(spec, table, clean_manifest.get("columns", []))
    gx_seconds = time.monotonic() - gx_started
    result = QualityResult(spec.id, pull_id, rows=table.num_rows, profile=profile(table))

    scratch = settings.stack_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"quality-{spec.id}-", dir=scratch))
    try:
        # Checks that are not GX expectations (drift; see quality.non_gx): numbered after the plan,
        # they count like expectations from here on.
        data = CheckInput(spec, quality, lake, pull_id, table, clean_manifest, workdir, result.profile)
        outcomes += run_non_gx_checks(data, first_index=len(planned))
        checked = [
            o.observed_value for o in outcomes if o.type == FIDELITY and isinstance(o.observed_value, dict)
        ]
        result.fidelity = checked[0] if checked else {}
        failed, warned = conclude(result, quality.partial_publication, outcomes, failing, admin_columns(spec))
        keys = quality_keys(spec, pull_id)
        if result.promotable:
            result.publish_key = keys["validated"] if result.partial else keys["data"]
        remove_previous(lake, spec, pull_id)
        if failed:
            _put_parquet(lake, keys["failed"], _rows_table(table, failed), workdir)
            result.keys["failed"] = keys["failed"]
        if warned:
            _put_parquet(lake, keys["warned"], _rows_table(table, warned), workdir)
            result.keys["warned"] = keys["warned"]
        if result.partial:
            keep = np.ones(table.num_rows, dtype=bool)
            keep[result.failed_rows] = False
            _put_parquet(lake, keys["validated"], table.filter(pa.array(keep)), workdir)
            result.keys["validated"] = keys["validated"]
        if data_docs:
            from quality import _gx

            docs = settings.data_docs
            ensure_assets(docs.assets_dir, docs.npm_registry, DOCS_ASSETS_POLICY)
            docs_expectations = build_expectations(planned)  # an expectation belongs to one suite
            titles = (spec.title.vi, spec.title.en or spec.title.vi)
            site = _gx.build_docs_site(workdir / "gx", spec.id, docs_expectations, gx_result, pull_id,
                                       english=docs.english, titles=titles)  # fmt: skip
            finish_site(site, docs.assets_dir)
            upload_site(lake, site, report_prefix(spec, pull_id) + DOCS)
            result.keys["data_docs"] = keys["data_docs"]
            result.data_docs_url = f"s3://{lake.bucket}/{keys['data_docs']}"
        validation = json.dumps(gx_result.to_json_dict(), ensure_ascii=False, indent=1, default=str)
        lake.put_bytes(keys["validation"], validation.encode(), "application/json")
        result.keys["validation"] = keys["validation"]
        result.keys["summary"] = keys["summary"]
        result.validated_at = datetime.now(UTC).isoformat(timespec="seconds")
        result.gx_seconds = round(gx_seconds, 3)
        result.seconds = round(time.monotonic() - started, 3)
        lake.put_json(keys["summary"], result.as_dict(rows=False))  # last: marks a complete run
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def check_table(
    spec: DatasetSpec, table: pa.Table, manifest_columns: Sequence[Mapping[str, Any]] = ()
) -> QualityResult:
    """The gate's verdict on a table without the lake (`citydata preview`): GX and pyarrow checks,
    score, failing rows. Drift and the fidelity check need the lake's history and raw files: they
    run when the dataset is validated in the pipeline."""
    quality, _ = plan(spec)
    _, _, outcomes, failing = evaluate(spec, table, manifest_columns)
    result = QualityResult(spec.id, "preview", rows=table.num_rows, profile=profile(table))
    conclude(result, quality.partial_publication, outcomes, failing, admin_columns(spec))
    return result
