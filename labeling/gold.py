"""Annotation quality: gold (honeypot) tasks, each annotator's accuracy on them beside their agreement
with the consensus, and the tasks to review.

Gold tasks come from the spec (`labeling.gold`): each becomes a task like the sampled ones, keyed
`<dataset>/gold/gold-<hash of its text>`, mixed among the new tasks at seeded positions. Its answer
never goes to Label Studio (annotators could read it in the data manager); it stays in the spec.
Gold tasks count for accuracy only: they are left out of the consensus, agreement and the labeled
dataset. A task is to review when its majority is tied or holds less than `review_agreement` of
the votes (with two annotators or more).
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any, TypeVar

import pandas as pd

from labeling.spec import GoldItem, LabelingSpec

GOLD_PULL = "gold"
T = TypeVar("T")


def gold_row_id(item: GoldItem) -> str:
    digest = hashlib.sha256(json.dumps(item.data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"gold-{digest[:12]}"


def gold_key(dataset: str, item: GoldItem) -> str:
    return f"{dataset}/{GOLD_PULL}/{gold_row_id(item)}"


def is_gold(task_key: str) -> bool:
    return f"/{GOLD_PULL}/gold-" in task_key


def gold_answers(dataset: str, lab: LabelingSpec) -> dict[str, str]:
    """{task key: right label} of the spec's gold tasks."""
    return {gold_key(dataset, item): item.label for item in lab.gold}


def gold_records(lab: LabelingSpec, present_rows: set[str]) -> list[dict[str, Any]]:
    """The gold tasks not yet in the project, as records like the sampled rows'."""
    out = []
    for item in lab.gold:
        row_id = gold_row_id(item)
        if row_id not in present_rows:
            out.append({**item.data, "_row_id": row_id, "_pull_id": GOLD_PULL})
    return out


def mix(items: list[T], extra: list[T], seed: int) -> list[T]:
    """`items` with each of `extra` inserted at a seeded random position (order of each kept)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible placement, not a secret
    slots = sorted(rng.randint(0, len(items)) for _ in extra)
    out: list[T] = []
    last = 0
    for slot, item in zip(slots, extra, strict=True):
        out.extend(items[last:slot])
        out.append(item)
        last = slot
    out.extend(items[last:])
    return out


def latest_labels(annotations: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, annotator): the latest non-cancelled label."""
    ok = annotations[~annotations["was_cancelled"] & annotations["label"].notna()]
    return ok.sort_values("annotation_id").drop_duplicates(["task_key", "annotator"], keep="last")


def annotator_quality(
    annotations: pd.DataFrame, consensus: pd.DataFrame, answers: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per annotator: gold tasks answered and right (accuracy), and, on the other tasks with two
    annotators or more and a majority, how often they chose it (agreement with the consensus)."""
    labels = latest_labels(annotations)
    majority = {
        str(r["task_key"]): str(r["label"])
        for r in consensus.to_dict("records")
        if isinstance(r["label"], str) and int(r["annotators"]) >= 2
    }
    out: dict[str, dict[str, Any]] = {}
    for rec in labels.itertuples(index=False):
        entry = out.setdefault(
            str(rec.annotator),
            {"email": rec.annotator_email, "gold_answered": 0, "gold_correct": 0, "compared": 0, "agreed": 0},
        )
        key = str(rec.task_key)
        if key in answers:
            entry["gold_answered"] += 1
            entry["gold_correct"] += int(str(rec.label) == answers[key])
        elif key in majority:
            entry["compared"] += 1
            entry["agreed"] += int(str(rec.label) == majority[key])
    for entry in out.values():
        answered, compared = entry["gold_answered"], entry["compared"]
        entry["gold_accuracy"] = round(entry["gold_correct"] / answered, 4) if answered else None
        entry["agreement_with_consensus"] = round(entry["agreed"] / compared, 4) if compared else None
    return dict(sorted(out.items()))


def review_keys(consensus: pd.DataFrame, threshold: float) -> list[str]:
    """Tasks whose majority is tied or below `threshold` of the votes, with two annotators or more."""
    out = []
    for r in consensus.to_dict("records"):
        annotators = int(r["annotators"])
        if annotators >= 2 and (bool(r["tie"]) or int(r["votes"]) / annotators < threshold):
            out.append(str(r["task_key"]))
    return sorted(out)
