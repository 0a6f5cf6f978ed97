"""Publish a labeled dataset to CKAN as `<source-id>-labels`, linked to its source dataset.

Written through the catalog stage's client (`catalog.client.CatalogClient`: retries, typed errors).
The organization is the source's agency (created when missing); title and notes satisfy the DCAT-AP
scheming schema; counts and agreement go into the notes, as extras when the schema accepts them. The
link to the source dataset is a DCAT qualified relation (role prov:wasDerivedFrom), not a CKAN package
relationship: CKAN 2.12 cannot index a dataset that has one (KeyError 'subject_package_id'), so such
datasets drop out of search after any re-index. Relationships made by earlier versions are removed.

The labeled rows are published to the lake as a version of `<source-id>-labels` (`labeling.labeled`),
with `croissant.json` (Croissant 1.0, validated with mlcroissant; a publish fails on an invalid one)
beside the version's files; the package's resources are the version's files (`catalog.resources`)
plus "Croissant (ML)". Idempotent: an unchanged version writes nothing to S3, and a package equal to
the one stored (hash in the `citydata_labels_hash` extra) writes nothing to CKAN. The pull's figures
and the hash are kept in the lake's catalog record (`catalog.record`), from which `republish` makes
the entry again (`citydata catalog rebuild`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

from catalog.client import CatalogClient, CatalogError, ValidationFailed
from catalog.dcat_fields import distribution_fields, license_uri
from catalog.mapping import SYNTHETIC_TAGS, extras_of, package_hash, with_resource_ids
from catalog.record import CatalogRecord, record_publication
from catalog.resources import ROLE, SHA256_ALGORITHM, Links, resources_for
from catalog.spec import parse_publication
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.published import current_key, read_pointer, version_prefix
from labeling.annotation_import import AnnotationImport
from labeling.croissant import (
    CROISSANT_FILE,
    croissant_jsonld,
    encode,
    label_statistics,
    validate,
    write_croissant,
)
from labeling.labeled import (
    LABEL_COLUMN,
    LabeledVersion,
    label_counts,
    labels_name,
    publish_labeled_version,
    version_pull_prefix,
)
from labeling.project import require_labeling
from lake.access import object_base

HASH_EXTRA = "citydata_labels_hash"
LABELS_KIND = "labels"  # the kind of its catalog record (catalog.record)
CROISSANT_ROLE = "croissant"

__all__ = ["croissant_for", "labels_name", "publish_labeled_dataset", "republish"]


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def croissant_for(
    spec: DatasetSpec, labeled: LabeledVersion, agreement: dict[str, Any], links: Links
) -> dict[str, Any]:
    """The Croissant JSON-LD of the labeled version (validated by the caller)."""
    manifest = labeled.manifest
    version = int(manifest["version"])
    lab = require_labeling(spec)
    labels = labeled.table.column(LABEL_COLUMN).to_pylist()
    counts = label_counts(labels, lab.task_type)
    page = links.dataset_url(labeled.name)
    year = str(manifest["created_at"])[:4]
    description = (
        f"Nhãn do người gán nhãn tạo trong Label Studio cho bộ dữ liệu «{spec.title.vi}» ({spec.id}); "
        f"mỗi dòng là một mục đã gán nhãn, cột `{LABEL_COLUMN}` là nhãn đồng thuận (đa số phiếu). "
        f"{spec.description.vi.strip()}\n\n"
        f"Labels collected in Label Studio for dataset {spec.id}: one record per labeled item, "
        f"`{LABEL_COLUMN}` is the majority (consensus) label."
        + (f" {spec.description.en.strip()}" if spec.description.en else "")
        + ("\n\nSynthetic data / dữ liệu giả lập." if spec.synthetic else "")
    )
    return croissant_jsonld(
        name=labeled.name,
        title=f"{spec.title.vi} — nhãn (labels)",
        description=description,
        license_url=license_uri(spec.license) or f"{links.ckan_url.rstrip('/')}/api/3/action/license_list",
        url=page,
        creator=spec.dublin_core.creator,
        publisher=spec.dublin_core.publisher,
        date_published=str(manifest["created_at"]),
        version=version,
        manifest=manifest,
        object_url=links.object_url,
        url_columns=labeled.url_columns,
        label_column=LABEL_COLUMN,
        counts=counts,
        per_label_agreement=agreement.get("per_label_agreement") or {},
        agreement=agreement,
        keywords=["labels", "label-studio", *spec.tags],
        cite_as=(
            f"@misc{{{labeled.name.replace('-', '_')}_v{version}, title={{{spec.title.vi} — nhãn (labels)}}, "
            f"author={{{spec.dublin_core.publisher}}}, year={{{year}}}, note={{version {version}}}, "
            f"url={{{page}}}}}"
        ),
    )


def _resources(
    spec: DatasetSpec, manifest: dict[str, Any], links: Links, croissant_key: str, croissant_body: bytes
) -> list[dict[str, Any]]:
    name = labels_name(spec)
    pub = parse_publication(spec)
    derived = spec.model_copy(update={"id": name})
    ckey = current_key(spec.agency.id, name)
    out = resources_for(derived, pub, manifest, links, ckey, datastore_ready=False)
    for res in out:  # `citydata get` reads datasets with a spec; the labeled one has none
        res["description"] = res["description"].replace(f" hoặc `citydata get {name}`", "")
    version = int(manifest["version"])
    out.append(
        {
            ROLE: CROISSANT_ROLE,
            "name": "Croissant (ML)",
            "description": (
                f"Mô tả phiên bản v{version} theo chuẩn Croissant 1.0 (MLCommons, JSON-LD) cho học máy: "
                "các tệp (đường dẫn, mã băm sha256), các cột và kiểu dữ liệu, phân bố nhãn và mức đồng "
                "thuận giữa người gán nhãn theo từng nhãn. Nạp bằng "
                '`mlcroissant.Dataset(jsonld=URL).records(record_set="records")`.'
            ),
            "url": links.object_url(croissant_key),
            "format": "JSON-LD",
            "mimetype": "application/ld+json",
            "size": len(croissant_body),
            "hash": hashlib.sha256(croissant_body).hexdigest(),
            "hash_algorithm": SHA256_ALGORITHM,
            "issued": manifest["created_at"],
            "modified": manifest["created_at"],
            "citydata_version": str(version),
        }
    )
    for res in out:
        res.update(distribution_fields(res["url"], spec.license, spec.dublin_core.rights))
    return out


def _annotator_figures(annotators: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per annotator (by Label Studio id; e-mails stay out of the public catalog): gold accuracy and
    agreement with the consensus, with their counts."""
    keep = ("gold_answered", "gold_correct", "gold_accuracy", "compared", "agreed",
            "agreement_with_consensus")  # fmt: skip
    return {who: {k: q.get(k) for k in keep} for who, q in annotators.items()}


