"""Benchmark: citydata against the floor (bare pyarrow) and the peer (ckanext-xloader), one table.

    .venv/bin/python -m benchmarks.peer_comparison [--rows 1000000] [--repeat 3] [--xloader-repeat 1]
                                                   [--tasks 10000] [--big-gb 2] [--quick] [--keep]

Needs the local stack (`citydata stack up`). On one generated CSV (Vietnamese text, `;`-separated,
`dd/mm/yyyy` dates, `1.234.567,89` amounts, one defect every 200 lines: extra/missing fields,
impossible dates, text in numbers, padded upper case, formulas, duplicate rows, blank lines):

(a) floor     `pyarrow.csv.read_csv` (bad rows skipped) + `pyarrow.parquet.write_table` (zstd), local
(b) citydata  the functions the Dagster assets call, against the stack: pull (raw to S3) -> clean
              -> validate (12 expectations, Data Docs) -> publish_to_lake (Parquet, CSV, dictionary;
              staged, verified, promoted) -> publish_to_catalog (CKAN entry; every row in the DataStore,
              typed, with its data dictionary and search index). Timed until every row is queryable.
              A new dataset each repeat; one small untimed warm-up first (a long-running Dagster code
              server has its imports done).
(c) peer      ckanext-xloader in the same CKAN, as a CKAN user does it: create a CSV resource with
              the file uploaded; XLoader's job (the stack's `ckan jobs worker`) loads every row into
              the DataStore (as text); timed from resource_create until `xloader_status` says complete.
              Timed on a copy without the ragged lines (its COPY path); its result on the original
              file (row-by-row fallback) is reported beside it.

Also: (b) re-run on the unchanged source; Label Studio push + pull of --tasks tasks (runs
benchmarks.labeling_speed); peak RSS of read + clean on a --big-gb file (benchmarks.ingest_
throughput's big-file child). Prints medians, the ratios (b)/(a) (target <= 4) and (c)/(b)
(target >= 10), and a verdict only when every side completed and loaded every row (the
DataStore's row count equals the rows published, or the lines of XLoader's file). Timings on a
shared 2-core machine are noisy: compare ratios from one run.
Everything created is removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from benchmarks.ingest_throughput import generate
from benchmarks.publish_speed import cleanup
from benchmarks.xloader_peer import Run, data_lines, without_ragged_lines, xloader_ready, xloader_run
from catalog.client import CatalogClient
from catalog.publish import publish_to_catalog, publish_to_lake
from citydata.clients import ckan_client
from citydata.settings import Settings, load_settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from ingest.clean import clean_pull
from ingest.pull import pull

TARGET_VS_FLOOR = 4.0
TARGET_PEER_VS_OURS = 10.0
DEFECT_EVERY = 200
STATUSES = ["Đã xử lý", "Đang xử lý", "Mới"]
# 12 expectations: 10 from the schema hints (type, not null, unique, between, in set), 2 explicit.
SCHEMA: dict[str, Any] = {
    "primary_key": ["ma_phan_anh"],
    "columns": {
        "ma_phan_anh": {"type": "string", "nullable": False, "label": "Mã phản ánh"},
        "ngay_tiep_nhan": {"type": "date", "label": "Ngày tiếp nhận"},
        "so_luot": {"type": "integer", "min": 0, "max": 1000, "label": "Số lượt"},
        "kinh_phi_dong": {"type": "number", "label": "Kinh phí (đồng)"},
        "ty_le": {"type": "number"},
        "trang_thai": {"values": STATUSES},
    },
}
QUALITY: dict[str, Any] = {
    "expectations": [
        {"type": "expect_column_values_to_match_regex",
         "args": {"column": "ma_phan_anh", "regex": r"^PA\d{8}$"}},
        {"type": "expect_column_values_to_be_between",
         "args": {"column": "ty_le", "min_value": 0, "max_value": 100}, "severity": "warn"},
    ]
}  # fmt: skip


def bench_spec(agency: str, dataset: str, path: Path) -> DatasetSpec:
    return DatasetSpec.model_validate(
        {
            "id": dataset,
            "agency": {"id": agency, "title": {"vi": "Đơn vị đo hiệu năng"}},
            "title": {"vi": f"Phản ánh hiện trường (đo hiệu năng {dataset})"},
            "description": {"vi": "Dữ liệu sinh ngẫu nhiên cho benchmark so sánh với XLoader."},
            "dublin_core": {"creator": "citydata", "publisher": "citydata", "date": "2025-01-01"},
            "synthetic": True,
            "source": {"type": "local_file", "path": str(path)},
            "format": {"delimiter": ";"},
            "cleaning": {"pii": "keep"},
            "schema": SCHEMA,
            "quality": QUALITY,
            # Like for like: XLoader makes no Excel copy, so (b) does not build one either.
            "publication": {"xlsx": False},
        }
    )


# --- (a) the floor ------------------------------------------------------------------------------
def floor(path: Path, out: Path) -> int:
    table = pacsv.read_csv(
        path, parse_options=pacsv.ParseOptions(delimiter=";", invalid_row_handler=lambda _row: "skip")
    )
    pq.write_table(table, out, compression="zstd")
    return table.num_rows


# --- (b) citydata -----------------------------------------------------------------------------
def citydata_run(spec: DatasetSpec, settings: Settings, lake: Lake) -> Run:
    """The stages in the order the assets run them (raw, clean, quality check, published, catalog)."""
    from quality.validate import validate_clean

    stages: dict[str, float] = {}
    notes: dict[str, Any] = {}
    started = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = now - clock
        clock = now

    pulled = pull(spec, settings, lake)
    lap("pull")
    assert pulled.pull_id, f"{spec.id}: nothing pulled"
    cleaned = clean_pull(spec, settings, lake, pulled.pull_id)
    lap("clean")
    if not cleaned.skipped:
        quality = validate_clean(spec, settings, lake, pulled.pull_id)
        notes.update(expectations=len(quality.expectations), promotable=quality.promotable,
                     failed=[o.label for o in quality.failures])  # fmt: skip
    lap("validate")
    published, _ = publish_to_lake(spec, settings, lake, pull_id=pulled.pull_id)
    lap("lake")
    entry = publish_to_catalog(spec, settings, lake, CatalogClient(settings))
    lap("catalog")
    notes.update(rows=cleaned.rows, rejected=cleaned.rejected,
                 unchanged=published.unchanged and entry.unchanged, lake_timings=published.timings,
                 datastore_rows=entry.datastore_rows, ckan_writes=len(entry.writes),
                 version=published.version)  # fmt: skip
    return Run(time.perf_counter() - started, stages, notes)


# --- the other figures --------------------------------------------------------------------------
def labeling(tasks: int) -> dict[str, float]:
    """benchmarks.labeling_speed in a child process; its push and pull seconds."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.labeling_speed", "--tasks", str(tasks)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    figures = {}
    for name, pattern in {
        "push": r"^push\s+\d+ tasks:\s+([\d.]+) s",
        "pull": r"^pull .*?:\s+([\d.]+) s",
    }.items():
        match = re.search(pattern, out, re.MULTILINE)
        figures[name] = float(match.group(1)) if match else float("nan")
    return figures


