"""Where quality results live in the lake, and how to read the latest one.

reports/<agency>/<dataset>/<pull_id>/validation.json      GX's suite validation result (JSON;
                                                          full unexpected lists trimmed to
                                                          the partial ones)
reports/<agency>/<dataset>/<pull_id>/data_docs/index.html GX Data Docs (HTML site)
reports/<agency>/<dataset>/<pull_id>/summary.json         QualityResult; written last, so its
                                                          presence means the run completed
quarantine/<agency>/<dataset>/<pull_id>/quality_failed.parquet    rows failing an `error`
                                                          row-level expectation: _row, _reasons,
                                                          then the row's columns
quarantine/<agency>/<dataset>/<pull_id>/quality_warnings.parquet  rows failing only `warn` ones
clean/<agency>/<dataset>/<pull_id>/validated.parquet      the passing rows (partial publication)
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from quality.result import QualityResult

SUMMARY = "summary.json"
VALIDATION = "validation.json"
DOCS = "data_docs/"
FAILED = "quality_failed.parquet"
WARNED = "quality_warnings.parquet"
VALIDATED = "validated.parquet"


def report_prefix(spec: DatasetSpec, pull_id: str) -> str:
    return zone_prefix("reports", spec.agency.id, spec.id, pull_id)


def quality_keys(spec: DatasetSpec, pull_id: str) -> dict[str, str]:
    reports = report_prefix(spec, pull_id)
    quarantine = zone_prefix("quarantine", spec.agency.id, spec.id, pull_id)
    clean = zone_prefix("clean", spec.agency.id, spec.id, pull_id)
    return {
        "summary": reports + SUMMARY,
        "validation": reports + VALIDATION,
        "data_docs": reports + DOCS + "index.html",
        "failed": quarantine + FAILED,
        "warned": quarantine + WARNED,
        "validated": clean + VALIDATED,
        "data": clean + "data.parquet",
    }


def remove_previous(lake: Lake, spec: DatasetSpec, pull_id: str) -> None:
    """A re-run of the same pull replaces every output of the earlier run (no stale files)."""
    keys = quality_keys(spec, pull_id)
    stale = [keys[k] for k in ("summary", "failed", "warned", "validated") if lake.exists(keys[k])]
    stale += list(lake.keys(report_prefix(spec, pull_id)))
    for key in dict.fromkeys(stale):
        lake.client.remove_object(lake.bucket, key)


def upload_site(lake: Lake, site: Path, prefix: str) -> int:
    count = 0
    for path in sorted(p for p in site.rglob("*") if p.is_file()):  # as `docs_assets.finish_site` left it
        rel = path.relative_to(site).as_posix()
        plain = "text/plain" if path.name.startswith("LICENSE") else "application/octet-stream"
        content_type = mimetypes.guess_type(path.name)[0] or plain  # the vendored licences are text
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        lake.put_file(prefix + rel, path, content_type)
        count += 1
    return count


def last_report(lake: Lake, spec: DatasetSpec) -> QualityResult | None:
    """The summary of the latest pull that has a completed quality run, or None."""
    prefix = zone_prefix("reports", spec.agency.id, spec.id)
    for pull_id in reversed(lake.children(prefix)):
        data = lake.get_json(f"{prefix}{pull_id}/{SUMMARY}")
        if data is not None:
            return QualityResult.from_dict(data)
    return None