def publish_labeled_dataset(
    spec: DatasetSpec,
    result: AnnotationImport,
    settings: Settings,
    lake: Lake | None = None,
    client: CatalogClient | None = None,
) -> dict[str, Any]:
    """Publish the imported labels: lake version, croissant.json, then the CKAN dataset; returns it."""
    lake = lake or Lake(settings)
    pub = parse_publication(spec)
    labeled = publish_labeled_version(spec, result.prefix, settings, lake, pub)
    links = Links(settings.ckan.url, object_base(settings, pub.private))
    manifest = labeled.manifest
    agreement = lake.get_json(version_pull_prefix(spec, manifest) + "agreement.json") or result.agreement
    jsonld = croissant_for(spec, labeled, agreement, links)
    validate(jsonld)  # raises CroissantInvalid: nothing of it reaches the catalog
    croissant_key = version_prefix(spec.agency.id, labeled.name, int(manifest["version"])) + CROISSANT_FILE
    write_croissant(lake, croissant_key, jsonld)
    ckan = client or CatalogClient(settings)
    pkg, _status = catalog_entry(spec, manifest, result, settings, lake, ckan, croissant_key, encode(jsonld))
    return pkg


def catalog_entry(
    spec: DatasetSpec,
    manifest: dict[str, Any],
    result: AnnotationImport,
    settings: Settings,
    lake: Lake,
    ckan: CatalogClient,
    croissant_key: str,
    croissant_body: bytes,
    *,
    record: bool = True,
) -> tuple[dict[str, Any], str]:
    """The labeled dataset's CKAN entry from its lake version and pull; (package, created | updated
    | unchanged). `record` keeps what it needs in the lake's catalog record (for `republish`)."""
    pub = parse_publication(spec)
    links = Links(settings.ckan.url, object_base(settings, pub.private))
    name = labels_name(spec)
    org = ckan.show("organization_show", id=spec.agency.id)
    if org is None:
        org = ckan.organization_create(name=spec.agency.id, title=spec.agency.title.vi)
    agreement = result.agreement
    source_url = f"{settings.ckan.url.rstrip('/')}/dataset/{spec.id}"
    figures: dict[str, Any] = {
        "tasks": result.tasks,
        "annotated_tasks": result.annotated_tasks,
        "annotations": result.annotations,
        "consensus_labels": result.consensus,
        "ties": result.ties,
        **{k: agreement[k] for k in ("cohen_kappa", "fleiss_kappa", "span_overlap") if k in agreement},
        "tasks_to_review": result.to_review,
    }
    gold_scored = [q for q in result.annotators.values() if q.get("gold_accuracy") is not None]
    if gold_scored:
        correct = sum(int(q["gold_correct"]) for q in gold_scored)
        figures["gold_accuracy"] = round(correct / sum(int(q["gold_answered"]) for q in gold_scored), 4)
    warning = (
        "> **Dữ liệu giả lập (synthetic data):** nhãn trên dữ liệu tổng hợp.\n\n" if spec.synthetic else ""
    )
    notes = (
        warning + f"Nhãn do người gán nhãn tạo cho bộ dữ liệu «{spec.title.vi}» ({spec.id}). "
        f"Labels collected in Label Studio for dataset {spec.id}.\n\n"
        + "\n".join(f"- {k}: {_fmt(v)}" for k, v in figures.items())
        + f"\n\nLake: s3://{settings.s3.lake_bucket}/{result.prefix}"
    )
    lab = require_labeling(spec)
    distribution = [
        {**row, "name_vi": lab.label_name(str(row["label"])), "name_en": lab.label_hint(str(row["label"]))}
        for row in label_statistics(json.loads(croissant_body))
    ]
    extras = [
        {"key": "source_dataset", "value": spec.id},
        {"key": "labeling_counts", "value": json.dumps(figures)},
        {"key": "labeling_distribution", "value": json.dumps(distribution, ensure_ascii=False)},
        {"key": "labeling_agreement", "value": json.dumps(agreement, default=str)},
        {"key": "labeling_annotators", "value": json.dumps(_annotator_figures(result.annotators))},
    ]
    package: dict[str, Any] = {
        "name": name,
        "title": f"{spec.title.vi} — nhãn (labels)",
        "notes": notes,
        # By name: the hash of the package must not hold an id CKAN makes (a rebuilt catalog has new ones).
        "owner_org": org["name"],
        "private": pub.private,
        "license_id": spec.license,
        "version": str(manifest["version"]),
        # Labels of synthetic items are marked synthetic like their source.
        "tags": [
            {"name": t} for t in ("labels", "label-studio", *(SYNTHETIC_TAGS if spec.synthetic else ()))
        ],
        "extras": extras,
        "qualified_relation": [
            {"uri": source_url, "relation": source_url, "role": "http://www.w3.org/ns/prov#wasDerivedFrom"}
        ],
        "resources": _resources(spec, manifest, links, croissant_key, croissant_body),
    }
    digest = package_hash(package)
    if record:
        record_publication(lake, spec, version=int(manifest["version"]), package_hash=digest,
                           kind=LABELS_KIND, name=name, extra={"pull": result.as_dict()})  # fmt: skip
    existing = ckan.show("package_show", id=package["name"])
    if existing is not None and existing.get("state") == "active":
        if extras_of(existing).get(HASH_EXTRA) == digest:
            return dict(existing), "unchanged"  # nothing written
    if existing is not None:
        package["resources"] = with_resource_ids(package["resources"], existing.get("resources", []))
    package["extras"] = [*extras, {"key": HASH_EXTRA, "value": digest}]
    action = "package_patch" if existing else "package_create"
    status = "updated" if existing else "created"
    kwargs = {"id": existing["id"], **package} if existing else package
    try:
        pkg = ckan.call(action, **kwargs)
    except ValidationFailed:
        # a schema without free extras or DCAT fields: the notes carry the figures and the source
        kwargs.pop("extras")
        kwargs.pop("qualified_relation")
        pkg = ckan.call(action, **kwargs)
    source = ckan.show("package_show", id=spec.id)
    if source is None:
        return dict(pkg), status  # the source is not in the catalog (yet): the extras/notes name it
    with contextlib.suppress(CatalogError):  # none (the usual case)
        ckan.package_relationship_delete(subject=pkg["id"], object=source["id"], type="derives_from")
    return dict(pkg), status


def republish(record: CatalogRecord, settings: Settings, lake: Lake, client: CatalogClient) -> str:
    """`catalog rebuild`'s handler of labeled datasets: the entry again from the lake's current
    version of `<id>-labels`, its croissant.json and the pull recorded at publication."""
    spec = record.dataset_spec()
    pointer = read_pointer(lake, record.agency, record.dataset)
    entry = pointer.entry() if pointer else None
    manifest = lake.get_json(entry.manifest) if entry else None
    if manifest is None:
        raise LookupError(f"{record.dataset}: no current version in the lake")
    version = int(manifest["version"])
    croissant_key = version_prefix(record.agency, record.dataset, version) + CROISSANT_FILE
    result = AnnotationImport(**record.extra["pull"])
    _pkg, status = catalog_entry(spec, manifest, result, settings, lake, client, croissant_key,
                                 lake.get_bytes(croissant_key), record=False)  # fmt: skip
    return status
