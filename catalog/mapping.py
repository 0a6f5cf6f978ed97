"""Spec + published version -> CKAN dicts (pure functions, no I/O).

Dublin Core (Circular 24/2011/TT-BTTTT) onto CKAN core fields and the DCAT-AP fields of
ckanext-dcat 2.4.4's `dcat_ap_full.yaml` scheming schema (vocabulary URIs: catalog/dcat_fields.py):

    DC title         title (vi); title.en in an extra (-> dct:title @en)
    DC description   notes (markdown: vi, en, synthetic warning, current version, versions list)
    DC creator       creator [{name}]
    DC publisher     publisher [{name, type: ADMS LocalAuthority}]; owner_org = the agency
    DC date          issued
    DC identifier    identifier (default: the dataset's CKAN URL); alternate_identifier citydata:<id>
    DC language      language (EU language authority URIs: vi -> VIE)
    DC source        provenance, and an extra (-> dct:source)
    DC contributor   qualified_attribution [{agent: [{name}], role: contributor}]
    DC subject       tags (keywords), with spec.tags
    DC coverage      spatial_coverage [{text}] (publication.spatial wins)
    DC type          dcat_type (DCMI Type URI)
    DC format        provenance (the agency's original format), and an extra
    DC relation      qualified_relation [{relation (URL), role: related}]
    DC rights        rights on every resource
    spec.license     license_id; every resource's license (EU licence URI), access_url = download_url
    spec.topics      groups           publication.themes  theme
    spec cron        frequency (EU frequency URIs)       publication.temporal  temporal_coverage
    publication.contact (default: the agency) contact    private -> access_rights (EU PUBLIC/NON_PUBLIC)
    version N        version, version_notes, modified, has_version (older versions' manifests)

Idempotency: `package_hash()` is a sha256 of the canonical JSON of the dict we would send; it is
stored in the `citydata_hash` extra. Equal hash -> no package_update.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from catalog.dcat_fields import (
    EU,
    dcat_extras,
    dcmi_type_uri,
    distribution_fields,
    frequency_uri,
    language_uris,
    relation_uri,
    theme_uris,
)
from catalog.quality_score import dataset_score, previous_created_at
from catalog.resources import (
    ROLE,
    Links,
    compact,
    datastore_marker,
    resources_for,
    vn_number,
    xlsx_absent,
)
from catalog.spec import PublicationSpec
from catalog.topics import topic_for
from citydata.spec.model import DatasetSpec
from lake.hashing import value_hash

LOCAL_AUTHORITY = "http://purl.org/adms/publishertype/LocalAuthority"
RELATED = "http://www.iana.org/assignments/relation/related"
CONTRIBUTOR_ROLE = "http://inspire.ec.europa.eu/metadata-codelist/ResponsiblePartyRole/contributor"
SYNTHETIC_TAGS = ("dữ liệu giả lập", "synthetic")

HASH_KEY = "citydata_hash"
MANAGED_KEY = "citydata_managed"
DATASTORE_KEY = "citydata_datastore"
VERSION_KEY = "citydata_version"
CONTENT_KEY = "citydata_content_hash"
SYNTHETIC_KEY = "citydata_synthetic"
AGENCY_KEY = "citydata_agency"
FIDELITY_KEY = "citydata_fidelity"  # the quality gate's comparison of the published values with the source
SCORE_KEY = "citydata_quality_score"  # the version's dataset quality score, 0-100 (catalog/quality_score.py)
SCORE_DETAIL_KEY = "citydata_quality_score_detail"  # its points, dimensions and fixes (JSON)
HISTORY_KEY = "citydata_version_history"  # kept versions: date, rows, schema changes, downloads (JSON)

_TAG_BAD = re.compile(r"[^\w \-.]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


# --- small pure helpers ------------------------------------------------------------------
def slugify(text: str, max_length: int = 100) -> str:
    """`Giao thông vận tải` -> `giao-thong-van-tai` (CKAN group/organization names)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")
    if len(slug) < 2:
        slug = (slug + "-topic")[:max_length]
    return slug


def clean_tag(text: str) -> str | None:
    """A CKAN-valid tag (letters incl. Vietnamese, digits, space, - _ .; 2-100 chars) or None."""
    tag = _SPACES.sub(" ", _TAG_BAD.sub(" ", unicodedata.normalize("NFC", text))).strip()[:100].strip()
    return tag if len(tag) >= 2 else None


def tags_for(spec: DatasetSpec) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    candidates = [*spec.tags, *spec.dublin_core.subject, *(SYNTHETIC_TAGS if spec.synthetic else ())]
    for raw in candidates:
        tag = clean_tag(raw)
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            out.append(tag)
    return out


def group_names(spec: DatasetSpec) -> list[str]:
    return list(dict.fromkeys(slugify(t) for t in spec.topics))


