"""The one place that imports Great Expectations 1.x (analytics off, import paid once per process).

`import great_expectations` costs 5-8 s; every other module of the quality package imports this
one lazily, inside the functions that need GX, so loading the Dagster code location or running
`citydata datasets check` on specs without explicit expectations never pays it.

Validation runs in one ephemeral Data Context per process, built on first use: one pandas data
source, one dataframe asset, one whole-dataframe batch definition. Each run hands its DataFrame
as a batch parameter. Nothing is stored in the context between runs (no result store growth).
"""

from __future__ import annotations

import difflib
import os
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx
import great_expectations.execution_engine.pandas_execution_engine as _pandas_engine
from great_expectations.compatibility.pydantic import ValidationError as GXValidationError
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.exceptions import GreatExpectationsError
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.registry import (
    _registered_expectations,
    _registered_metrics,
)
from great_expectations.validator.v1_validator import Validator

__all__ = [
    "Expectation",
    "ExpectationSuiteValidationResult",
    "GXValidationError",
    "GreatExpectationsError",
    "build_docs_site",
    "expectation_class",
    "gx",
    "instantiate",
    "pandas_unsupported",
    "suggest_name",
    "validate_frame",
]

# The batch fingerprint GX computes for every in-memory DataFrame under 1 GB (an md5 of
# `hash_pandas_object`) costs ~0.6 s per million rows and is used by nothing here: skip it.
_pandas_engine.HASH_THRESHOLD = 0

SEVERITY_TO_GX = {"error": FailureSeverity.CRITICAL, "warn": FailureSeverity.WARNING}
# Expectations that need a SQL engine or a second table; a DataFrame batch cannot run them.
_NOT_FOR_DATAFRAMES = {
    "expect_query_results_to_match_comparison",
    "expect_table_row_count_to_equal_other_table",
    "unexpected_rows_expectation",
}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

# GX keeps a process-wide "current project"; building Data Docs switches it to a file context.
# One lock serializes every GX call of this module (Dagster's in-process executor runs one step
# at a time anyway; the multiprocess executor gives each step its own process).
_lock = threading.RLock()
_batch_definition: Any = None


def _by_class_name() -> dict[str, str]:
    return {cls.__name__: name for name, cls in _registered_expectations.items() if isinstance(cls, type)}


def expectation_class(name: str) -> type[Expectation] | None:
    """The GX class for `expect_column_values_to_be_between` or `ExpectColumnValuesToBeBetween`."""
    name = name.strip()
    found = _registered_expectations.get(_by_class_name().get(name, name))
    return found if isinstance(found, type) and issubclass(found, Expectation) else None


def suggest_name(name: str) -> list[str]:
    """Close snake_case names, for "did you mean" (class names are compared in snake_case too)."""
    name = name.strip()
    snake = _CAMEL.sub("_", name).lower() if name[:1].isupper() else name.lower()
    return difflib.get_close_matches(snake, sorted(_registered_expectations), n=3, cutoff=0.6)


def pandas_unsupported(cls: type[Expectation]) -> bool:
    """True when GX has no pandas implementation (SQL LIKE patterns, query expectations)."""
    if cls.expectation_type in _NOT_FOR_DATAFRAMES:
        return True
    map_metric = getattr(cls, "map_metric", None)
    if map_metric:
        providers = _registered_metrics.get(f"{map_metric}.condition", {}).get("providers", {})
        return "PandasExecutionEngine" not in providers
    return False


def instantiate(name: str, kwargs: Mapping[str, Any], severity: str, meta: dict[str, Any]) -> Expectation:
    cls = expectation_class(name)
    if cls is None:
        raise KeyError(name)
    return cls(**kwargs, severity=SEVERITY_TO_GX[severity], meta=meta)


def _batch() -> Any:
    global _batch_definition
    with _lock:
        if _batch_definition is None:
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            source = context.data_sources.add_pandas("citydata")
            asset = source.add_dataframe_asset("clean")
            _batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        return _batch_definition


def validate_frame(
    frame: Any, suite_name: str, expectations: list[Expectation], partial_unexpected_count: int = 20
) -> ExpectationSuiteValidationResult:
    """Run the expectations on a pandas DataFrame; COMPLETE results carry the failing row indices."""
    suite = gx.ExpectationSuite(name=suite_name, expectations=expectations)
    result_format = {
        "result_format": "COMPLETE",
        "partial_unexpected_count": partial_unexpected_count,
        "return_unexpected_index_query": False,
    }
    with _lock:
        validator = Validator(_batch(), result_format=result_format, batch_parameters={"dataframe": frame})
        return validator.validate_expectation_suite(suite)


def build_docs_site(
    workdir: Path,
    suite_name: str,
    expectations: list[Expectation],
    result: ExpectationSuiteValidationResult,
    run_name: str,
    *,
    english: bool = True,
    titles: tuple[str, str] = ("", ""),
) -> Path:
    """Render Data Docs (HTML) for one result with a file-backed context in `workdir`; the site dir.

    The result is put in the file context's validation store as it is (no second validation run),
    the suite beside it, then `build_data_docs()` renders the index, suite and validation pages:
    in Vietnamese at the site's root and, with `english`, in English under `en/` (see
    `quality._gx_docs`); `titles` name the dataset in each. The browser libraries are added by
    the caller (`quality.docs_assets.finish_site`).
    """
    from quality._gx_docs import site_config

    base = "uncommitted/data_docs/local_site/"
    with _lock:
        context = gx.get_context(mode="file", project_root_dir=str(workdir))
        context.update_data_docs_site(
            "local_site", site_config(base, "vi", shared_static=False, dataset=titles[0], switch=english)
        )
        if english:
            en = site_config(base + "en/", "en", shared_static=True, dataset=titles[1], switch=True)
            context.add_data_docs_site("local_site_en", en)
        context.suites.add(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        result.meta["run_id"] = run_id
        result.meta["validation_time"] = run_id.run_time
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=run_id,
            batch_identifier=run_name,
        )
        context.validation_results_store.set(key, result)
        sites = context.build_data_docs()
    index = sites.get("local_site", "")
    site = Path(index.removeprefix("file://")).parent if index else Path()
    if not (site / "index.html").is_file():
        raise RuntimeError(f"GX did not build Data Docs in {workdir}: {sites}")
    return site
