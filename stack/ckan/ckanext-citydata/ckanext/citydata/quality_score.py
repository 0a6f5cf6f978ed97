"""What the platform computes per version and keeps in the package's extras, for the dataset page
and DCAT: the dataset quality score (catalog/quality_score.py; badge, breakdown, DQV measurements)
and the version history (catalog/history.py)."""

from __future__ import annotations

import json
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS, XSD

SCORE_KEY = "citydata_quality_score"
DETAIL_KEY = "citydata_quality_score_detail"
HISTORY_KEY = "citydata_version_history"
DQV = Namespace("http://www.w3.org/ns/dqv#")


def score_of(pkg: dict[str, Any]) -> dict[str, Any] | None:
    """The score's detail (score, dimensions, points, fixes), or None when the package has none."""
    extras = {e.get("key"): e.get("value") for e in pkg.get("extras") or []}
    raw = extras.get(DETAIL_KEY) or pkg.get(DETAIL_KEY)
    if not raw:
        return None
    try:
        detail = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (TypeError, ValueError):
        return None
    return detail if isinstance(detail, dict) and "score" in detail else None


def version_history(pkg: dict[str, Any]) -> list[dict[str, Any]]:
    """The kept versions the platform lists (`citydata_version_history`), newest first; [] when none."""
    extras = {e.get("key"): e.get("value") for e in pkg.get("extras") or []}
    try:
        history = json.loads(extras.get(HISTORY_KEY) or "[]")
    except (TypeError, ValueError):
        return []
    return history if isinstance(history, list) else []


def badge_class(score: float) -> str:
    """Bootstrap colour of the badge: green from 80, amber from 50, red below."""
    return "success" if score >= 80 else "warning" if score >= 50 else "danger"


def add_measurements(g: Graph, dataset_ref: URIRef, detail: dict[str, Any], site_url: str) -> None:
    """dqv:hasQualityMeasurement for the score and each dimension, with their metrics described."""
    base = f"{site_url.rstrip('/')}/quality-metrics#"

    def measure(name: str, value: float, vi: str, en: str, possible: float) -> None:
        metric = URIRef(base + name)
        g.add((metric, RDF.type, DQV.Metric))
        g.add((metric, SKOS.prefLabel, Literal(vi, lang="vi")))
        g.add((metric, SKOS.prefLabel, Literal(en, lang="en")))
        g.add((metric, SKOS.definition, Literal(f"0 to {possible:g} points", lang="en")))
        g.add((metric, DQV.expectedDataType, XSD.decimal))
        node = BNode()
        g.add((dataset_ref, DQV.hasQualityMeasurement, node))
        g.add((node, RDF.type, DQV.QualityMeasurement))
        g.add((node, DQV.isMeasurementOf, metric))
        g.add((node, DQV.computedOn, dataset_ref))
        g.add((node, DQV.value, Literal(f"{float(value):g}", datatype=XSD.decimal)))

    measure("score", float(detail["score"]), "Điểm chất lượng bộ dữ liệu", "Dataset quality score", 100)
    for name, dim in (detail.get("dimensions") or {}).items():
        measure(name, float(dim["earned"]), dim["label_vi"], dim["label_en"], float(dim["possible"]))
