"""Vietnamese label names, project titles and instructions: the pure rendering (no Label Studio)."""

import xml.etree.ElementTree as ET

import pytest

from citydata.spec.model import DatasetSpec
from labeling.project import (
    INTERNAL_COLUMNS,
    expert_instruction,
    fit_title,
    hidden_columns,
    project_description,
    project_settings,
    project_title,
    with_internal_hidden,
)
from labeling.spec import LabelingSpec, readable
from labeling.templates import available, get_template

NAMED = {
    "task_type": "text_classification",
    "labels": {
        "giao_thong": "Giao thông",
        "moi_truong": {"vi": "Môi trường", "en": "Environment"},
        "khac": "Khác",
    },
    "columns": ["noi_dung"],
    "instructions": {"vi": "Chọn một lĩnh vực <cho> mỗi phản ánh.", "en": "Pick one topic."},
}


def label_elements(xml: str) -> list[ET.Element]:
    root = ET.fromstring(xml)  # noqa: S314 - our own template output
    return [el for el in root.iter() if el.tag in ("Choice", "Label")]


@pytest.mark.parametrize("task_type", sorted(available()))
def test_every_template_shows_the_vietnamese_name_and_stores_the_id(task_type):
    cols = ["anh"] if task_type == "image_bbox" else ["noi_dung"]
    lab = LabelingSpec.model_validate({**NAMED, "task_type": task_type, "columns": cols})
    tags = label_elements(get_template(task_type).render(lab))
    assert [(t.get("value"), t.get("alias")) for t in tags] == [
        ("Giao thông", "giao_thong"),
        ("Môi trường", "moi_truong"),
        ("Khác", "khac"),
    ]
    assert [t.get("hint") for t in tags] == [None, "Environment", None]


def test_plain_list_of_ids_stays_valid_and_shows_the_id_made_readable():
    lab = LabelingSpec.model_validate({**NAMED, "labels": ["giao_thong", "trat-tu", "khac"]})
    assert lab.label_ids == ["giao_thong", "trat-tu", "khac"]
    tags = label_elements(get_template("text_classification").render(lab))
    assert [(t.get("value"), t.get("alias")) for t in tags] == [
        ("Giao thong", "giao_thong"),
        ("Trat tu", "trat-tu"),
        ("Khac", "khac"),
    ]
    assert readable("a") == "A" and readable("__") == "__"


def test_a_name_equal_to_its_id_needs_no_alias():
    lab = LabelingSpec.model_validate({**NAMED, "labels": {"OK": "OK", "sai": "Sai"}})
    tags = label_elements(get_template("record_verification").render(lab))
    assert [(t.get("value"), t.get("alias")) for t in tags] == [("OK", None), ("Sai", "sai")]


def test_predictions_and_extracted_labels_use_the_ids():
    lab = LabelingSpec.model_validate(NAMED)
    t = get_template("text_classification")
    result = t.to_result(lab.label_ids[1], lab)
    assert result[0]["value"]["choices"] == ["moi_truong"] and t.extract(result) == "moi_truong"


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, "at least one label"),
        ([], "at least one label"),
        ({"a": "Giống", "b": "Giống"}, "label names must be unique"),
        ({"a": "b", "b": "Bê"}, "equal to another label's id"),
        ({"a": {"en": "A"}}, "vi"),
        ({"a": ""}, "name is empty"),
        ({" ": "Trống"}, "id is empty"),
    ],
)
def test_bad_label_mappings_are_rejected(labels, expected):
    with pytest.raises(ValueError, match=expected):
        LabelingSpec.model_validate({**NAMED, "labels": labels})


def test_keywords_must_name_label_ids_not_names():
    with pytest.raises(ValueError, match="not in labels"):
        LabelingSpec.model_validate(
            {**NAMED, "baseline": {"kind": "keywords", "keywords": {"Giao thông": ["x"]}}}
        )


