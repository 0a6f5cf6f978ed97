"""Checks that are not GX expectations, run by the quality gate after the GX suite.

Each check is a function `check(data: CheckInput) -> list[ExpectationOutcome]`: it reads the
validated table, the spec and the lake, and returns outcomes with its own `type` (citydata_*)
and `origin`. The gate appends them to the GX outcomes (numbering them after the plan), so they
count in `blocking`, `success`, the score, the Dagster check and the summary like expectations.
A check that has nothing to compare returns no outcome, or a passing one saying why.

    citydata_drift      quality.drift     the published version's profile vs this one
    citydata_fidelity   quality.fidelity  the published values vs the raw source, read again
                                          by independent readers

To add one: write the function, append it to CHECKS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from quality.drift import drift_outcomes
from quality.fidelity import fidelity_outcomes
from quality.result import ExpectationOutcome
from quality.spec import QualitySpec


@dataclass(frozen=True)
class CheckInput:
    """What a non-GX check may read: nothing here is to be modified."""

    spec: DatasetSpec
    quality: QualitySpec  # the spec's typed quality section
    lake: Lake
    pull_id: str
    table: pa.Table  # the clean rows as validated
    clean_manifest: dict[str, Any]  # clean/<agency>/<dataset>/<pull_id>/_clean.json
    workdir: Path  # a scratch folder of this run, removed afterwards
    profile: dict[str, Any] = field(default_factory=dict)  # quality.drift.profile(table)


NonGxCheck = Callable[[CheckInput], list[ExpectationOutcome]]
CHECKS: list[NonGxCheck] = [drift_outcomes, fidelity_outcomes]


def run_non_gx_checks(data: CheckInput, first_index: int) -> list[ExpectationOutcome]:
    """Every check's outcomes, in CHECKS order, numbered from `first_index`."""
    out: list[ExpectationOutcome] = []
    for check in CHECKS:
        for outcome in check(data):
            outcome.index = first_index + len(out)
            out.append(outcome)
    return out
