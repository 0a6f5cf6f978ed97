"""Benchmark: read + clean a Vietnamese CSV to Arrow, against bare `pyarrow.csv.read_csv`.

    .venv/bin/python -m benchmarks.ingest_throughput [--rows 1000000] [--big-gb 2]

Prints, from one run on this machine: bare pyarrow throughput (the baseline), citydata's
read + clean throughput and the ratio (target >= 0.40), then the peak resident memory of
citydata processing a file of --big-gb gigabytes in a child process (target < 1 GiB).
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv

STREETS = ["Nguyễn Huệ", "Lê Lợi", "Hai Bà Trưng", "Điện Biên Phủ", "Võ Văn Tần", "Cách Mạng Tháng Tám"]
WARDS = ["Phường Bến Nghé", "Phường Bến Thành", "Phường Võ Thị Sáu", "Phường Tân Định", "Phường Đa Kao"]
TOPICS = ["Ngập nước sau mưa", "Rác thải chưa thu gom", "Đèn giao thông hỏng", "Ổ gà trên đường", "Tiếng ồn"]
HEADER = "Mã phản ánh;Ngày tiếp nhận;Phường;Địa chỉ;Nội dung;Số lượt;Kinh phí (đồng);Tỷ lệ;Trạng thái\n"

SPEC = {
    "id": "bench-phan-anh",
    "agency": {"id": "bench", "title": {"vi": "Benchmark"}},
    "title": {"vi": "Phản ánh hiện trường"},
    "description": {"vi": "Dữ liệu sinh ngẫu nhiên cho benchmark"},
    "dublin_core": {"creator": "citydata", "publisher": "citydata", "date": "2025-01-01"},
    "source": {"type": "local_file", "path": "/dev/null"},
    "cleaning": {"pii": "keep", "deduplicate": False},
    "schema": {
        "columns": {
            "ma_phan_anh": {"type": "string"},
            "ngay_tiep_nhan": {"type": "date"},
            "so_luot": {"type": "integer"},
            "kinh_phi_dong": {"type": "number"},
            "ty_le": {"type": "number"},
        }
    },
}


# Defects a real export has; every `defect_every`-th line gets one (the kinds in turn). The clean
# stage must quarantine or repair them: nothing may be lost silently.
DEFECTS = ("extra field", "missing fields", "impossible date", "text in a number", "padded upper case",
           "formula", "duplicate row", "blank line")  # fmt: skip


def with_defect(line: str, kind: str) -> str:
    fields = line.rstrip("\n").split(";")
    if kind == "extra field":
        fields.insert(3, "thừa")
    elif kind == "missing fields":
        fields = fields[:-2]
    elif kind == "impossible date":
        fields[1] = "31/02/2024"
    elif kind == "text in a number":
        fields[5] = "không rõ"
    elif kind == "padded upper case":
        fields[2] = f"  {fields[2].upper()}  "
    elif kind == "formula":
        fields[4] = '=HYPERLINK("http://example.com")'
    elif kind == "duplicate row":
        return line + line
    elif kind == "blank line":
        return "\n" + line
    return ";".join(fields) + "\n"


def generate(path: Path, rows: int, seed: int = 7, defect_every: int = 0) -> None:
    """`rows` lines of Vietnamese text; with `defect_every` N, every Nth line has one defect."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        lines = []
        for i in range(rows):
            d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2019, 2025)
            r = rng.randint
            money = f"{r(1, 999):d}.{r(0, 999):03d}.{r(0, 999):03d},{r(0, 99):02d}"
            line = (
                f"PA{i:08d};{d:02d}/{m:02d}/{y};{rng.choice(WARDS)};{r(1, 300)} {rng.choice(STREETS)};"
                f"{rng.choice(TOPICS)} tại khu vực {rng.choice(STREETS)};{rng.randint(1, 50)};{money};"
                f"{rng.randint(0, 100)},{rng.randint(0, 9)};{rng.choice(['Đã xử lý', 'Đang xử lý', 'Mới'])}\n"
            )
            if defect_every and i % defect_every == defect_every - 1:
                line = with_defect(line, DEFECTS[(i // defect_every) % len(DEFECTS)])
            lines.append(line)
            if len(lines) == 10_000:
                fh.writelines(lines)
                lines.clear()
        fh.writelines(lines)


def citydata_read_clean(path: Path) -> int:
    from citydata.spec.model import DatasetSpec
    from connectors.base import RawObject
    from connectors.formats.base import ReadInfo
    from connectors.formats.registry import reader_for
    from ingest.transform import BatchCleaner

    spec = DatasetSpec.model_validate(SPEC)
    # As the clean stage builds it from the raw zone's metadata: the pull already hashed the bytes.
    raw = RawObject(path.name, path.as_uri(), path=path, size=path.stat().st_size)
    info = ReadInfo()
    batches = reader_for(path.name).read(raw, spec.format, info)
    first = next(batches)
    cleaner = BatchCleaner(spec, info.header_labels or first.table.column_names)
    rows = 0
    for _, out in cleaner.clean_all(itertools.chain([first], batches)):
        rows += out.good.num_rows
    return rows


def bare_pyarrow(path: Path) -> int:
    opts = pacsv.ParseOptions(delimiter=";")
    return pacsv.read_csv(path, parse_options=opts).num_rows


def timed(fn, path: Path) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds of this process, rows)."""
    wall, cpu = time.perf_counter(), time.process_time()
    rows = fn(path)
    return time.perf_counter() - wall, time.process_time() - cpu, rows


def paired_runs(path: Path, repeat: int) -> dict[str, list[float]]:
    """Baseline and citydata alternate, so load from other work hits both alike; a warm-up first."""
    citydata_read_clean(path)
    runs: dict[str, list[float]] = {k: [] for k in ("base_s", "base_cpu", "ours_s", "ours_cpu", "ratio")}
    for _ in range(repeat):
        base_s, base_cpu, _ = timed(bare_pyarrow, path)
        ours_s, ours_cpu, _ = timed(citydata_read_clean, path)
        for key, value in zip(runs, (base_s, base_cpu, ours_s, ours_cpu, base_s / ours_s), strict=True):
            runs[key].append(value)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-gb", type=float, default=2.0, help="0 skips the memory run")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # memory run: only this process's own peak is measured
        rows = citydata_read_clean(Path(args.child))
        print(f"{rows} {own_peak_mb():.0f}")
        return
    with tempfile.TemporaryDirectory(prefix="citydata-bench-") as tmp:
        path = Path(tmp) / "phan-anh.csv"
        generate(path, args.rows)
        size_mb = path.stat().st_size / 2**20
        runs = paired_runs(path, args.repeat)
        rows = bare_pyarrow(path)
        med = {k: statistics.median(v) for k, v in runs.items()}
        print(
            f"file: {args.rows:,} rows, {size_mb:.0f} MB, 9 columns, Vietnamese text "
            f"(machine: {_machine()}); medians of {args.repeat} alternating runs"
        )
        line = "{:<34} {:6.2f} s  {:7.1f} MB/s  CPU {:5.2f} s  ({:,} rows)"
        print(
            line.format(
                "baseline  pyarrow.csv.read_csv",
                med["base_s"],
                size_mb / med["base_s"],
                med["base_cpu"],
                rows,
            )
        )
        print(
            line.format(
                "citydata  read + clean to Arrow",
                med["ours_s"],
                size_mb / med["ours_s"],
                med["ours_cpu"],
                rows,
            )
        )
        ratio = med["ratio"]
        print(
            f"ratio (citydata / baseline throughput, median of pairs): {ratio:.2f}  "
            f"[{min(runs['ratio']):.2f}-{max(runs['ratio']):.2f}]  "
            f"(target >= 0.40: {'met' if ratio >= 0.4 else 'MISSED'})"
        )
        if args.big_gb > 0:
            big = Path(tmp) / "big.csv"
            copies = max(1, round(args.big_gb * 1024 / size_mb))
            with big.open("wb") as out:
                out.write(path.read_bytes())
                body = path.read_bytes().split(b"\n", 1)[1]
                for _ in range(copies - 1):
                    out.write(body)
            big_gb = big.stat().st_size / 2**30
            path.unlink()
            started = time.perf_counter()
            child = subprocess.run(
                [sys.executable, "-m", "benchmarks.ingest_throughput", "--child", str(big)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            big_rows, peak_mb = child.stdout.split()
            elapsed = time.perf_counter() - started
            print(
                f"big file: {big_gb:.2f} GB, {int(big_rows):,} clean rows in {elapsed:.0f} s; "
                f"peak RSS {float(peak_mb):.0f} MB "
                f"(target < 1024 MB: {'met' if float(peak_mb) < 1024 else 'MISSED'})"
            )


def own_peak_mb() -> float:
    """Peak resident memory of this process's own address space, in MB.

    Linux keeps ``ru_maxrss`` across ``exec``: a child started by ``subprocess`` would report the
    parent's resident size at ``fork`` time if that was larger (here ~1 GB after the timed runs).
    ``VmHWM`` belongs to the address space, which ``exec`` replaces.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    main()
