"""The dataset page's 'Additional info' table in words people read (no CKAN imports: plain data).

ckanext-scheming lists every field of ckanext-dcat's DCAT-AP schema (about 40 rows, most empty,
vocabulary values as raw URIs). `info_rows` gives the rows worth showing, labelled in Vietnamese
(English at /en/), with vocabulary URIs named (frequency, language, access rights, licence, type,
theme) and the platform's internal extras (`citydata_*`) left out. The RDF output is untouched:
this is only what the HTML page shows.
"""

from __future__ import annotations

import re
from typing import Any

from ckanext.citydata.dcat_vocab import CONCEPT_LABELS, EU

Pair = tuple[str, str]  # (vi, en)

FREQUENCIES: dict[str, Pair] = {
    "CONT": ("Liên tục", "Continuous"), "UPDATE_CONT": ("Cập nhật liên tục", "Continuously updated"),
    "HOURLY": ("Hằng giờ", "Hourly"), "DAILY": ("Hằng ngày", "Daily"), "WEEKLY": ("Hằng tuần", "Weekly"),
    "BIWEEKLY": ("Hai tuần một lần", "Every two weeks"), "MONTHLY": ("Hằng tháng", "Monthly"),
    "BIMONTHLY": ("Hai tháng một lần", "Every two months"), "QUARTERLY": ("Hằng quý", "Quarterly"),
    "ANNUAL_2": ("Nửa năm một lần", "Semiannual"), "ANNUAL": ("Hằng năm", "Annual"),
    "BIENNIAL": ("Hai năm một lần", "Biennial"), "IRREG": ("Không định kỳ", "Irregular"),
    "NEVER": ("Không cập nhật", "Never"), "UNKNOWN": ("Chưa rõ", "Unknown"),
}  # fmt: skip
LANGUAGES: dict[str, Pair] = {
    "VIE": ("Tiếng Việt", "Vietnamese"), "ENG": ("Tiếng Anh", "English"), "FRA": ("Tiếng Pháp", "French"),
    "ZHO": ("Tiếng Trung", "Chinese"), "JPN": ("Tiếng Nhật", "Japanese"), "KOR": ("Tiếng Hàn", "Korean"),
    "KHM": ("Tiếng Khmer", "Khmer"),
}  # fmt: skip
ACCESS_RIGHTS: dict[str, Pair] = {
    "PUBLIC": ("Công khai", "Public"), "RESTRICTED": ("Hạn chế", "Restricted"),
    "NON_PUBLIC": ("Không công khai", "Non-public"),
}  # fmt: skip
LICENCES: dict[str, Pair] = {
    "cc-by": ("Creative Commons Ghi công 4.0 (CC BY 4.0)", "Creative Commons Attribution 4.0 (CC BY 4.0)"),
    "cc-by-sa": ("Creative Commons Ghi công - Chia sẻ tương tự (CC BY-SA)",
                 "Creative Commons Attribution Share-Alike (CC BY-SA)"),
    "cc-zero": ("CC0: dành cho công chúng", "CC0: public domain dedication"),
    "cc-nc": ("Creative Commons Phi thương mại (CC BY-NC)", "Creative Commons Non-Commercial (CC BY-NC)"),
    "odc-by": ("Open Data Commons Ghi công (ODC-By)", "Open Data Commons Attribution (ODC-By)"),
    "odc-odbl": ("Open Data Commons ODbL", "Open Data Commons Open Database License (ODbL)"),
    "odc-pddl": ("Open Data Commons PDDL", "Open Data Commons Public Domain (PDDL)"),
}  # fmt: skip

# Field labels (vi, en), in the order the rows are shown.
LABELS: dict[str, Pair] = {
    "title_en": ("Tên tiếng Anh", "English title"),
    "publisher": ("Cơ quan công bố", "Publisher"),
    "creator": ("Cơ quan tạo lập", "Creator"),
    "contact": ("Đầu mối liên hệ", "Contact point"),
    "license": ("Giấy phép", "Licence"),
    "access_rights": ("Quyền truy cập", "Access rights"),
    "issued": ("Ngày ban hành", "Release date"),
    "modified": ("Ngày cập nhật", "Modification date"),
    "frequency": ("Tần suất cập nhật", "Update frequency"),
    "version": ("Phiên bản", "Version"),
    "version_notes": ("Ghi chú phiên bản", "Version notes"),
    "has_version": ("Các phiên bản trước", "Earlier versions"),
    "language": ("Ngôn ngữ", "Language"),
    "dcat_type": ("Loại dữ liệu", "Type"),
    "theme": ("Lĩnh vực (DCAT-AP)", "Theme (DCAT-AP)"),
    "spatial_coverage": ("Phạm vi không gian", "Spatial coverage"),
    "temporal_coverage": ("Phạm vi thời gian", "Temporal coverage"),
    "provenance": ("Nguồn gốc", "Provenance"),
    "fidelity": ("Đối chiếu với nguồn", "Checked against the source"),
    "synthetic": ("Dữ liệu giả lập", "Synthetic data"),
    "identifier": ("Mã định danh", "Identifier"),
    "alternate_identifier": ("Mã định danh khác", "Other identifier"),
    "documentation": ("Tài liệu", "Documentation"),
    "url": ("Trang giới thiệu", "Landing page"),
    "homepage": ("Trang chủ", "Homepage"),
    "conforms_to": ("Tuân theo chuẩn", "Conforms to"),
    "qualified_relation": ("Dữ liệu liên quan", "Related"),
    "qualified_attribution": ("Đóng góp", "Contributors"),
}
# the platform's internal extras, and the labeling figures shown in their own section (labeling_quality.py)
HIDDEN_EXTRA_PREFIX = ("citydata_", "labeling_")
_VERSION = re.compile(r"/v(\d+)/_manifest\.json$")


