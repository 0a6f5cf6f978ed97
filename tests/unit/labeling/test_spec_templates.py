"""The labeling section: typed model, templates, validation; baseline and sampling."""

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from citydata.spec.model import DatasetSpec
from labeling.baseline import KeywordModel, NaiveBayes, least_confident
from labeling.sampling import sample_rows
from labeling.spec import LabelingSpec, validate_labeling_section
from labeling.templates import available, get_template


def make_spec(labeling, columns=None):
    return DatasetSpec.model_validate(
        {
            "id": "phan-anh",
            "agency": {"id": "so-tttt", "title": {"vi": "Sở TT&TT"}},
            "title": {"vi": "Phản ánh"},
            "description": {"vi": "Phản ánh của người dân"},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "source": {"type": "local_file", "path": "datasets/x.csv"},
            "schema": {"columns": columns or {}},
            "labeling": labeling,
        }
    )


BASE = {"task_type": "text_classification", "labels": ["giao_thong", "moi_truong"], "columns": ["noi_dung"]}


def test_all_templates_render_valid_xml():
    assert set(available()) == {"text_classification", "ner", "image_bbox", "record_verification"}
    for task_type, module in available().items():
        cols = ["anh"] if task_type == "image_bbox" else ["noi_dung", "quan"]
        lab = LabelingSpec.model_validate(
            {**BASE, "task_type": task_type, "columns": cols, "instructions": "<b>"}
        )
        root = ET.fromstring(module.render(lab))  # noqa: S314
        assert root.tag == "View"


def test_valid_section_has_no_problems():
    assert validate_labeling_section(make_spec(BASE, {"noi_dung": {}})) == []
    assert validate_labeling_section(make_spec({})) == []


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({**BASE, "columns": ["khong_co"]}, "not declared in schema.columns"),
        ({**BASE, "labels": []}, "labeling.labels"),
        ({**BASE, "task_type": "audio"}, "labeling.task_type"),
        ({**BASE, "sampling": {"strategy": "stratified"}}, "needs sampling.column"),
        ({**BASE, "labels": ["a", "a"]}, "unique"),
        ({**BASE, "task_type": "image_bbox", "columns": ["noi_dung", "quan"]}, "exactly one column"),
    ],
)
def test_invalid_sections_are_rejected(section, expected):
    problems = validate_labeling_section(make_spec(section, {"noi_dung": {}, "quan": {}}))
    assert any(expected in p for p in problems), problems


def test_text_classification_round_trip():
    lab = LabelingSpec.model_validate(BASE)
    t = get_template("text_classification")
    assert t.extract(t.to_result("moi_truong", lab)) == "moi_truong"


def test_naive_bayes_and_keywords():
    texts = ["ngập nước đường", "kẹt xe đường lớn", "rác thải hẻm", "rác bốc mùi"]
    y = ["giao_thong", "giao_thong", "moi_truong", "moi_truong"]
    nb = NaiveBayes(["giao_thong", "moi_truong"]).fit(texts, y)
    p = nb.predict_proba(["đường ngập", "rác hẻm"])
    assert p[0, 0] > 0.5 and p[1, 1] > 0.5
    assert np.allclose(p.sum(axis=1), 1)
    kw = KeywordModel({"giao_thong": ["Ngập"]}, ["giao_thong", "moi_truong"])
    assert kw.predict_proba(["Đường NGẬP"])[0, 0] > 0.5
    assert list(least_confident(np.array([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4]]), 2)) == [1, 2]


def test_sampling_strategies():
    df = pd.DataFrame({"_row_id": [str(i) for i in range(100)], "quan": ["Q1"] * 80 + ["Q3"] * 20})
    lab = LabelingSpec.model_validate(
        {**BASE, "sample_size": 10, "sampling": {"strategy": "stratified", "column": "quan"}}
    )
    s = sample_rows(df, lab)
    assert len(s) == 10 and (s["quan"] == "Q3").sum() == 2
    assert list(sample_rows(df, lab)["_row_id"]) == list(s["_row_id"])  # stable
    flagged = LabelingSpec.model_validate(
        {**BASE, "sample_size": 10, "sampling": {"strategy": "quality_flagged"}}
    )
    assert set(sample_rows(df, flagged, flagged_ids={"3", "7"})["_row_id"]) == {"3", "7"}
    lc = LabelingSpec.model_validate({**BASE, "sample_size": 2, "sampling": {"strategy": "least_confident"}})
    conf = np.linspace(1, 0.5, 100)
    assert list(sample_rows(df, lc, confidence=conf)["_row_id"]) == ["99", "98"]


def test_least_confident_picks_the_most_uncertain_rows_first():
    import numpy as np

    from labeling.baseline import least_confident

    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.99, 0.01]])
    assert least_confident(proba, 2).tolist() == [1, 2]
    assert least_confident(np.empty((0, 2)), 3).tolist() == []


def test_no_prediction_without_evidence():
    from labeling.task_export import predictions_for

    lab = LabelingSpec.model_validate(BASE)
    kw = KeywordModel({"giao_thong": ["ngập"]}, ["giao_thong", "moi_truong"])
    _, preds = predictions_for(kw, "keywords", ["Đường ngập nặng", "Chuyện khác hẳn"], lab)
    assert preds[0] is not None and preds[0]["score"] > 0.5
    assert preds[1] is None  # nothing matched: a tie, not the first label at 1/k
