"""Gold tasks and review routing: pure logic (placement, accuracy, agreement, weak majorities)."""

import pandas as pd
import pytest
from pydantic import ValidationError

from labeling.gold import annotator_quality, gold_answers, gold_records, is_gold, mix, review_keys
from labeling.spec import LabelingSpec

BASE = {"task_type": "text_classification", "labels": ["giao_thong", "moi_truong"], "columns": ["noi_dung"]}
GOLD = [{"data": {"noi_dung": "Ổ gà giữa đường"}, "label": "giao_thong"}]


def test_gold_needs_known_labels_and_shown_columns():
    assert LabelingSpec.model_validate({**BASE, "gold": GOLD}).gold[0].label == "giao_thong"
    with pytest.raises(ValidationError, match=r"gold\[0\].label 'khac'"):
        LabelingSpec.model_validate({**BASE, "gold": [{**GOLD[0], "label": "khac"}]})
    with pytest.raises(ValidationError, match=r"gold\[0\].data needs 'noi_dung'"):
        LabelingSpec.model_validate({**BASE, "gold": [{"data": {"ghi_chu": "x"}, "label": "giao_thong"}]})
    with pytest.raises(ValidationError, match="choice task type"):
        LabelingSpec.model_validate({**BASE, "task_type": "ner", "gold": GOLD})


def test_gold_records_are_keyed_by_their_text_and_not_added_twice():
    lab = LabelingSpec.model_validate({**BASE, "gold": GOLD})
    [record] = gold_records(lab, set())
    assert record["_row_id"].startswith("gold-") and record["_pull_id"] == "gold"
    assert gold_records(lab, {record["_row_id"]}) == []
    [key] = gold_answers("phan-anh", lab)
    assert key == f"phan-anh/gold/{record['_row_id']}" and is_gold(key) and not is_gold("phan-anh/p1/7")


def test_mix_keeps_every_item_in_order_at_seeded_places():
    items, extra = list(range(20)), ["g1", "g2", "g3"]
    mixed = mix(items, extra, seed=7)
    assert [x for x in mixed if isinstance(x, int)] == items and [
        x for x in mixed if isinstance(x, str)
    ] == extra
    assert mix(items, extra, seed=7) == mixed and mix(items, extra, seed=8) != mixed
    assert mix([], extra, seed=1) == extra


def annotations(rows):
    return pd.DataFrame(
        [
            {"task_key": k, "annotator": who, "annotator_email": f"{who}@x", "label": label,
             "annotation_id": i, "was_cancelled": False}
            for i, (k, who, label) in enumerate(rows)
        ]
    )  # fmt: skip


def test_accuracy_on_gold_and_agreement_with_the_consensus():
    ann = annotations([
        ("d/p/1", "a", "x"), ("d/p/1", "b", "x"), ("d/p/2", "a", "y"), ("d/p/2", "b", "x"),
        ("d/p/3", "a", "y"), ("d/p/3", "b", "y"), ("d/p/3", "c", "x"),
        # b's latest answer on the gold task wins
        ("d/gold/gold-1", "a", "x"), ("d/gold/gold-1", "b", "y"), ("d/gold/gold-1", "b", "x"),
    ])  # fmt: skip
    consensus = pd.DataFrame(
        [
            {"task_key": "d/p/1", "label": "x", "votes": 2, "annotators": 2, "tie": False},
            {"task_key": "d/p/2", "label": None, "votes": 1, "annotators": 2, "tie": True},
            {"task_key": "d/p/3", "label": "y", "votes": 2, "annotators": 3, "tie": False},
        ]
    )
    quality = annotator_quality(ann, consensus, {"d/gold/gold-1": "x"})
    assert quality["a"]["gold_accuracy"] == 1.0 and quality["b"]["gold_accuracy"] == 1.0
    assert quality["c"]["gold_accuracy"] is None  # answered no gold task
    assert quality["a"]["compared"] == 2 and quality["a"]["agreement_with_consensus"] == 1.0
    assert quality["c"]["agreement_with_consensus"] == 0.0
    assert review_keys(consensus, 0.67) == ["d/p/2", "d/p/3"]  # a tie, and 2 votes of 3
    assert review_keys(consensus, 0.6) == ["d/p/2"]