def peak_memory(path: Path, gigabytes: float, workdir: Path) -> tuple[float, int, float]:
    """Peak RSS (MB) of read + clean on a file of `gigabytes` (copies of `path`), rows, seconds."""
    big = workdir / "big.csv"
    body = path.read_bytes()
    copies = max(1, round(gigabytes * 2**30 / len(body)))
    with big.open("wb") as out:
        out.write(body)
        rows_only = body.split(b"\n", 1)[1]
        for _ in range(copies - 1):
            out.write(rows_only)
    started = time.perf_counter()
    child = subprocess.run([sys.executable, "-m", "benchmarks.ingest_throughput", "--child", str(big)],
                           capture_output=True, text=True, check=True)  # fmt: skip
    big.unlink()
    rows, peak = child.stdout.split()
    return float(peak), int(rows), time.perf_counter() - started


# --- output -------------------------------------------------------------------------------------
def median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def stage_medians(runs: list[Run]) -> str:
    names = list(runs[0].stages)
    return ", ".join(f"{n} {statistics.median(r.stages[n] for r in runs):.2f}" for n in names)


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load}")  # fmt: skip


def timed(fn: Callable[[], int], repeat: int) -> list[Run]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        rows = fn()
        runs.append(Run(time.perf_counter() - started, notes={"rows": rows}))
    return runs