def fidelity_text(quality: dict[str, Any]) -> str | None:
    """The fidelity check in one Vietnamese sentence, e.g. '168 dòng, 1.008 ô khớp với nguồn (openpyxl)'."""
    found = quality.get("fidelity") or {}
    if not found:
        return None
    if found.get("status") != "passed":
        return f"chưa đối chiếu được với nguồn ({'; '.join(found.get('notes') or []) or 'không có ô để so'})"
    readers = ", ".join(found.get("readers") or [])
    text = (
        f"đối chiếu với nguồn: {vn_number(int(found['rows_checked']))} dòng, "
        f"{vn_number(int(found['cells_checked']))} ô khớp giá trị gốc ({readers})"
    )
    unverified = int(found.get("cells_not_verified") or 0)
    return text + (f", {vn_number(unverified)} ô chưa kiểm được" if unverified else "")


# --- package ---------------------------------------------------------------------------------
def notes_for(spec: DatasetSpec, manifest: dict[str, Any], pointer: dict[str, Any], links: Links) -> str:
    parts = [spec.description.vi.strip()]
    if spec.title.en or spec.description.en:
        english = " — ".join(t for t in (spec.title.en, spec.description.en) if t)
        parts.append(f"**English:** {english.strip()}")
    if spec.synthetic:
        parts.append(
            "> **Dữ liệu giả lập (synthetic data).** Bộ dữ liệu này được sinh tự động để thử nghiệm, "
            "không phải số liệu thật của cơ quan. *This dataset is synthetic: generated for testing, "
            "not real agency data.*"
        )
    quality = manifest.get("quality") or {}
    current = (
        f"**Phiên bản hiện tại:** v{manifest['version']} ({manifest['created_at'][:10]}), "
        f"{vn_number(int(manifest['rows']))} dòng, {len(manifest.get('schema', []))} cột"
    )
    if quality.get("score") is not None:
        current += f"; điểm kiểm tra dữ liệu {quality['score']}/100"
        if unchecked := quality.get("unchecked_columns"):
            current += f" ({len(unchecked)} cột chưa có kiểm tra giá trị: {', '.join(unchecked)})"
    if checked := fidelity_text(quality):
        current += f"; {checked}"
    parts.append(current + ".")
    if absent := xlsx_absent(manifest):
        parts.append(absent)
    lines = ["**Các phiên bản (versions):**", ""]
    for v in pointer.get("versions", []):
        lines.append(
            f"- v{v['version']} — {str(v['created_at'])[:10]}, {vn_number(int(v['rows']))} dòng — "
            f"[manifest]({links.object_url(v['manifest'])})"
        )
    parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _version_notes(manifest: dict[str, Any], pointer: dict[str, Any]) -> str:
    version = int(manifest["version"])
    older = [v for v in pointer.get("versions", []) if int(v["version"]) < version]
    rows = int(manifest["rows"])
    if not older:
        return f"v{version}: phiên bản đầu tiên, {vn_number(rows)} dòng."
    prev = max(older, key=lambda v: int(v["version"]))
    delta = rows - int(prev["rows"])
    sign = "+" if delta >= 0 else "−"
    return (
        f"v{version}: {vn_number(rows)} dòng ({sign}{vn_number(abs(delta))} so với v{prev['version']}); "
        f"nội dung thay đổi (mã băm {str(manifest['content_hash'])[7:19]})."
    )


def _provenance(spec: DatasetSpec, manifest: dict[str, Any]) -> str:
    dc = spec.dublin_core
    source = manifest.get("source", {})
    text = []
    if dc.source:
        text.append(f"Nguồn: {dc.source}.")
    original = f" (định dạng gốc: {dc.format})" if dc.format else ""
    rows = "các dòng đạt kiểm tra" if source.get("kind") == "validated" else "toàn bộ các dòng"
    text.append(
        f"Thu thập qua kết nối `{spec.source.type}`{original}, làm sạch và kiểm tra chất lượng bởi "
        f"citydata; phiên bản v{manifest['version']} được tạo từ lượt thu thập "
        f"`{source.get('pull_id')}` ({rows}), lần chạy `{manifest.get('run_id')}`."
    )
    return " ".join(text)


def organization_dict(spec: DatasetSpec) -> dict[str, Any]:
    agency = spec.agency
    extras = [{"key": k, "value": v} for k, v in (("url", agency.url), ("email", agency.email)) if v]
    return compact(
        {
            "name": agency.id,
            "title": agency.title.vi,
            "description": agency.title.en or "",
            "extras": extras,
        }
    )


def group_dict(topic: str) -> dict[str, Any]:
    """The CKAN group of a spec's topic: slug as name, Vietnamese title, description (catalog/topics.py)."""
    name = slugify(topic)
    found = topic_for(name, topic)
    return {"name": name, "title": found.title, "description": found.description}


