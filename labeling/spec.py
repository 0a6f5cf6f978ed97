"""The `labeling` section of a dataset spec, typed, and its validation.

    labeling:
      task_type: text_classification      # text_classification | ner | image_bbox | record_verification
      labels: {giao_thong: "Giao thông", moi_truong: {vi: "Môi trường", en: Environment}, khac: Khác}
                                          # id -> name shown in Label Studio; the id is what annotations
                                          # store and what is published. A plain list of ids also works
                                          # ([giao_thong, khac]): the name is then the id made readable.
      columns: [noi_dung]                 # columns shown in each task; the first is the main one
      id_column: ma_phan_anh              # default: the single primary key, else the row number
      sampling: {strategy: stratified, column: quan, seed: 7}   # random | stratified | quality_flagged
      sample_size: 500                                           #  | least_confident
      overlap: 2                          # annotators per task
      instructions: {vi: "Chọn một lĩnh vực cho mỗi phản ánh.", en: "Pick one topic per report."}
                                          # or plain Vietnamese text; reachable from the labeling screen
      baseline: {kind: keywords, keywords: {giao_thong: [ngập, kẹt xe], moi_truong: [rác]}}
                                          # or {kind: column, column: vung_goi_y}: ready-made predictions
      gold: [{data: {noi_dung: "Cây đổ chắn đường"}, label: giao_thong}]   # honeypots, known answers
      review_agreement: 0.67              # below this majority share (or a tie): flagged for review

`validate_labeling_section(spec)` renders the template's label config, parses the XML and
checks every referenced column against `schema.columns` (when the spec declares columns).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from citydata.spec.model import DatasetSpec, LocalizedText

TaskType = Literal["text_classification", "ner", "image_bbox", "record_verification"]
Strategy = Literal["random", "stratified", "quality_flagged", "least_confident"]
GOLD_TASK_TYPES = ("text_classification", "record_verification")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sampling(_Strict):
    strategy: Strategy = Field("random", description="How rows are picked for labeling.")
    column: str | None = Field(None, description="Column to stratify on (strategy stratified).")
    seed: int = Field(0, description="Random seed (stable samples).")

    @model_validator(mode="after")
    def _column_for_stratified(self) -> Sampling:
        if self.strategy == "stratified" and not self.column:
            raise ValueError("sampling.strategy 'stratified' needs sampling.column")
        return self


class Baseline(_Strict):
    """Pre-annotations: keyword rules, multinomial naive Bayes trained on collected labels, or a
    column that already holds them (e.g. boxes from an upstream OCR/layout step), read by the
    template's `from_value`."""

    kind: Literal["none", "keywords", "naive_bayes", "column"] = Field(
        "none", description="Source of pre-annotations."
    )
    keywords: dict[str, list[str]] = Field(
        default_factory=dict, description="kind keywords: label -> words (case-insensitive)."
    )
    min_labels: int = Field(
        10, ge=1, description="kind naive_bayes: train once this many consensus labels exist."
    )
    column: str | None = Field(None, description="kind column: the column holding each row's pre-annotation.")
    model_version: str = Field(
        "column", description="kind column: shown in Label Studio beside each prediction."
    )

    @model_validator(mode="after")
    def _column_for_column_kind(self) -> Baseline:
        if self.kind == "column" and not self.column:
            raise ValueError("baseline.kind 'column' needs baseline.column")
        return self


class GoldItem(_Strict):
    """A honeypot task with a known answer, mixed into the project; its answer stays in the spec."""

    data: dict[str, str] = Field(description="The task's text per shown column, e.g. {noi_dung: ...}.")
    label: str = Field(description="The right label id.")


def readable(label_id: str) -> str:
    """The name shown for a label given only as an id: `giao_thong` -> `Giao thong`."""
    text = " ".join(label_id.replace("_", " ").replace("-", " ").split())
    return text[:1].upper() + text[1:] if text else label_id


