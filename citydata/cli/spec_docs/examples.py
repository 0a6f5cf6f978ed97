"""An example for every field of every spec model, shown in docs/spec-reference.md.

Keyed by model class name; each entry is a list of examples whose union names every field that
is not itself a model (those have their own entry). tests/unit/spec checks that every field has
one and that each example, completed with its required sections, validates against its model.
"""

from __future__ import annotations

from datetime import date
from typing import Any

EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "DatasetSpec": [
        {
            "id": "bai-giu-xe",
            "license": "cc-by",
            "update_frequency": "0 2 * * *",
            "tags": ["giao-thong"],
            "topics": ["do-thi"],
            "synthetic": False,
        }
    ],
    "LocalizedText": [{"vi": "Bãi giữ xe công cộng", "en": "Public parking lots"}],
    "Agency": [{"id": "so-gtvt", "url": "https://sgtvt.hochiminhcity.gov.vn", "email": "sgtvt@tphcm.gov.vn"}],
    "DublinCore": [
        {
            "creator": "Sở Giao thông Vận tải",
            "publisher": "UBND Thành phố Hồ Chí Minh",
            "date": date(2025, 7, 1),
            "identifier": "https://data.example.gov.vn/dataset/bai-giu-xe",
            "language": ["vi", "en"],
            "source": "Hệ thống quản lý bãi giữ xe",
            "contributor": ["Phòng Quản lý giao thông"],
            "subject": ["giao thông"],
            "coverage": "Thành phố Hồ Chí Minh",
            "type": "Dataset",
            "format": "CSV",
            "relation": ["phuong-xa-tphcm"],
            "rights": "Dữ liệu mở",
        }
    ],
    "SchemaHints": [{"primary_key": ["ma_bai"], "locale": "vi", "day_first": True}],
    "ColumnHint": [
        {
            "type": "integer",
            "label": "Sức chứa",
            "description": "Số chỗ đậu xe",
            "rename_from": ["Sức chứa (chỗ)"],
            "nullable": False,
            "unique": False,
            "min": 0,
            "max": 5000,
            "values": [50, 100, 200],
            "admin_unit": None,
            "pii": None,
        },
        {"admin_unit": "ward", "pii": "mask"},
    ],
    "CleaningRules": [
        {
            "null_tokens": ["", "N/A", "-", "không có"],
            "trim": True,
            "deduplicate": True,
            "pii": "mask",
            "max_rejected_ratio": 0.2,
        }
    ],
    "FormatOptions": [
        {
            "name": "csv",
            "encoding": "windows-1258",
            "delimiter": ";",
            "quotechar": '"',
            "header_rows": 2,
            "skip_rows": 1,
            "footer_rows": 0,
            "sheet": "Sheet1",
            "records_path": "data.items",
            "batch_rows": 200_000,
        }
    ],
    "HttpFileConfig": [
        {
            "type": "http_file",
            "url": "https://data.example.gov.vn/bai-giu-xe.csv",
            "headers": {"Accept": "text/csv"},
            "timeout_s": 60,
            "verify_tls": True,
        }
    ],
    "LocalFileConfig": [{"type": "local_file", "path": "data/bai-giu-xe.csv", "pattern": "*.csv"}],
    "RestApiConfig": [
        {
            "type": "rest_api",
            "url": "https://api.example.gov.vn/v1/bai-giu-xe",
            "params": {"api_key": "env:AGENCY_API_KEY"},
            "headers": {"Authorization": "env:AGENCY_TOKEN"},
            "records_path": "data",
            "max_pages": 1000,
            "rate_limit_per_s": 5,
            "timeout_s": 60,
            "attempts": 5,
            "backoff_s": 0.5,
            "max_retry_wait_s": 300,
            "verify_tls": True,
        }
    ],
    "NoPagination": [{"type": "none"}],
    "PageNumberPagination": [
        {
            "type": "page_number",
            "param": "page",
            "start": 1,
            "size_param": "page_size",
            "size": 100,
            "stop_on_short_page": True,
        }
    ],
    "OffsetPagination": [
        {
            "type": "offset",
            "offset_param": "offset",
            "limit_param": "limit",
            "limit": 100,
            "start": 0,
            "stop_on_short_page": True,
        }
    ],
    "CursorPagination": [{"type": "cursor", "cursor_path": "meta.next_cursor", "param": "cursor"}],
    "NextUrlPagination": [{"type": "next_url", "next_path": "links.next"}],
    "LinkHeaderPagination": [{"type": "link_header", "rel": "next"}],
    "Incremental": [{"param": "updated_since", "field": "updated_at", "initial": "2025-01-01"}],
    "S3DropConfig": [
        {
            "type": "s3_drop",
            "bucket": "citydata-drop",
            "prefix": "so-gtvt/bai-giu-xe/",
            "pattern": "*.xlsx",
            "endpoint": "https://s3.example.gov.vn",
            "secure": True,
            "region": "us-east-1",
            "access_key": "env:AGENCY_S3_ACCESS_KEY",
            "secret_key": "env:AGENCY_S3_SECRET_KEY",
        }
    ],
    "SqlConfig": [
        {
            "type": "sql",
            "url": "env:AGENCY_DB_URL",
            "table": "bai_giu_xe",
            "schema": "public",
            "columns": ["ma_bai", "ten", "suc_chua", "cap_nhat"],
            "watermark_column": "cap_nhat",
            "order_by": ["ma_bai"],
            "batch_size": 10_000,
            "rows_per_object": 500_000,
        },
        {"type": "sql", "url": "env:AGENCY_DB_URL", "query": "SELECT ma_bai, ten FROM bai_giu_xe"},
    ],
    "CkanPortalConfig": [
        {
            "type": "ckan_portal",
            "url": "https://data.example.gov.vn",
            "q": "giao thông",
            "fq": "res_format:CSV",
            "organization": "so-gtvt",
            "rows": 100,
            "include_private": False,
            "api_token": "env:PORTAL_TOKEN",
            "exclude_fields": ["metadata_modified", "revision_id"],
            "allow_empty": False,
            "timeout_s": 60,
            "verify_tls": True,
        }
    ],
    "QualitySpec": [{"defaults": True, "partial_publication": False, "plausibility": True}],
    "ExpectationSpec": [
        {
            "type": "expect_column_values_to_be_between",
            "args": {"column": "suc_chua", "min_value": 0, "max_value": 5000, "mostly": 0.99},
            "severity": "error",
            "description": "Sức chứa hợp lý",
        }
    ],
    "DriftSpec": [{"max_ratio": 10, "acknowledge": ["suc_chua"]}],
    "PublicationSpec": [
        {
            "private": False,
            "keep_versions": 5,
            "part_rows": 1_000_000,
            "csv": True,
            "csv_bom": True,
            "xlsx": True,
            "xlsx_max_rows": 200_000,
            "datastore": True,
            "datastore_rows": None,
            "require_quality": False,
            "spatial": "Thành phố Hồ Chí Minh",
            "themes": ["TRAN"],
            "landing_page": "https://sgtvt.hochiminhcity.gov.vn/bai-giu-xe",
        }
    ],
    "Contact": [{"name": "Phòng Dữ liệu", "email": "dulieu@example.gov.vn", "url": "https://example.gov.vn"}],
    "Temporal": [{"start": date(2024, 1, 1), "end": date(2024, 12, 31)}],
    "LabelingSpec": [
        {
            "task_type": "text_classification",
            "labels": {
                "giao_thong": "Giao thông",
                "moi_truong": {"vi": "Môi trường", "en": "Environment"},
                "khac": "Khác",
            },
            "columns": ["noi_dung"],
            "id_column": "ma_phan_anh",
            "sample_size": 500,
            "overlap": 2,
            "instructions": {"vi": "Chọn một lĩnh vực cho mỗi phản ánh.", "en": "Pick one topic per report."},
        }
    ],
    "Sampling": [{"strategy": "stratified", "column": "phuong", "seed": 7}],
    "Baseline": [
        {
            "kind": "keywords",
            "keywords": {"giao_thong": ["kẹt xe", "ổ gà"]},
            "min_labels": 10,
        },
        {"kind": "column", "column": "vung_goi_y", "model_version": "form-generator"},
    ],
}