def package_dict(
    spec: DatasetSpec,
    pub: PublicationSpec,
    manifest: dict[str, Any],
    pointer: dict[str, Any],
    links: Links,
    current_pointer_key: str,
    *,
    datastore_ready: bool = True,
    history: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The full package we want CKAN to hold (without the hash extra: see `stamp`); `history`: the
    kept versions (`catalog.history.version_history`), shown on the dataset page."""
    dc = spec.dublin_core
    contact_src = pub.contact
    contact = compact(
        {
            "name": (contact_src.name if contact_src else None) or spec.agency.title.vi,
            "email": (contact_src.email if contact_src else None) or spec.agency.email,
            "url": (contact_src.url if contact_src else None) or spec.agency.url,
        }
    )
    version = int(manifest["version"])
    older = [v for v in pointer.get("versions", []) if int(v["version"]) != version]
    spatial = pub.spatial or dc.coverage
    temporal = (
        [compact({"start": _iso(pub.temporal.start), "end": _iso(pub.temporal.end)})]
        if pub.temporal and (pub.temporal.start or pub.temporal.end)
        else []
    )
    documentation = [
        links.object_url(f["key"])
        for name in ("dictionary", "data_docs")
        if (f := manifest.get("files", {}).get(name))
    ]
    extras = {
        MANAGED_KEY: "true",
        AGENCY_KEY: spec.agency.id,
        VERSION_KEY: str(version),
        CONTENT_KEY: str(manifest["content_hash"]),
        SYNTHETIC_KEY: "true" if spec.synthetic else "false",
        DATASTORE_KEY: datastore_marker(manifest, pub) if datastore_ready else "",
    }
    if checked := fidelity_text(manifest.get("quality") or {}):
        extras[FIDELITY_KEY] = checked
    score = dataset_score(spec, pub, manifest, previous_created_at(pointer, version))
    extras[SCORE_KEY] = f"{score.score:g}"
    extras[SCORE_DETAIL_KEY] = json.dumps(score.as_dict(), ensure_ascii=False)  # dimensions in SHARES order
    if history:
        extras[HISTORY_KEY] = json.dumps(history, ensure_ascii=False)
    extras.update(dcat_extras(spec))
    relations = [relation_uri(r, links.ckan_url) for r in dc.relation]  # dct:relation needs a URI
    resources = resources_for(spec, pub, manifest, links, current_pointer_key, datastore_ready)
    for res in resources:
        res.update(distribution_fields(res["url"], spec.license, dc.rights))
    pkg: dict[str, Any] = {
        "name": spec.id,
        "title": spec.title.vi,
        "notes": notes_for(spec, manifest, pointer, links),
        "owner_org": spec.agency.id,
        "private": pub.private,
        "state": "active",
        "license_id": spec.license,
        "url": pub.landing_page or "",
        "tags": [{"name": t} for t in tags_for(spec)],
        "groups": [{"name": g} for g in group_names(spec)],
        "creator": [{"name": dc.creator}],
        "publisher": [{"name": dc.publisher, "type": LOCAL_AUTHORITY}],
        "contact": [contact] if contact else [],
        "issued": dc.date.isoformat(),
        "modified": manifest["created_at"],
        "identifier": dc.identifier or links.dataset_url(spec.id),
        "alternate_identifier": [f"citydata:{spec.id}"],
        "language": language_uris(dc.language),
        "theme": theme_uris(pub.themes),
        "frequency": frequency_uri(spec.update_frequency) or "",
        "dcat_type": dcmi_type_uri(dc.type) or "",
        "provenance": _provenance(spec, manifest),
        "access_rights": f"{EU}access-right/{'NON_PUBLIC' if pub.private else 'PUBLIC'}",
        "version": str(version),
        "version_notes": _version_notes(manifest, pointer),
        "has_version": [links.object_url(v["manifest"]) for v in older],
        "documentation": documentation,
        "temporal_coverage": temporal,
        "spatial_coverage": [{"text": spatial}] if spatial else [],
        "qualified_attribution": [{"agent": [{"name": c}], "role": CONTRIBUTOR_ROLE} for c in dc.contributor],
        "qualified_relation": [{"relation": r, "role": RELATED} for r in relations],
        "resources": resources,
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
    }
    return pkg


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def package_hash(pkg: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the package we would send (the hash extra excluded)."""
    clean = dict(pkg)
    clean["extras"] = [e for e in pkg.get("extras", []) if e.get("key") != HASH_KEY]
    clean.pop("id", None)
    clean["resources"] = [{k: v for k, v in r.items() if k != "id"} for r in pkg.get("resources", [])]
    return value_hash(clean)


def stamp(pkg: dict[str, Any], digest: str) -> dict[str, Any]:
    """The package with its hash extra set."""
    out = dict(pkg)
    out["extras"] = [
        *(e for e in pkg.get("extras", []) if e.get("key") != HASH_KEY),
        {"key": HASH_KEY, "value": digest},
    ]
    return out


def extras_of(pkg: dict[str, Any]) -> dict[str, str]:
    return {e["key"]: e["value"] for e in pkg.get("extras", []) if "key" in e}


def with_resource_ids(
    desired: Sequence[dict[str, Any]], existing: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Keep CKAN's resource ids (and so DataStore tables and views) by matching on the role."""
    ids = {r.get(ROLE): r["id"] for r in existing if r.get(ROLE) and r.get("id")}
    out = []
    for res in desired:
        res = dict(res)
        if res.get(ROLE) in ids:
            res["id"] = ids[res[ROLE]]
        out.append(res)
    return out
