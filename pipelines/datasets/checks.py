"""Asset checks factory: the quality gate on every spec's `clean` asset.

One blocking check, `<dataset>/clean:quality`, runs the spec's expectations with Great
Expectations on the pull the `clean` asset last materialized:

    an `error` expectation failed (and partial publication does not apply)
        -> failed, severity ERROR: Dagster skips the assets downstream of `clean` in the run
    only `warn` expectations failed, or partial publication quarantined the failing rows
        -> failed, severity WARN: downstream assets run (they publish `publish_key`)
    everything passed -> passed

Metadata: score, rows, failed/quarantined rows, column coverage, the per-expectation table (GX
expectations and the non-GX checks such as drift, with their messages), the Data Docs URL and the
key the publish stage should take.
"""

from typing import Any

import dagster as dg

from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from ingest.pull import last_pull_id
from pipelines.datasets.assets import asset_key
from pipelines.resources import S3Resource
from quality.result import QualityResult
from quality.validate import validate_clean

CHECK_NAME = "quality"
_TABLE_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("expectation", "string"),
        dg.TableColumn("column", "string"),
        dg.TableColumn("severity", "string"),
        dg.TableColumn("success", "bool"),
        dg.TableColumn("unexpected", "int"),
        dg.TableColumn("unexpected_percent", "float"),
        dg.TableColumn("detail", "string"),
    ]
)


def _pull_id(context: dg.AssetCheckExecutionContext, spec: DatasetSpec, lake: Lake) -> str | None:
    """The pull the latest `clean` materialization reported; the last pull if none did."""
    event = context.instance.get_latest_materialization_event(asset_key(spec, "clean"))
    materialization = event.asset_materialization if event is not None else None
    if materialization is not None and "pull_id" in materialization.metadata:
        value = materialization.metadata["pull_id"].value
        if isinstance(value, str) and value:
            return value
    return last_pull_id(lake, spec.id)


def _detail(outcome: Any) -> str:
    if outcome.message:
        return str(outcome.message)
    if outcome.partial_unexpected_list:
        return "e.g. " + ", ".join(repr(v) for v in outcome.partial_unexpected_list[:5])
    if outcome.observed_value is not None:
        return f"observed {outcome.observed_value!r}"
    return ""


def check_result(result: QualityResult) -> dg.AssetCheckResult:
    """The Dagster verdict for a quality result (see the module docstring)."""
    records = [
        dg.TableRecord(
            {
                "expectation": o.type,
                "column": o.column or "",
                "severity": o.severity,
                "success": o.success,
                "unexpected": o.unexpected_count if o.unexpected_count is not None else -1,
                "unexpected_percent": o.unexpected_percent if o.unexpected_percent is not None else 0.0,
                "detail": _detail(o)[:200],
            }
        )
        for o in result.expectations
    ]
    metadata: dict[str, Any] = {
        "pull_id": result.pull_id,
        "score": dg.MetadataValue.float(float(result.score)),
        "rows": result.rows,
        "failed_expectations": len(result.failures),
        "failed_rows": result.failed_row_count,
        "warned_rows": result.warned_row_count,
        "blocking": result.blocking,
        "promotable": result.promotable,
        "partial_publication": result.partial,
        "publish_key": result.publish_key or "",
        # the score counts unchecked columns (quality.result): say which they are
        "covered_columns": len(result.covered_columns),
        "unchecked_columns": ", ".join(result.unchecked_columns),
        "expectations": dg.MetadataValue.table(records, schema=_TABLE_SCHEMA),
    }
    if result.data_docs_url:
        metadata["report"] = dg.MetadataValue.url(result.data_docs_url)
    if result.keys.get("failed"):
        metadata["quarantine"] = dg.MetadataValue.path(result.keys["failed"])
    if not result.promotable:
        severity, passed = dg.AssetCheckSeverity.ERROR, False
    elif result.failures:
        severity, passed = dg.AssetCheckSeverity.WARN, False
    else:
        severity, passed = dg.AssetCheckSeverity.ERROR, True
    failed = ", ".join(f"{o.label} [{o.severity}]" for o in result.failures[:10])
    description = f"score {result.score:g}" + (f"; failed: {failed}" if failed else "")
    if result.unchecked_columns:  # after "score N; ", which `citydata run` strips
        description += f"; unchecked columns: {', '.join(result.unchecked_columns[:10])}"
    return dg.AssetCheckResult(passed=passed, severity=severity, metadata=metadata, description=description)


def build_quality_checks(spec: DatasetSpec) -> list[dg.AssetChecksDefinition]:
    clean_key = asset_key(spec, "clean")

    @dg.asset_check(
        asset=clean_key,
        name=CHECK_NAME,
        blocking=True,
        description=(
            f"Quality gate for {spec.id} (Great Expectations): an `error` failure blocks the assets "
            "downstream of clean; `warn` failures are reported."
        ),
    )
    def quality_check(context: dg.AssetCheckExecutionContext, s3: S3Resource) -> dg.AssetCheckResult:
        settings, lake = s3.settings(), s3.lake()
        pull_id = _pull_id(context, spec, lake)
        if pull_id is None:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description=f"{spec.id}: nothing cleaned yet; materialize {clean_key.to_user_string()}",
            )
        result = validate_clean(spec, settings, lake, pull_id)
        for o in result.failures:
            log = context.log.error if o.severity == "error" else context.log.warning
            log("%s: %s failed (%s)", spec.id, o.label, _detail(o) or f"{o.unexpected_count} unexpected")
        return check_result(result)

    return [quality_check]