# The example at the top of the reference: a whole spec, as an agency would write it.
SPEC_EXAMPLE = """
id: bai-giu-xe                      # lowercase, digits, hyphens: also the file name and the CKAN name
agency: {id: so-gtvt, title: {vi: "Sở Giao thông Vận tải", en: "Department of Transport"}}
title: {vi: "Bãi giữ xe công cộng", en: "Public parking lots"}
description: {vi: "Danh sách bãi giữ xe trên địa bàn Thành phố Hồ Chí Minh."}
dublin_core: {creator: Sở GTVT, publisher: UBND TP.HCM, date: 2025-07-01, subject: [giao thông]}
license: cc-by
update_frequency: "0 2 * * *"       # cron
source: {type: local_file, path: data/bai-giu-xe.csv}   # relative to this file's folder
format: {encoding: windows-1258}    # detected when absent
schema:
  primary_key: [ma_bai]
  locale: vi
  columns:
    ma_bai: {nullable: false, rename_from: "Mã bãi"}
    suc_chua: {type: integer, min: 0}
    phuong: {admin_unit: ward}      # adds official post-2025 ward and province codes
    so_dien_thoai: {pii: drop}
cleaning: {pii: mask, max_rejected_ratio: 0.2}
quality:
  expectations:
    - type: expect_column_values_to_be_between
      args: {column: suc_chua, min_value: 0, max_value: 5000}
      severity: warn
publication: {keep_versions: 5, contact: {name: "Phòng Dữ liệu", email: dulieu@example.gov.vn}}
"""