def test_instructions_header_is_vietnamese_and_project_instructions_are_vi_then_en():
    lab = LabelingSpec.model_validate(NAMED)
    root = ET.fromstring(get_template("text_classification").render(lab))  # noqa: S314
    assert root.find("Header").get("value") == "Chọn một lĩnh vực <cho> mỗi phản ánh."
    assert expert_instruction(lab) == (
        '<p>Chọn một lĩnh vực &lt;cho&gt; mỗi phản ánh.</p><p lang="en"><i>Pick one topic.</i></p>'
    )
    plain = LabelingSpec.model_validate({**NAMED, "instructions": "Chỉ tiếng Việt"})
    assert plain.instructions_vi == "Chỉ tiếng Việt" and expert_instruction(plain) == "<p>Chỉ tiếng Việt</p>"
    none = LabelingSpec.model_validate({**NAMED, "instructions": None})
    assert expert_instruction(none) == "" and "<Header" not in get_template("ner").render(none)


def spec_titled(title: str, dataset_id: str = "phan-anh") -> DatasetSpec:
    return DatasetSpec.model_validate(
        {
            "id": dataset_id,
            "agency": {"id": "so-khcn", "title": {"vi": "Sở KH&CN"}},
            "title": {"vi": title},
            "description": {"vi": "x"},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "source": {"type": "local_file", "path": "x.csv"},
            "labeling": NAMED,
        }
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Phản ánh của người dân", "Phản ánh của người dân"),
        # 57 characters: the trailing parenthesis goes first
        ("Phản ánh hiện trường của người dân (dữ liệu mẫu tổng hợp)", "Phản ánh hiện trường của người dân"),
        # exactly 50: kept whole
        (
            "Phiếu phản ánh giấy đã quét (dữ liệu mẫu tổng hợp)",
            "Phiếu phản ánh giấy đã quét (dữ liệu mẫu tổng hợp)",
        ),
        # still too long without a parenthesis: cut at a word, with an ellipsis
        (
            "Danh sách các điểm ngập nước thường xuyên trên địa bàn thành phố Hồ Chí Minh",
            "Danh sách các điểm ngập nước thường xuyên trên…",
        ),
        ("Xe", "citydata:phan-anh"),  # under Label Studio's 3-character minimum
    ],
)
def test_project_title_is_the_vietnamese_title_within_50_characters(title, expected):
    got = project_title(spec_titled(title))
    assert got == expected and 3 <= len(got) <= 50


def test_one_long_word_is_cut_too():
    assert fit_title("x" * 80, fallback="k") == "x" * 49 + "…"


def test_description_starts_with_the_stable_key_and_settings_never_block():
    spec = spec_titled("Phản ánh hiện trường của người dân (dữ liệu mẫu tổng hợp)")
    desc = project_description(spec)
    assert desc.split()[0] == "citydata:phan-anh" and "(dữ liệu mẫu tổng hợp)" in desc
    settings = project_settings(spec, LabelingSpec.model_validate(NAMED))
    assert settings["show_instruction"] is False and settings["title"] == "Phản ánh hiện trường của người dân"
    assert 'alias="giao_thong"' in settings["label_config"]


def test_hidden_columns_keep_label_studio_defaults_and_add_the_internal_keys():
    def column(name, explore, labeling, parent=None):
        shown = {"explore": explore, "labeling": labeling}
        return {"id": name, "parent": parent, "target": "tasks", "visibility_defaults": shown}

    columns = [
        column("noi_dung", True, True, "data"),
        column("task_key", True, False, "data"),
        column("inner_id", False, False),
        column("id", True, False),
    ]
    hidden = hidden_columns(columns)
    internal = [f"tasks:data.{c}" for c in INTERNAL_COLUMNS]
    assert hidden["explore"] == ["tasks:inner_id", *internal]
    assert hidden["labeling"][:3] == ["tasks:data.task_key", "tasks:inner_id", "tasks:id"]
    assert set(internal) <= set(hidden["labeling"]) and "tasks:data.noi_dung" not in hidden["labeling"]
    assert len(hidden["labeling"]) == len(set(hidden["labeling"]))
    # a tab somebody already set up keeps its own choices; only the internal keys are added
    mine = {"explore": ["tasks:id"], "labeling": []}
    assert with_internal_hidden(mine) == {"explore": ["tasks:id", *internal], "labeling": internal}
    assert with_internal_hidden(with_internal_hidden(mine)) == with_internal_hidden(mine)