def problems(ours: list[Run], peer: list[Run], expected_peer_rows: int) -> list[str]:
    """Why no verdict can be given: a side that did not complete, or did not load every row."""
    out = []
    for i, run in enumerate(ours, 1):
        rows, loaded = run.notes.get("rows"), run.notes.get("datastore_rows")
        if loaded != rows:
            out.append(f"(b) run {i}: the DataStore holds {loaded} of its {rows} published rows")
    for i, run in enumerate(peer, 1):
        if not run.completed:
            out.append(f"(c) run {i} did not complete: {run.notes['error'][:120]}")
        elif run.notes.get("rows") != expected_peer_rows:
            out.append(f"(c) run {i}: {run.notes.get('rows')} rows in the DataStore, "
                       f"{expected_peer_rows} lines in its file")  # fmt: skip
    return out


def comparison(
    floor_runs: list[Run],
    ours: list[Run],
    peer_as_is: Run | None,
    peer: list[Run],
    ragged: int,
    expected_peer_rows: int,
) -> list[tuple[str, str, str]]:
    """The table's rows for (a), (b) and (c), with ratios; verdicts only when every side completed
    and loaded every row."""
    a, b = median(floor_runs), median(ours)
    first = ours[0].notes
    issues = problems(ours, peer, expected_peer_rows)

    def judged(met: bool) -> str:
        return "no verdict: " + "; ".join(issues) if issues else ("met" if met else "MISSED")

    lines = [("(a) floor: pyarrow read_csv + Parquet zstd (local)", f"{a:7.2f} s",
              f"{floor_runs[0].notes['rows']:,} rows; 1.00")]  # fmt: skip
    lines.append(("(b) citydata: pull, clean, validate, lake, CKAN", f"{b:7.2f} s",
                  f"{first['rows']:,} rows ({first['rejected']:,} quarantined), "
                  f"{first.get('expectations', '?')} expectations, every row queryable in the DataStore "
                  f"({first['datastore_rows']:,}); (b)/(a) = {b / a:.2f} "
                  f"(target <= {TARGET_VS_FLOOR:g}: {judged(b / a <= TARGET_VS_FLOOR)})"))  # fmt: skip
    lines.append(("      stages (median)", "", stage_medians(ours)))
    if peer_as_is is not None:
        outcome = peer_as_is.notes.get("error") or f"{peer_as_is.notes['rows']:,} rows loaded (as text)"
        lines.append(("(c) peer on the same file", f"{peer_as_is.seconds:7.2f} s", outcome[:120]))
    if peer:
        c = median(peer)
        done = peer[0].notes.get("error") or f"{peer[0].notes['rows']:,} rows in the DataStore (as text)"
        met = judged(c / b >= TARGET_PEER_VS_OURS)
        name = f"(c) peer without the {ragged:,} ragged lines (extra or missing fields)"
        ratio = f"(c)/(b) = {c / b:.1f} (target >= {TARGET_PEER_VS_OURS:g}: {met})"
        lines.append((name, f"{c:7.2f} s", f"{done}; {ratio}"))
        lines.append(("      stages (median)", "", stage_medians(peer)))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (b); medians are shown")
    parser.add_argument("--xloader-repeat", type=int, default=1, help="0 skips the peer")
    parser.add_argument("--tasks", type=int, default=10_000, help="Label Studio tasks; 0 skips")
    parser.add_argument("--big-gb", type=float, default=2.0, help="peak-memory file size; 0 skips")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 2,000 tasks, 0.2 GB")
    parser.add_argument("--keep", action="store_true", help="keep what was created")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.tasks, args.big_gb = 100_000, min(args.tasks, 2_000), min(args.big_gb, 0.2)
    settings = load_settings()
    (settings.stack_dir / "tmp").mkdir(parents=True, exist_ok=True)
    lake = Lake(settings)
    uid = uuid.uuid4().hex[:8]
    agency = f"bench-peer-{uid}"
    datasets: list[str] = []
    peer_datasets: list[str] = []
    lines: list[tuple[str, str, str]] = []
    try:
        with tempfile.TemporaryDirectory(
            prefix="citydata-bench-peer-", dir=settings.stack_dir / "tmp"
        ) as tmp:
            work = Path(tmp)
            path = work / "phan-anh.csv"
            generate(path, args.rows, defect_every=DEFECT_EVERY)
            size_mb = path.stat().st_size / 2**20
            peer_note = xloader_ready(settings) if args.xloader_repeat else "skipped"
            print(f"file: {args.rows:,} rows, {size_mb:.0f} MB, defect every {DEFECT_EVERY} lines; "
                  f"{peer_note}", flush=True)  # fmt: skip

            # warm-up: imports, GX context, connections (a running code server has them)
            small = work / "warm.csv"
            generate(small, 2_000, defect_every=DEFECT_EVERY)
            datasets.append(f"{agency}-warm")
            citydata_run(bench_spec(agency, datasets[-1], small), settings, lake)

            floor_runs = timed(lambda: floor(path, work / "floor.parquet"), args.repeat)
            print(f"(a) {median(floor_runs):.2f} s", flush=True)
            ours: list[Run] = []
            for i in range(args.repeat):
                datasets.append(f"{agency}-b{i}")
                ours.append(citydata_run(bench_spec(agency, datasets[-1], path), settings, lake))
                print(f"(b) run {i + 1}: {ours[-1].seconds:.2f} s "
                      + ", ".join(f"{k} {v:.2f}" for k, v in ours[-1].stages.items())
                      + f"; lake {ours[-1].notes['lake_timings']}", flush=True)  # fmt: skip
            rerun = citydata_run(bench_spec(agency, datasets[-1], path), settings, lake)
            peer: list[Run] = []
            peer_as_is: Run | None = None
            ragged = expected_peer_rows = 0
            if args.xloader_repeat:
                peer_datasets.append(f"{agency}-xloader-as-is")
                peer_as_is = xloader_run(settings, agency, peer_datasets[-1], path)
                print(f"(c) same file: {peer_as_is.seconds:.2f} s {peer_as_is.notes}", flush=True)
                loadable = work / "phan-anh-loadable.csv"
                ragged = without_ragged_lines(path, loadable)
                expected_peer_rows = data_lines(loadable)
            for i in range(args.xloader_repeat):
                peer_datasets.append(f"{agency}-xloader-{i}")
                peer.append(xloader_run(settings, agency, peer_datasets[-1], loadable))
                print(
                    f"(c) run {i + 1}: {peer[-1].seconds:.2f} s {peer[-1].stages} {peer[-1].notes}",
                    flush=True,
                )
            labels = labeling(args.tasks) if args.tasks else {}
            memory = peak_memory(path, args.big_gb, work) if args.big_gb else None

        lines += comparison(floor_runs, ours, peer_as_is, peer, ragged, expected_peer_rows)
        lines.append(("(b) again, source unchanged", f"{rerun.seconds:7.2f} s",
                      f"unchanged={rerun.notes['unchanged']}, {rerun.notes['ckan_writes']} CKAN writes; "
                      + stage_medians([rerun])))  # fmt: skip
        if labels:
            lines.append((f"Label Studio push {args.tasks:,} tasks", f"{labels['push']:7.2f} s", ""))
            lines.append((f"Label Studio pull {args.tasks:,} tasks", f"{labels['pull']:7.2f} s", ""))
        if memory:
            peak, rows, secs = memory
            lines.append((f"peak RSS, read + clean of {args.big_gb:g} GB", f"{peak:7.0f} MB",
                          f"{rows:,} clean rows in {secs:.0f} s (target < 1024 MB)"))  # fmt: skip
        print(f"\nmachine: {machine()}; repeats: {args.repeat} (xloader {args.xloader_repeat})")
        print(f"file: {args.rows:,} rows, {size_mb:.0f} MB CSV, 9 columns, Vietnamese text, "
              f"1 defect per {DEFECT_EVERY} lines")  # fmt: skip
        width = max(len(n) for n, _, _ in lines)
        for name, value, note in lines:
            print(f"{name:<{width}}  {value:>10}  {note}")
    finally:
        if not args.keep:
            admin = ckan_client(settings)
            for name in peer_datasets:
                try:
                    admin.action.dataset_purge(id=name)
                except Exception:  # noqa: BLE001, S110 - best effort
                    pass
            cleanup(settings, agency, datasets)


if __name__ == "__main__":
    main()
