"""Benchmark: loading every row into the CKAN DataStore, against a bare COPY of the same rows.

    .venv/bin/python -m benchmarks.datastore_load [--rows 10000000] [--batch 100000] [--keep]

Needs the local stack. Rows are generated in Arrow batches (9 columns like benchmarks.
ingest_throughput: codes, dates, integers, decimals as numeric, floats, Vietnamese text), never
all in memory, and loaded twice, each in a child process whose peak RSS is measured:

(floor)    a bare binary COPY (ADBC) of the batches into a plain table: no full-text column, no
           index, no swap; the least any loader into PostgreSQL pays.
(citydata) catalog.datastore.load_datastore on a CKAN resource: typed columns, data dictionary,
           CKAN's full-text column and index, `_id` key, staged and swapped in atomically, CKAN's
           row count; then every row is counted through datastore_search.

Prints each side's seconds, rows/s and peak RSS (target: <= 1024 MB for 10 million rows), and
the ratio citydata/floor. Everything created is removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from benchmarks.ingest_throughput import own_peak_mb

TARGET_RSS_MB = 1024
WARDS = np.array(["Phường Bến Nghé", "Phường Tân Định", "Phường Thủ Đức", "Xã Bình Chánh", "Phường Sài Gòn"])
STATUSES = np.array(["Đã xử lý", "Đang xử lý", "Mới"])
TEXTS = np.array(["Đường hư hỏng nặng cần sửa chữa", "Rác thải ùn ứ trên vỉa hè", "Đèn chiếu sáng bị tắt"])
FIELDS = [
    {"id": "ma_phan_anh", "type": "text", "info": {"label": "Mã phản ánh"}},
    {"id": "ngay_tiep_nhan", "type": "date", "info": {"label": "Ngày tiếp nhận"}},
    {"id": "so_luot", "type": "int8", "info": {"label": "Số lượt"}},
    {"id": "kinh_phi_dong", "type": "numeric", "info": {"label": "Kinh phí (đồng)"}},
    {"id": "ty_le", "type": "float8", "info": {"label": "Tỷ lệ (%)"}},
    {"id": "trang_thai", "type": "text", "info": {"label": "Trạng thái"}},
    {"id": "phuong", "type": "text", "info": {"label": "Phường"}},
    {"id": "noi_dung", "type": "text", "info": {"label": "Nội dung"}},
    {"id": "nguoi_gui", "type": "text", "info": {"label": "Người gửi"}},
]


def _decimal_cents(cents: np.ndarray) -> pa.Array:
    """decimal128(16, 2) from non-negative integer cents (their 128-bit unscaled values)."""
    unscaled = np.stack([cents.astype("<i8"), np.zeros(len(cents), "<i8")], axis=1)
    return pa.Array.from_buffers(pa.decimal128(16, 2), len(cents), [None, pa.py_buffer(unscaled.tobytes())])


def batches(rows: int, size: int) -> Iterator[pa.RecordBatch]:
    """`rows` rows in batches of `size`, generated one batch at a time (seeded)."""
    rng = np.random.default_rng(575)
    for start in range(0, rows, size):
        n = min(size, rows - start)
        ids = np.arange(start, start + n)
        days = np.datetime64("2024-01-01") + rng.integers(0, 700, n).astype("timedelta64[D]")
        cents = rng.integers(0, 10**11, n)
        yield pa.record_batch(
            [
                pa.array(np.char.add("PA", np.char.zfill(ids.astype(str), 8))),
                pa.array(days).cast(pa.date32()),
                pa.array(rng.integers(0, 1000, n)),
                _decimal_cents(cents),
                pa.array(rng.random(n) * 100),
                pa.array(rng.choice(STATUSES, n)),
                pa.array(rng.choice(WARDS, n)),
                pa.array(rng.choice(TEXTS, n)),
                pa.array(np.char.add("Công dân ", (ids % 5000).astype(str))),
            ],
            names=[f["id"] for f in FIELDS],
        )


def child(side: str, target: str, rows: int, size: int) -> None:
    """One load in this process; prints a JSON line with seconds and peak RSS."""
    from catalog.client import CatalogClient
    from catalog.datastore import load_datastore
    from catalog.datastore_swap import _libpq_url, copy_batch, ident
    from citydata.settings import load_settings

    settings = load_settings()
    write_url = settings.ckan.datastore_write_url
    assert write_url is not None, "the stack sets CITYDATA_CKAN__DATASTORE_WRITE_URL"
    started = time.perf_counter()
    if side == "floor":
        import adbc_driver_postgresql.dbapi as adbc

        columns = ", ".join(
            f"{ident(f['id'])} {'text' if f['type'] == 'numeric' else f['type']}" for f in FIELDS
        )
        with adbc.connect(_libpq_url(write_url.get_secret_value())) as conn:
            cur = conn.cursor()
            cur.execute(f"CREATE TABLE {ident(target)} ({columns})")
            stream = (copy_batch(b, FIELDS) for b in batches(rows, size))
            first = next(stream)
            reader = pa.RecordBatchReader.from_batches(
                first.schema, (b for part in ([first], stream) for b in part)
            )
            cur.adbc_ingest(target, reader, mode="append")
            conn.commit()
        loaded = rows
    else:
        loaded = load_datastore(CatalogClient(settings), target, FIELDS, batches(rows, size),
                                write_url=write_url.get_secret_value())  # fmt: skip
    seconds = time.perf_counter() - started
    peak_mb = own_peak_mb()  # VmHWM: ru_maxrss would carry the parent's size across exec
    print(json.dumps({"side": side, "rows": loaded, "seconds": seconds, "peak_mb": peak_mb}))


def _run_child(side: str, target: str, rows: int, size: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.datastore_load", "--child", side, target,
                          "--rows", str(rows), "--batch", str(size)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.rows, args.batch)
        return

    from catalog.datastore_swap import _libpq_url, ident
    from citydata.clients import ckan_client
    from citydata.settings import load_settings

    settings = load_settings()
    admin = ckan_client(settings)
    uid = uuid.uuid4().hex[:8]
    org = admin.action.organization_create(name=f"bench-ds-{uid}")
    pkg = admin.action.package_create(
        name=f"bench-ds-{uid}", owner_org=org["id"], notes="DataStore benchmark"
    )
    res = admin.action.resource_create(
        package_id=pkg["id"], name="rows", url="http://example.invalid/rows.csv"
    )
    floor_table = f"bench_floor_{uid}"
    try:
        floor = _run_child("floor", floor_table, args.rows, args.batch)
        ours = _run_child("citydata", res["id"], args.rows, args.batch)
        counted = admin.action.datastore_search(resource_id=res["id"], limit=0)["total"]
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"load average {load}; {args.rows:,} rows, 9 columns, batches of {args.batch:,}")  # fmt: skip
        for name, side in (("(floor) bare COPY, no index", floor), ("(citydata) DataStore load", ours)):
            within = "met" if side["peak_mb"] <= TARGET_RSS_MB else "MISSED"
            print(f"{name:<30} {side['seconds']:8.1f} s  {side['rows'] / side['seconds']:>10,.0f} rows/s  "
                  f"peak RSS {side['peak_mb']:6.0f} MB (target <= {TARGET_RSS_MB}: {within})")  # fmt: skip
        complete = counted == args.rows == ours["rows"]
        print(f"rows queryable through datastore_search: {counted:,} of {args.rows:,}"
              + (f"; citydata/floor = {ours['seconds'] / floor['seconds']:.1f}" if complete
                 else " (INCOMPLETE: no ratio)"))  # fmt: skip
    finally:
        if not args.keep:
            admin.action.dataset_purge(id=pkg["id"])
            admin.action.organization_purge(id=org["id"])
            import adbc_driver_postgresql.dbapi as adbc

            write_url = settings.ckan.datastore_write_url
            assert write_url is not None
            with adbc.connect(_libpq_url(write_url.get_secret_value())) as conn:
                conn.cursor().execute(f"DROP TABLE IF EXISTS {ident(floor_table)}")
                conn.commit()


if __name__ == "__main__":
    main()
