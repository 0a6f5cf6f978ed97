"""Scanned-form sample and ready-made pre-annotations (baseline kind `column`) for image boxes."""

import io
import json

import pytest
from PIL import Image

from citydata.spec.model import DatasetSpec
from labeling.spec import LabelingSpec, validate_labeling_section
from labeling.task_export import column_predictions
from samples.forms import FIELDS, HEIGHT, WIDTH, form_scans

IMAGE = {
    "task_type": "image_bbox",
    "labels": FIELDS,
    "columns": ["anh"],
    "baseline": {"kind": "column", "column": "vung_goi_y", "model_version": "form-generator"},
}


def test_form_scans_are_deterministic_pngs_with_every_field_boxed_inside_the_page():
    scans = form_scans("so-x/ds/scans/", count=4)
    again = form_scans("so-x/ds/scans/", count=4)
    assert [s.png for s in scans] == [s.png for s in again]
    assert {s.row["loai_phieu"] for s in scans} == {"phieu-phan-anh", "don-de-nghi"}
    for scan in scans:
        image = Image.open(io.BytesIO(scan.png))
        assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
        assert scan.row["anh"] == f"so-x/ds/scans/{scan.row['ma_phieu']}.png"
        assert json.loads(scan.row["vung_goi_y"]) == scan.boxes
        assert sorted(b["label"] for b in scan.boxes) == sorted(FIELDS)
        for box in scan.boxes:
            assert 0 <= box["x"] and box["x"] + box["width"] <= 100
            assert 0 <= box["y"] and box["y"] + box["height"] <= 100
            # ink inside the box: the field's value was really written there
            left, top = box["x"] * WIDTH / 100, box["y"] * HEIGHT / 100
            right, bottom = left + box["width"] * WIDTH / 100, top + box["height"] * HEIGHT / 100
            crop = image.crop((int(left), int(top), int(right), int(bottom)))
            assert crop.getextrema()[0] < 100  # darkest pixel


def test_column_predictions_turn_boxes_into_rectangle_predictions_with_scores():
    lab = LabelingSpec.model_validate(IMAGE)
    boxes = [
        {"x": 10.0, "y": 20.0, "width": 30.0, "height": 5.0, "label": "ho_ten"},
        {"x": 1.0, "y": 2.0, "width": 3.0, "height": 4.0, "label": "ngay", "score": 0.75},
    ]
    [first, empty] = column_predictions([json.dumps(boxes), ""], lab)
    assert empty is None
    assert first["model_version"] == "form-generator" and first["score"] == 0.75
    assert [r["value"]["rectanglelabels"] for r in first["result"]] == [["ho_ten"], ["ngay"]]
    assert first["result"][0]["value"] | {} == {
        "x": 10.0, "y": 20.0, "width": 30.0, "height": 5.0, "rotation": 0, "rectanglelabels": ["ho_ten"]
    }  # fmt: skip
    assert {(r["from_name"], r["to_name"], r["type"]) for r in first["result"]} == {
        ("label", "image", "rectanglelabels")
    }


def test_column_predictions_reject_a_label_outside_the_label_set():
    lab = LabelingSpec.model_validate(IMAGE)
    with pytest.raises(ValueError, match="chu_ky"):
        column_predictions([json.dumps([{"x": 1, "y": 1, "width": 1, "height": 1, "label": "chu_ky"}])], lab)


def test_baseline_column_must_be_named_and_declared():
    with pytest.raises(ValueError, match=r"baseline\.column"):
        LabelingSpec.model_validate({**IMAGE, "baseline": {"kind": "column"}})
    spec = DatasetSpec.model_validate(
        {
            "id": "phieu",
            "agency": {"id": "so-x", "title": {"vi": "Sở"}},
            "title": {"vi": "Phiếu"},
            "description": {"vi": "Phiếu"},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "source": {"type": "local_file", "path": "datasets/x.json"},
            "schema": {"columns": {"anh": {}}},
            "labeling": IMAGE,
        }
    )
    assert any("vung_goi_y" in p for p in validate_labeling_section(spec))
