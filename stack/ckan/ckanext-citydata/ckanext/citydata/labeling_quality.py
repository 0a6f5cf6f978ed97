"""A labeled dataset's labeling figures for its page (`<id>-labels`, published by labeling/publish.py):
the counts, the label distribution with agreement per label, and each annotator's accuracy on the
gold tasks beside agreement with the consensus, read from the package's `labeling_*` extras; plus the
Croissant description's link. Pure functions on the package dict (no CKAN imports)."""

from __future__ import annotations

import json
from typing import Any

# The figures shown, in order, with their Vietnamese and English names.
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("tasks", "Số mục gửi gán nhãn", "Tasks"),
    ("annotated_tasks", "Số mục đã gán nhãn", "Labeled tasks"),
    ("annotations", "Số lượt gán nhãn", "Annotations"),
    ("consensus_labels", "Số nhãn đồng thuận", "Consensus labels"),
    ("ties", "Số mục hòa phiếu", "Ties"),
    ("cohen_kappa", "Hệ số kappa Cohen", "Cohen's kappa"),
    ("fleiss_kappa", "Hệ số kappa Fleiss", "Fleiss' kappa"),
    ("span_overlap", "Độ trùng khớp vùng", "Span overlap"),
    ("gold_accuracy", "Độ chính xác trên câu kiểm tra", "Accuracy on gold tasks"),
    ("tasks_to_review", "Số mục cần xem lại", "Tasks to review"),
)
CROISSANT_ROLE = "croissant"


def _extra(pkg: dict[str, Any], key: str) -> Any:
    extras = {e.get("key"): e.get("value") for e in pkg.get("extras") or [] if isinstance(e, dict)}
    raw = extras.get(key, pkg.get(key))
    if raw in (None, ""):
        return None
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None


SHARES = {"gold_accuracy", "span_overlap"}  # shown as percentages
DECIMALS = {"cohen_kappa", "fleiss_kappa"}  # three decimals, 1.000 included


def _number(value: Any, lang: str, decimals: bool = False) -> str:
    """1.234 (Vietnamese) or 1,234 for counts; 0,412 or 0.412 for other decimals."""
    if decimals or (isinstance(value, float) and not value.is_integer()):
        text = f"{value:.3f}"
        return text if lang == "en" else text.replace(".", ",")
    return f"{int(value):,}".replace(",", "." if lang != "en" else ",")


def _percent(value: float, lang: str) -> str:
    text = f"{100 * value:.1f}"
    return (text if lang == "en" else text.replace(".", ",")) + "%"


def _share(value: Any, part: Any, whole: Any, lang: str) -> str:
    """'75,0% (3/4)'; '' when not measured."""
    return "" if value is None else f"{_percent(float(value), lang)} ({part}/{whole})"


def labeling_of(pkg: dict[str, Any], lang: str = "vi") -> dict[str, Any] | None:
    """{figures, labels, annotators, croissant_url} for the page; None for a dataset without labels."""
    counts = _extra(pkg, "labeling_counts")
    if not isinstance(counts, dict):
        return None
    en = lang == "en"
    figures = [
        {
            "key": key,
            "label": en_name if en else vi_name,
            "value": _percent(counts[key], lang)
            if key in SHARES
            else _number(counts[key], lang, decimals=key in DECIMALS),
        }
        for key, vi_name, en_name in FIGURES
        if isinstance(counts.get(key), int | float) and not isinstance(counts.get(key), bool)
    ]
    labels = []
    for row in _extra(pkg, "labeling_distribution") or []:
        name = (row.get("name_en") if en else None) or row.get("name_vi") or row.get("label")
        agreement = row.get("agreement")
        labels.append(
            {
                "label": row.get("label"),
                "name": name,
                "count": _number(row.get("count") or 0, lang),
                "agreement": "" if agreement is None else _percent(float(agreement), lang),
            }
        )
    annotators = []
    for who, q in sorted((_extra(pkg, "labeling_annotators") or {}).items()):
        annotators.append(
            {
                "annotator": who,
                "gold": _share(q.get("gold_accuracy"), q.get("gold_correct"), q.get("gold_answered"), lang),
                "agreement": _share(
                    q.get("agreement_with_consensus"), q.get("agreed"), q.get("compared"), lang
                ),
            }
        )
    croissant = next(
        (r.get("url") for r in pkg.get("resources") or [] if r.get("citydata_role") == CROISSANT_ROLE), None
    )
    return {"figures": figures, "labels": labels, "annotators": annotators, "croissant_url": croissant}
