"""Publish a labeled dataset to CKAN as `<source-id>-labels`, linked to its source dataset.

`catalog/publish.py` was not available when this was written, so ckanapi is used directly. The
organization is the source's agency (created when missing); title and notes satisfy the DCAT-AP
scheming schema; counts and agreement go into the notes, as extras when the schema accepts them. The
link to the source dataset is a DCAT qualified relation (role prov:wasDerivedFrom), not a CKAN package
relationship: CKAN 2.12 cannot index a dataset that has one (KeyError 'subject_package_id'), so such
datasets drop out of search after any re-index. Relationships made by earlier versions are removed.
"""

from __future__ import annotations

import json
from typing import Any

from catalog.mapping import SYNTHETIC_TAGS
from citydata.clients import ckan_client
from citydata.settings import Settings, load_settings
from citydata.spec.model import DatasetSpec
from labeling.pull import PullResult


def labels_name(spec: DatasetSpec) -> str:
    return f"{spec.id}-labels"[:100]


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def publish(spec: DatasetSpec, result: PullResult, settings: Settings | None = None) -> dict[str, Any]:
    import ckanapi

    settings = settings or load_settings()
    ckan = ckan_client(settings)
    try:
        org = ckan.action.organization_show(id=spec.agency.id)
    except ckanapi.NotFound:
        org = ckan.action.organization_create(name=spec.agency.id, title=spec.agency.title.vi)
    agreement = result.agreement
    source_url = f"{settings.ckan.url.rstrip('/')}/dataset/{spec.id}"
    figures: dict[str, Any] = {
        "tasks": result.tasks,
        "annotated_tasks": result.annotated_tasks,
        "annotations": result.annotations,
        "consensus_labels": result.consensus,
        "ties": result.ties,
        **{k: agreement[k] for k in ("cohen_kappa", "fleiss_kappa", "span_overlap") if k in agreement},
    }
    warning = (
        "> **Dữ liệu giả lập (synthetic data):** nhãn trên dữ liệu tổng hợp.\n\n" if spec.synthetic else ""
    )
    notes = (
        warning + f"Nhãn do người gán nhãn tạo cho bộ dữ liệu «{spec.title.vi}» ({spec.id}). "
        f"Labels collected in Label Studio for dataset {spec.id}.\n\n"
        + "\n".join(f"- {k}: {_fmt(v)}" for k, v in figures.items())
        + f"\n\nLake: s3://{settings.s3.lake_bucket}/{result.prefix}"
    )
    extras = [
        {"key": "source_dataset", "value": spec.id},
        {"key": "labeling_counts", "value": json.dumps(figures)},
        {"key": "labeling_agreement", "value": json.dumps(agreement, default=str)},
    ]
    package: dict[str, Any] = {
        "name": labels_name(spec),
        "title": f"{spec.title.vi} — nhãn (labels)",
        "notes": notes,
        "owner_org": org["id"],
        "license_id": spec.license,
        # Labels of synthetic items are marked synthetic like their source.
        "tags": [
            {"name": t} for t in ("labels", "label-studio", *(SYNTHETIC_TAGS if spec.synthetic else ()))
        ],
        "extras": extras,
        "qualified_relation": [
            {"uri": source_url, "relation": source_url, "role": "http://www.w3.org/ns/prov#wasDerivedFrom"}
        ],
    }
    try:
        existing = ckan.action.package_show(id=package["name"])
    except ckanapi.NotFound:
        existing = None
    action = ckan.action.package_patch if existing else ckan.action.package_create
    kwargs = {"id": existing["id"], **package} if existing else package
    try:
        pkg = action(**kwargs)
    except ckanapi.ValidationError:
        # a schema without free extras or DCAT fields: the notes carry the figures and the source
        kwargs.pop("extras")
        kwargs.pop("qualified_relation")
        pkg = action(**kwargs)
    try:
        source = ckan.action.package_show(id=spec.id)
    except ckanapi.NotFound:
        return dict(pkg)  # the source is not in the catalog (yet): the extras/notes name it
    try:
        ckan.action.package_relationship_delete(subject=pkg["id"], object=source["id"], type="derives_from")
    except ckanapi.CKANAPIError:
        pass  # none (the usual case)
    return dict(pkg)
