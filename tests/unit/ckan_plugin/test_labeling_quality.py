"""A labeled dataset's labeling figures as its page shows them (the project's CKAN plugin, pure
functions): counts and kappas in each language's number format, the label distribution with the
spec's label names, annotators' accuracy on gold tasks, and the Croissant link."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# ckanext/ is a namespace package (no __init__.py), as CKAN's extensions are.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "stack" / "ckan" / "ckanext-citydata"))
labeling_quality = pytest.importorskip("ckanext.citydata.labeling_quality")
display = pytest.importorskip("ckanext.citydata.display")

COUNTS = {"tasks": 1200, "annotated_tasks": 3, "annotations": 7, "consensus_labels": 2, "ties": 1,
          "cohen_kappa": 0.4117647, "fleiss_kappa": 1.0, "gold_accuracy": 0.75,
          "tasks_to_review": 0}  # fmt: skip
DISTRIBUTION = [
    {"label": "giao_thong", "count": 2, "agreement": 0.5, "name_vi": "Giao thông", "name_en": None},
    {"label": "khac", "count": 1, "agreement": None, "name_vi": "Khác", "name_en": "Other"},
]
ANNOTATORS = {
    "7": {"gold_answered": 2, "gold_correct": 1, "gold_accuracy": 0.5, "compared": 2, "agreed": 1,
          "agreement_with_consensus": 0.5},
    "3": {"gold_answered": 0, "gold_correct": 0, "gold_accuracy": None, "compared": 2, "agreed": 2,
          "agreement_with_consensus": 1.0},
}  # fmt: skip


def labeled_package() -> dict:
    return {
        "name": "phan-anh-labels",
        "extras": [
            {"key": "source_dataset", "value": "phan-anh"},
            {"key": "labeling_counts", "value": json.dumps(COUNTS)},
            {"key": "labeling_distribution", "value": json.dumps(DISTRIBUTION)},
            {"key": "labeling_annotators", "value": json.dumps(ANNOTATORS)},
        ],
        "resources": [
            {"citydata_role": "csv", "url": "http://x/phan-anh-labels.csv"},
            {"citydata_role": "croissant", "url": "http://x/croissant.json"},
        ],
    }


def test_figures_in_vietnamese_number_format_and_in_english():
    vi = labeling_quality.labeling_of(labeled_package(), "vi")
    shown = {f["key"]: f["value"] for f in vi["figures"]}
    assert shown["tasks"] == "1.200" and shown["cohen_kappa"] == "0,412" and shown["gold_accuracy"] == "75,0%"
    assert shown["fleiss_kappa"] == "1,000" and "span_overlap" not in shown  # not measured: not shown
    assert [f["key"] for f in vi["figures"]][:2] == ["tasks", "annotated_tasks"]
    en = labeling_quality.labeling_of(labeled_package(), "en")
    shown_en = {f["key"]: (f["label"], f["value"]) for f in en["figures"]}
    assert shown_en["tasks"] == ("Tasks", "1,200") and shown_en["gold_accuracy"] == (
        "Accuracy on gold tasks",
        "75.0%",
    )


def test_labels_are_named_as_the_spec_names_them_with_their_agreement():
    vi = labeling_quality.labeling_of(labeled_package(), "vi")
    assert vi["labels"] == [
        {"label": "giao_thong", "name": "Giao thông", "count": "2", "agreement": "50,0%"},
        {"label": "khac", "name": "Khác", "count": "1", "agreement": ""},
    ]
    en = labeling_quality.labeling_of(labeled_package(), "en")
    assert [entry["name"] for entry in en["labels"]] == ["Giao thông", "Other"]  # no English name: Vietnamese


def test_annotators_gold_accuracy_beside_agreement_and_the_croissant_link():
    vi = labeling_quality.labeling_of(labeled_package(), "vi")
    assert vi["annotators"] == [
        {"annotator": "3", "gold": "", "agreement": "100,0% (2/2)"},
        {"annotator": "7", "gold": "50,0% (1/2)", "agreement": "50,0% (1/2)"},
    ]
    assert vi["croissant_url"] == "http://x/croissant.json"


def test_a_dataset_without_labels_has_no_section_and_raw_figures_leave_additional_info():
    assert labeling_quality.labeling_of({"name": "x", "extras": []}) is None
    rows = display.info_rows(labeled_package(), "vi")
    labels = {row["label"] for row in rows}
    assert "source_dataset" in labels and not any(str(label).startswith("labeling_") for label in labels)