def _pick(pair: Pair, lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def vocabulary_label(uri: str, lang: str = "vi") -> str:
    """A vocabulary URI in words: frequency, language, access right, theme, type; else the URI."""
    for table, kind in ((FREQUENCIES, "frequency"), (LANGUAGES, "language"), (ACCESS_RIGHTS, "access-right")):
        prefix = f"{EU}{kind}/"
        if uri.startswith(prefix) and uri[len(prefix) :] in table:
            return _pick(table[uri[len(prefix) :]], lang)
    if uri in CONCEPT_LABELS:
        vi, en = CONCEPT_LABELS[uri]
        return en if lang == "en" else vi
    return uri


def _item(text: Any, url: str | None = None) -> dict[str, Any]:
    """A value, linked only to a web address (never a `javascript:` or other scheme)."""
    return {"text": str(text), "url": url if url and url.startswith(("http://", "https://")) else None}


def _names(agents: Any) -> list[dict[str, Any]]:
    out = []
    for agent in agents if isinstance(agents, list) else []:
        name = agent.get("name") or agent.get("uri")
        if name:
            email = agent.get("email")
            out.append(_item(name + (f" ({email})" if email else ""), agent.get("url") or None))
    return out


def _document(url: str, lang: str) -> dict[str, Any]:
    if url.endswith("-dictionary.csv"):
        return _item(_pick(("Từ điển dữ liệu (CSV)", "Data dictionary (CSV)"), lang), url)
    if url.endswith("data_docs/index.html"):
        return _item(_pick(("Báo cáo kiểm tra chất lượng", "Data quality report"), lang), url)
    return _item(url, url)


def _date(value: str) -> str:
    """`2025-07-01` or an ISO timestamp -> `01/07/2025` (the Vietnamese way)."""
    found = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
    return f"{found[3]}/{found[2]}/{found[1]}" if found else value


def _items(field: str, value: Any, pkg: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    if field in ("publisher", "creator", "contact"):
        return _names(value)
    if field in ("frequency", "access_rights", "dcat_type", "language", "theme"):
        return [_item(vocabulary_label(v, lang)) for v in values if v]
    if field in ("issued", "modified"):
        return [_item(_date(str(value)))]
    if field == "has_version":
        return [_item(f"v{m[1]}" if (m := _VERSION.search(v)) else v, v) for v in values if v]
    if field == "documentation":
        return [_document(v, lang) for v in values if v]
    if field in ("url", "homepage", "conforms_to"):
        return [_item(v, v) for v in values if v]
    if field == "spatial_coverage":
        return [
            _item(s.get("text") or s.get("uri"), s.get("uri"))
            for s in values
            if s.get("text") or s.get("uri")
        ]
    if field == "temporal_coverage":
        return [_item(" – ".join(_date(t[k]) for k in ("start", "end") if t.get(k))) for t in values if t]
    if field == "qualified_relation":
        return [_item(r["relation"], r["relation"]) for r in values if r.get("relation")]
    if field == "qualified_attribution":
        return [n for a in values for n in _names(a.get("agent"))]
    return [_item(v) for v in values if v not in (None, "")]


def _license(pkg: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    license_id = pkg.get("license_id") or ""
    if not license_id:
        return []
    text = (
        _pick(LICENCES[license_id], lang)
        if license_id in LICENCES
        else pkg.get("license_title") or license_id
    )
    return [_item(text, pkg.get("license_url") or None)]


def info_rows(pkg: dict[str, Any], lang: str = "vi") -> list[dict[str, Any]]:
    """Rows {label, items: [{text, url}], markdown} of the fields that have a value."""
    extras = {e["key"]: e["value"] for e in pkg.get("extras") or [] if isinstance(e, dict) and "key" in e}
    rows: list[dict[str, Any]] = []
    for field, pair in LABELS.items():
        label, markdown = _pick(pair, lang), None
        if field == "title_en":
            items = [_item(extras["citydata_title_en"])] if extras.get("citydata_title_en") else []
        elif field == "license":
            items = _license(pkg, lang)
        elif field == "fidelity":
            items = [_item(extras["citydata_fidelity"])] if extras.get("citydata_fidelity") else []
        elif field == "synthetic":
            synthetic = extras.get("citydata_synthetic") == "true"
            items = (
                [_item(_pick(("Có: không phải dữ liệu thật", "Yes: not real data"), lang))]
                if synthetic
                else []
            )
        elif field in ("provenance", "version_notes"):
            markdown = pkg.get(field) or None
            items = []
        elif pkg.get(field) in (None, "", [], {}):
            items = []
        else:
            items = _items(field, pkg[field], pkg, lang)
        if items or markdown:
            rows.append({"label": label, "items": items, "markdown": markdown})
    for key, value in sorted(extras.items()):
        if not key.startswith(HIDDEN_EXTRA_PREFIX) and value not in (None, ""):
            rows.append({"label": key, "items": [_item(value)], "markdown": None})
    return rows
