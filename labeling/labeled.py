"""The labeled dataset `<source-id>-labels` in the lake: one row per labeled task, published as a
version of its own in the published zone (`lake.promote`, the same atomic and idempotent path as
every dataset: Parquet, CSV, XLSX, data dictionary, manifest with sha256 of each file).

Rows: `row_id`, `task_key`, the columns the tasks showed (`labeling.columns`, read from the clean
pull each task came from), the consensus `label` (null on a tie), `votes`, `annotators`, `tie` and
`candidates` (JSON). The table is written beside the pull (`labels/.../<stamp>/labeled.parquet`)
and published from there.

Images (`image_bbox`): the source column holds the scan's key in the labeling bucket, which is not
public (Label Studio reads it with presigned URLs). For a public dataset each labeled scan is copied
(server-side, once: skipped when the copy exists with the same size) to
`published/<agency>/<id>-labels/images/<key>`, inside the dataset's anonymous-read prefix, and the
column holds that object's public HTTP URL. A private dataset's column holds the scan's
`s3://<labeling bucket>/<key>` URI instead: readable with credentials only, nothing is copied.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from minio.commonconfig import CopySource
from minio.error import S3Error

from catalog.spec import PublicationSpec, parse_publication
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.published import dataset_prefix
from labeling.annotation_import import labels_root
from labeling.project import require_labeling
from labeling.task_export import load_clean, with_row_ids
from lake.access import object_base, set_public_read
from lake.promote import LakePublication, SourceData, VersionOptions, publish_version

LABELED = "labeled.parquet"
IMAGES = "images/"
LABEL_COLUMN = "label"
SPAN_TYPES = ("ner", "image_bbox")  # the label is a JSON list of spans/boxes, each ending in its label


def labels_name(spec: DatasetSpec) -> str:
    return f"{spec.id}-labels"[:100]


@dataclass
class LabeledVersion:
    name: str
    publication: LakePublication
    table: pa.Table
    url_columns: tuple[str, ...]  # columns holding URLs (image scans)
    private: bool
    access_changed: bool = False

    @property
    def manifest(self) -> dict[str, Any]:
        return self.publication.manifest


def label_counts(labels: list[str | None], task_type: str) -> dict[str, int]:
    """How often each label was given in the published rows: per row for categorical tasks, per
    span/box for `ner` and `image_bbox` (whose label is a JSON list of items ending in the label)."""
    counts: Counter[str] = Counter()
    for value in labels:
        if value is None:
            continue
        if task_type in SPAN_TYPES:
            counts.update(str(item[-1]) for item in json.loads(value) if item)
        else:
            counts[str(value)] += 1
    return dict(sorted(counts.items()))


def _column_entries(
    spec: DatasetSpec, shown: list[str], url_columns: tuple[str, ...]
) -> tuple[dict[str, Any], ...]:
    def hint(name: str) -> tuple[str | None, str | None]:
        col = spec.schema_.columns.get(name)
        return (col.label, col.description) if col is not None else (None, None)

    fixed = {
        "row_id": ("Mã dòng (row id)", "Mã của dòng trong bộ dữ liệu gốc."),
        "task_key": ("Mã nhiệm vụ gán nhãn", "<bộ dữ liệu>/<lượt thu thập>/<mã dòng>."),
        LABEL_COLUMN: ("Nhãn (label)", "Nhãn đồng thuận (đa số phiếu); trống khi hòa phiếu."),
        "votes": ("Số phiếu cho nhãn", "Số người gán nhãn chọn nhãn đồng thuận."),
        "annotators": ("Số người gán nhãn", "Số người đã gán nhãn cho dòng này."),
        "tie": ("Hòa phiếu", "Đúng khi không có nhãn đa số."),
        "candidates": ("Các nhãn ngang phiếu", "Danh sách JSON các nhãn có số phiếu cao nhất."),
    }
    out = []
    for name in ["row_id", "task_key", *shown, LABEL_COLUMN, "votes", "annotators", "tie", "candidates"]:
        label, description = fixed.get(name) or hint(name)
        if name in url_columns:
            description = (description or "") + " Đường dẫn (URL) tới ảnh."
        out.append(
            {
                "name": name,
                "label": label,
                "type": "url" if name in url_columns else None,
                "description": description,
            }
        )
    return tuple(out)


def _source_rows(lake: Lake, spec: DatasetSpec, pull_ids: list[str], shown: list[str]) -> pd.DataFrame:
    lab = require_labeling(spec)
    frames = []
    for pull_id in pull_ids:
        try:
            df = with_row_ids(load_clean(lake, spec, pull_id), spec, lab)
        except S3Error:  # the clean pull is gone (retention): its rows keep their labels only
            continue
        df = df[[c for c in ["_row_id", *shown] if c in df.columns]].copy()
        df["_pull_id"] = pull_id
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["_row_id", "_pull_id"])


def _public_image(lake: Lake, settings: Settings, spec: DatasetSpec, key: str) -> str:
    """Copy one scan into the dataset's public prefix (once) and return the object's key."""
    dst = dataset_prefix(spec.agency.id, labels_name(spec)) + IMAGES + key.lstrip("/")
    src_size = lake.client.stat_object(settings.s3.labeling_bucket, key).size
    try:
        if lake.client.stat_object(lake.bucket, dst).size == src_size:
            return dst
    except S3Error:
        pass
    lake.client.copy_object(lake.bucket, dst, CopySource(settings.s3.labeling_bucket, key))
    return dst


def _plain(data_type: pa.DataType) -> pa.DataType:
    """pandas hands text back as large_string; the published files use plain string."""
    return pa.string() if pa.types.is_large_string(data_type) else data_type


def labeled_table(
    spec: DatasetSpec, settings: Settings, lake: Lake, consensus: pd.DataFrame, private: bool
) -> tuple[pa.Table, tuple[str, ...]]:
    lab = require_labeling(spec)
    shown = [c for c in dict.fromkeys(lab.columns)]
    keys = consensus["task_key"].astype(str)
    own = keys.str.startswith(f"{spec.id}/")  # `<dataset>/<pull_id>/<row_id>` (row ids may hold "/")
    pull_ids = keys.str.slice(len(spec.id) + 1).str.split("/", n=1).str[0].where(own, "").fillna("")
    wanted = sorted({p for p in pull_ids if p})
    rows = _source_rows(lake, spec, wanted, shown)
    base = consensus.assign(_pull_id=pull_ids, _row_id=consensus["row_id"].astype(str))
    merged = base.merge(rows, on=["_pull_id", "_row_id"], how="left", suffixes=("", "_source"))
    url_columns: tuple[str, ...] = ()
    if lab.task_type == "image_bbox":
        url_columns = (lab.main_column,)
        col = lab.main_column

        def url(value: Any) -> str | None:
            if value is None or (isinstance(value, float) and pd.isna(value)):
                return None
            key = str(value).removeprefix(f"s3://{settings.s3.labeling_bucket}/").lstrip("/")
            if private:
                return f"s3://{settings.s3.labeling_bucket}/{key}"
            return object_base(settings, False) + _public_image(lake, settings, spec, key)

        merged[col] = [url(v) for v in merged.get(col, pd.Series([None] * len(merged)))]
    merged = merged.sort_values("task_key", kind="stable").reset_index(drop=True)
    fields = [pa.field("row_id", pa.string()), pa.field("task_key", pa.string())]
    fields += [
        pa.field(c, pa.string())
        if c in url_columns or c not in rows.columns
        else pa.field(c, _plain(pa.Schema.from_pandas(rows[[c]], preserve_index=False).field(c).type))
        for c in shown
    ]
    fields += [
        pa.field(LABEL_COLUMN, pa.string()),
        pa.field("votes", pa.int64()),
        pa.field("annotators", pa.int64()),
        pa.field("tie", pa.bool_()),
        pa.field("candidates", pa.string()),
    ]
    data = {f.name: merged[f.name] if f.name in merged.columns else [None] * len(merged) for f in fields}
    data["row_id"] = merged["row_id"]
    table = pa.Table.from_pydict(
        {f.name: pa.array(list(data[f.name]), type=f.type, from_pandas=True) for f in fields},
        schema=pa.schema(fields),
    )
    return table, url_columns


def publish_labeled_version(
    spec: DatasetSpec,
    pull_prefix: str,
    settings: Settings,
    lake: Lake,
    pub: PublicationSpec | None = None,
) -> LabeledVersion:
    """Publish the pull at `pull_prefix` as the labeled dataset's next version (nothing written when
    the rows are unchanged) and grant or revoke anonymous read on its prefix."""
    pub = pub or parse_publication(spec)
    name = labels_name(spec)
    consensus = pq.read_table(io.BytesIO(lake.get_bytes(pull_prefix + "consensus.parquet"))).to_pandas()
    table, url_columns = labeled_table(spec, settings, lake, consensus, pub.private)
    key = pull_prefix + LABELED
    if not lake.exists(key):
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        lake.put_bytes(key, buf.getvalue())
    stat = lake.client.stat_object(lake.bucket, key)
    lab = require_labeling(spec)
    source = SourceData(
        key=key,
        etag=str(stat.etag),
        size=int(stat.size or 0),
        pull_id=pull_prefix.rstrip("/").rsplit("/", 1)[-1],
        columns=_column_entries(spec, list(dict.fromkeys(lab.columns)), url_columns),
    )
    options = VersionOptions(
        pub.part_rows, pub.csv, pub.csv_bom, pub.keep_versions, xlsx=pub.xlsx, xlsx_max_rows=pub.xlsx_max_rows
    )
    publication = publish_version(
        lake,
        agency=spec.agency.id,
        dataset=name,
        source=source,
        options=options,
        scratch_dir=settings.stack_dir / "tmp",
    )
    changed = set_public_read(lake, dataset_prefix(spec.agency.id, name), not pub.private)
    return LabeledVersion(name, publication, table, url_columns, pub.private, changed)


def version_pull_prefix(spec: DatasetSpec, manifest: dict[str, Any]) -> str:
    """The labels-zone prefix of the pull a version was published from."""
    return f"{labels_root(spec)}{manifest['source']['pull_id']}/"
