"""A published version's CKAN resources: Parquet parts, the Excel-ready CSV, the Excel workbook,
the data dictionary, the quality report, and the DataStore table's fields (`catalog.mapping` builds
the package)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from catalog.dcat_fields import (
    language_uris,
)
from catalog.spec import PublicationSpec
from citydata.spec.model import DatasetSpec
from lake.hashing import value_hash

SHA256_ALGORITHM = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
# Resource formats as CKAN's format facet lists them. XLoader (auto-load of CSV files into the
# DataStore, as text) leaves our resources alone: the project's CKAN plugin vetoes them.
CSV_FORMAT = "CSV"
PARQUET_FORMAT = "Parquet"
XLSX_FORMAT = "XLSX"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXCEL_ROW_LIMIT = 1_048_575  # rows below the header of one sheet
ROLE = "citydata_role"


@dataclass(frozen=True)
class Links:
    """Where things are: the CKAN site, and the base of object URLs (public HTTP or s3://)."""

    ckan_url: str
    object_base: str

    def object_url(self, key: str) -> str:
        return self.object_base + key

    def dataset_url(self, name: str) -> str:
        return f"{self.ckan_url.rstrip('/')}/dataset/{name}"


def vn_number(value: int) -> str:
    """1234567 -> '1.234.567' (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")


def compact(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v not in (None, "", [], {})}


def datastore_type(arrow_type: str) -> str:
    t = arrow_type.lower()
    if t in ("bool", "boolean"):
        return "bool"
    if re.fullmatch(r"u?int(8|16|32|64)", t):
        return "int8"
    if t in ("float", "double", "halffloat", "float16", "float32", "float64"):
        return "float8"
    if t.startswith("decimal"):
        return "numeric"
    if t.startswith("date"):
        return "date"
    if t.startswith("timestamp"):
        return "timestamptz" if "tz=" in t else "timestamp"
    if t.startswith("time"):
        return "time"
    return "text"


def datastore_fields(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """DataStore fields with the data dictionary as `info` (label, notes) for CKAN's dictionary view."""
    columns = {c["column"]: c for c in manifest.get("columns", [])}
    fields = []
    for name, arrow_type in manifest.get("schema", []):
        col = columns.get(name, {})
        info = compact({"label": col.get("label"), "notes": col.get("description")})
        fields.append({"id": name, "type": datastore_type(arrow_type), "info": info})
    return fields


def datastore_rows(manifest: dict[str, Any], pub: PublicationSpec) -> int:
    rows = int(manifest.get("rows", 0))
    return rows if pub.datastore_rows is None else min(rows, pub.datastore_rows)


def datastore_marker(manifest: dict[str, Any], pub: PublicationSpec) -> str:
    """What the DataStore table holds; stored in the package, reloaded when it differs."""
    if not pub.datastore:
        return ""
    fields = value_hash(datastore_fields(manifest))[7:23]
    return f"{manifest['content_hash']}|rows={datastore_rows(manifest, pub)}|fields={fields}"


def host_role(pub: PublicationSpec) -> str:
    """The resource that carries the DataStore table (and so CKAN's preview)."""
    return "csv" if pub.csv else "parquet-00000"


def xlsx_absent(manifest: dict[str, Any]) -> str:
    """Why the version has no Excel workbook, in Vietnamese ("" when it has one or none was wanted)."""
    why = (manifest.get("skipped") or {}).get("xlsx")
    if not why:
        return ""
    value, limit = vn_number(int(why["value"])), vn_number(int(why["limit"]))
    reason = {
        "rows": f"phiên bản có {value} dòng, quá giới hạn {limit} dòng"
        + (" của một trang tính Excel" if int(why["limit"]) >= EXCEL_ROW_LIMIT else " đặt cho bản Excel"),
        "columns": f"phiên bản có {value} cột, quá giới hạn {limit} cột của một trang tính Excel",
        "cell_chars": f"có ô dài {value} ký tự, quá giới hạn {limit} ký tự của một ô Excel",
    }.get(str(why["reason"]), f"{why['reason']} {value} > {limit}")
    return f"Không có bản Excel (XLSX): {reason}. Hãy dùng tệp CSV hoặc Parquet."


def _hex(digest: str | None) -> str | None:
    return digest.split(":", 1)[1] if digest and ":" in digest else digest


# --- resources -----------------------------------------------------------------------------
def resources_for(
    spec: DatasetSpec,
    pub: PublicationSpec,
    manifest: dict[str, Any],
    links: Links,
    current_pointer_key: str,
    datastore_ready: bool,
) -> list[dict[str, Any]]:
    version = int(manifest["version"])
    created = manifest["created_at"]
    languages = language_uris(spec.dublin_core.language)
    common = compact({"issued": created, "modified": created, "rights": spec.dublin_core.rights,
                       "language": languages, "citydata_version": str(version)})  # fmt: skip
    out: list[dict[str, Any]] = []
    parts = manifest.get("parts", [])
    for i, part in enumerate(parts):
        where = f", phần {i + 1}/{len(parts)}" if len(parts) > 1 else ""
        first = sum(p["rows"] for p in parts[:i])
        span = f" (dòng {vn_number(first + 1)}–{vn_number(first + part['rows'])})" if len(parts) > 1 else ""
        out.append(
            {
                ROLE: f"parquet-{i:05d}",
                "name": f"Dữ liệu (Parquet{where})",
                "description": (
                    f"Dữ liệu đã làm sạch, định dạng Apache Parquet nén zstd, phiên bản v{version}: "
                    f"{vn_number(part['rows'])} dòng{span}. Đọc bằng pandas/pyarrow hoặc "
                    f"`citydata get {spec.id}`."
                ),
                "url": links.object_url(part["key"]),
                "format": PARQUET_FORMAT,
                "mimetype": "application/vnd.apache.parquet",
                "size": part["size"],
                "hash": _hex(part["sha256"]),
                "hash_algorithm": SHA256_ALGORITHM,
                "citydata_rows": str(part["rows"]),
                **common,
            }
        )
    files = manifest.get("files", {})
    loaded = datastore_rows(manifest, pub)
    if "csv" in files:
        csv_file = files["csv"]
        preview = ""
        if pub.datastore:
            preview = " Bảng xem trước và API tra cứu (DataStore) có " + (
                "toàn bộ dữ liệu." if loaded >= manifest["rows"] else f"{vn_number(loaded)} dòng đầu."
            )
        out.append(
            {
                ROLE: "csv",
                "name": "Dữ liệu (CSV)",
                "description": (
                    f"Toàn bộ dữ liệu phiên bản v{version} dạng CSV, mã hóa UTF-8"
                    + (" có BOM (mở trực tiếp bằng Excel)" if pub.csv_bom else "")
                    + f": {vn_number(manifest['rows'])} dòng. Ô bắt đầu bằng = + - @ được thêm dấu ' "
                    "để bảng tính không chạy như công thức."
                    + preview
                    + (" " + absent if (absent := xlsx_absent(manifest)) else "")
                ),
                "url": links.object_url(csv_file["key"]),
                "format": CSV_FORMAT,
                "mimetype": "text/csv",
                "size": csv_file["size"],
                "hash": _hex(csv_file["sha256"]),
                "hash_algorithm": SHA256_ALGORITHM,
                **common,
            }
        )
    if "xlsx" in files:
        xlsx = files["xlsx"]
        out.append(
            {
                ROLE: "xlsx",
                "name": "Dữ liệu (Excel XLSX)",
                "description": (
                    f"Toàn bộ dữ liệu phiên bản v{version} dạng bảng tính Excel: "
                    f'{vn_number(manifest["rows"])} dòng ở trang "Dữ liệu" (số là số, ngày dạng '
                    "dd/mm/yyyy, mã giữ nguyên số 0 ở đầu, dòng tiêu đề là nhãn tiếng Việt, có bộ lọc), "
                    'từ điển dữ liệu ở trang "Từ điển dữ liệu". Ô bắt đầu bằng = + - @ là chữ, '
                    "không phải công thức."
                ),
                "url": links.object_url(xlsx["key"]),
                "format": XLSX_FORMAT,
                "mimetype": XLSX_MIMETYPE,
                "size": xlsx["size"],
                "hash": _hex(xlsx["sha256"]),
                "hash_algorithm": SHA256_ALGORITHM,
                "citydata_rows": str(manifest["rows"]),
                **common,
            }
        )
    if "dictionary" in files:
        d = files["dictionary"]
        out.append(
            {
                ROLE: "dictionary",
                "name": "Từ điển dữ liệu (data dictionary)",
                "description": "Mỗi cột: tên cột, nhãn tiếng Việt, kiểu dữ liệu, kiểu Arrow, mô tả.",
                "url": links.object_url(d["key"]),
                "format": CSV_FORMAT,
                "mimetype": "text/csv",
                "size": d["size"],
                "hash": _hex(d["sha256"]),
                "hash_algorithm": SHA256_ALGORITHM,
                **common,
            }
        )
    quality = manifest.get("quality") or {}
    if "quality_summary" in files:
        score = quality.get("score")
        out.append(
            {
                ROLE: "quality-summary",
                "name": "Kết quả kiểm tra chất lượng (JSON)",
                "description": "Kết quả kiểm tra chất lượng dữ liệu (Great Expectations) của lượt thu thập "
                f"{quality.get('pull_id') or manifest.get('source', {}).get('pull_id')}"
                + (f": điểm {score}/100." if score is not None else "."),
                "url": links.object_url(files["quality_summary"]["key"]),
                "format": "JSON",
                "mimetype": "application/json",
                **common,
            }
        )
    if "data_docs" in files:
        out.append(
            {
                ROLE: "quality-docs",
                "name": "Báo cáo chất lượng (Data Docs)",
                "description": "Báo cáo chất lượng chi tiết dạng trang web (Great Expectations Data Docs).",
                "url": links.object_url(files["data_docs"]["key"]),
                "format": "HTML",
                "mimetype": "text/html",
                **common,
            }
        )
    out.append(
        {
            ROLE: "versions",
            "name": "Các phiên bản (versions)",
            "description": "Danh sách các phiên bản được lưu giữ (JSON): số phiên bản, ngày, số dòng, "
            "mã băm nội dung và manifest của từng phiên bản.",
            "url": links.object_url(current_pointer_key),
            "format": "JSON",
            "mimetype": "application/json",
        }
    )
    if datastore_ready and pub.datastore:
        host = host_role(pub)
        for res in out:
            if res[ROLE] == host:
                res["datastore_active"] = True
    return out