class LabelingSpec(_Strict):
    task_type: TaskType = Field(description="Kind of labeling task (one Label Studio template each).")
    labels: list[str] | dict[str, str | LocalizedText] = Field(
        description="The labels annotators choose from: a mapping of label id to the name Label Studio "
        "shows (Vietnamese text, or {vi, en}: the English name becomes a hover hint), e.g. "
        "`{giao_thong: Giao thông, khac: {vi: Khác, en: Other}}`; or a list of ids, e.g. "
        "`[giao_thong, khac]`, shown as the id made readable (`Giao thong`). The id is what "
        "annotations store and what is published.",
        json_schema_extra={"minItems": 1, "minProperties": 1},
    )
    columns: list[str] = Field(
        min_length=1, description="Columns shown in each task; the first is the main one."
    )
    id_column: str | None = Field(
        None, description="Row id; default: the single primary key, else the row number."
    )
    sampling: Sampling = Field(Sampling(), description="Which rows become tasks.")
    sample_size: int = Field(1000, ge=1, description="Tasks per push.")
    overlap: int = Field(1, ge=1, le=20, description="Annotators per task.")
    instructions: str | LocalizedText | None = Field(
        None,
        description="Shown above each task (Vietnamese) and as the project's instructions (Vietnamese, "
        "then English), which annotators open from the labeling screen; they never block it. Text, or "
        "{vi, en}, e.g. `{vi: Chọn một lĩnh vực., en: Pick one topic.}`.",
    )
    baseline: Baseline = Field(Baseline(), description="Pre-annotations shown as predictions.")
    gold: list[GoldItem] = Field(
        default_factory=list,
        description="Gold (honeypot) tasks with known answers, mixed among the sampled tasks: each "
        "annotator's accuracy on them is reported beside agreement (choice task types only).",
    )
    review_agreement: float = Field(
        0.67, ge=0, le=1,
        description="Tasks whose majority share of votes is below this (or tied) are flagged for "
        "review in Label Studio (the 'Cần xem lại' tab).",
    )  # fmt: skip

    @field_validator("labels")
    @classmethod
    def _some_labels(cls, value: list[str] | dict[str, str | LocalizedText]) -> object:
        if not value:
            raise ValueError("at least one label is needed")
        if any(not str(i).strip() for i in value):
            raise ValueError("a label id is empty")
        return value

    @model_validator(mode="after")
    def _unique_labels(self) -> LabelingSpec:
        ids = self.label_ids
        if len(set(ids)) != len(ids):
            raise ValueError("labels must be unique")
        names = [self.label_name(i) for i in ids]
        if any(not n.strip() for n in names):
            raise ValueError("labels: a label name is empty")
        if len(set(names)) != len(names):
            raise ValueError(f"label names must be unique: {names}")
        clash = sorted(n for i, n in zip(ids, names, strict=True) if n != i and n in ids)
        if clash:  # Label Studio matches a stored value against both names and ids
            raise ValueError(f"label names equal to another label's id: {clash}")
        unknown = sorted(set(self.baseline.keywords) - set(ids))
        if unknown:
            raise ValueError(f"baseline.keywords names labels not in labels: {unknown}")
        if self.gold and self.task_type not in GOLD_TASK_TYPES:
            raise ValueError(f"gold tasks need a choice task type ({', '.join(GOLD_TASK_TYPES)})")
        for i, item in enumerate(self.gold):
            if item.label not in ids:
                raise ValueError(f"gold[{i}].label {item.label!r} is not one of the labels {ids}")
            if self.columns[0] not in item.data or set(item.data) - set(self.columns):
                wanted = f"{self.columns[0]!r}, and only columns of {self.columns}"
                raise ValueError(f"gold[{i}].data needs {wanted}")
        return self

    @property
    def main_column(self) -> str:
        return self.columns[0]

    @property
    def label_ids(self) -> list[str]:
        """The stable label ids, in the spec's order: stored in annotations and published."""
        return list(self.labels)

    def label_name(self, label_id: str) -> str:
        """The Vietnamese name annotators see for a label."""
        name = self.labels.get(label_id) if isinstance(self.labels, dict) else None
        if name is None:
            return readable(label_id)
        return name if isinstance(name, str) else name.vi

    def label_hint(self, label_id: str) -> str | None:
        """The label's English name, when the spec gives one."""
        name = self.labels.get(label_id) if isinstance(self.labels, dict) else None
        return name.en if isinstance(name, LocalizedText) else None

    @property
    def instructions_vi(self) -> str | None:
        if isinstance(self.instructions, LocalizedText):
            return self.instructions.vi
        return self.instructions

    @property
    def instructions_en(self) -> str | None:
        return self.instructions.en if isinstance(self.instructions, LocalizedText) else None


class LabelingSpecError(ValueError):
    def __init__(self, dataset: str, problems: list[str]) -> None:
        super().__init__(f"{dataset}: invalid labeling section: " + "; ".join(problems))
        self.problems = problems


def parse_labeling(spec: DatasetSpec) -> LabelingSpec | None:
    """The typed section, or None when the spec has none. Raises LabelingSpecError when invalid."""
    if not spec.labeling:
        return None
    problems = validate_labeling_section(spec)
    if problems:
        raise LabelingSpecError(spec.id, problems)
    return LabelingSpec.model_validate(spec.labeling)


def _model_problems(raw: dict[str, object]) -> tuple[LabelingSpec | None, list[str]]:
    try:
        return LabelingSpec.model_validate(raw), []
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            out.append(f"labeling{'.' + loc if loc else ''}: {err['msg']}")
        return None, out


def validate_labeling_section(spec: DatasetSpec) -> list[str]:
    """Problems with the spec's labeling section (empty list: valid, or no section)."""
    from labeling.templates import get_template

    if not spec.labeling:
        return []
    lab, problems = _model_problems(spec.labeling)
    if lab is None:
        return problems
    declared = spec.schema_.columns
    referenced = list(lab.columns)
    if lab.id_column:
        referenced.append(lab.id_column)
    if lab.sampling.column:
        referenced.append(lab.sampling.column)
    if lab.baseline.column:
        referenced.append(lab.baseline.column)
    if declared:
        missing = [c for c in referenced if c not in declared]
        if missing:
            problems.append(f"labeling: columns not declared in schema.columns: {missing}")
    template = get_template(lab.task_type)
    problems += [f"labeling: {p}" for p in template.check(lab)]
    try:
        xml = template.render(lab)
        root = ET.fromstring(xml)  # noqa: S314 - our own template output; entities are escaped
    except ET.ParseError as exc:
        problems.append(f"labeling: generated label config is not valid XML: {exc}")
        return problems
    except ValueError as exc:
        problems.append(f"labeling: {exc}")
        return problems
    if root.tag != "View":
        problems.append("labeling: label config root must be <View>")
    names = [el.get("name") for el in root.iter() if el.get("name")]
    if len(names) != len(set(names)):
        problems.append("labeling: label config has duplicate tag names")
    for el in root.iter():
        to_name = el.get("toName")
        if to_name and to_name not in names:
            problems.append(f"labeling: <{el.tag} name={el.get('name')!r}> points at unknown {to_name!r}")
        value = el.get("value", "")
        if value.startswith("$") and value[1:] not in lab.columns:
            problems.append(f"labeling: <{el.tag}> reads ${value[1:]}, which is not in labeling.columns")
    return problems
