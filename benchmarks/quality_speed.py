"""Benchmark: 10 expectations on 1,000,000 rows with Great Expectations 1.x (target <= 3 s).

    .venv/bin/python -m benchmarks.quality_speed [--rows 1000000] [--runs 3]

Builds a 1M-row frame shaped like a cleaned pull (codes, counts, ratios, statuses, ward codes,
dates), plans a 10-expectation suite from a spec (7 derived from the schema hints, 3 explicit),
warms up once (GX import + ephemeral context), then times `run_suite` (the same call the quality
gate makes: plan, build the expectations, validate with COMPLETE results) and the step that turns
GX's result into per-expectation outcomes and failing rows, on three versions of the data as an
Arrow table (all passing; 1% nulls in an integer column; 1% of rows failing two expectations),
each converted to pandas the way the gate does. Prints the figures and the target.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
import pyarrow as pa

from citydata.spec.model import DatasetSpec

TARGET_SECONDS = 3.0
SPEC = {
    "id": "bench-quality",
    "agency": {"id": "bench", "title": {"vi": "Benchmark"}},
    "title": {"vi": "Phản ánh hiện trường"},
    "description": {"vi": "Dữ liệu sinh ngẫu nhiên cho benchmark"},
    "dublin_core": {"creator": "citydata", "publisher": "citydata", "date": "2025-01-01"},
    "source": {"type": "local_file", "path": "/dev/null"},
    "schema": {
        "primary_key": ["ma_phan_anh"],
        "columns": {
            "ma_phan_anh": {"type": "string", "nullable": False},  # type, not null, unique
            "so_luot": {"type": "integer", "min": 0, "max": 1000},  # type, between
            "trang_thai": {"values": ["Mới", "Đang xử lý", "Đã xử lý"]},  # type, in set
        },
    },
    "quality": {
        "expectations": [
            {
                "type": "expect_column_values_to_match_regex",
                "args": {"column": "ward_code", "regex": r"^\d{5}$"},
            },
            {
                "type": "expect_column_values_to_be_between",
                "args": {"column": "ty_le", "min_value": 0, "max_value": 100},
                "severity": "warn",
            },
            {"type": "expect_table_row_count_to_be_between", "args": {"min_value": 1}},
        ]
    },
}


def frame(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    wards = np.array([f"{c:05d}" for c in rng.choice(27000, 168, replace=False)])
    statuses = np.array(SPEC["schema"]["columns"]["trang_thai"]["values"])  # type: ignore[index]
    return pd.DataFrame(
        {
            "ma_phan_anh": pd.array(np.char.add("PA", np.arange(rows).astype("U8")), dtype="str"),
            "ngay_tiep_nhan": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), "D"),
            "so_luot": rng.integers(0, 1000, rows),
            "ty_le": rng.random(rows) * 100,
            "trang_thai": pd.array(statuses[rng.integers(0, len(statuses), rows)], dtype="str"),
            "ward_code": pd.array(wards[rng.integers(0, len(wards), rows)], dtype="str"),
        }
    )


def scenarios(data: pd.DataFrame) -> dict[str, pa.Table]:
    """The clean Parquet's Arrow table in three states: passing, 1% nulls, 1% failing rows."""
    rows = len(data)
    every = np.arange(0, rows, 100)
    passing = pa.Table.from_pandas(data, preserve_index=False)
    counts = data["so_luot"].to_numpy()
    nulls = passing.set_column(
        passing.column_names.index("so_luot"),
        "so_luot",
        pa.array(counts, pa.int64(), mask=np.isin(np.arange(rows), every)),  # int64 with nulls
    )
    bad = data.copy()  # 1% of the rows break two expectations: COMPLETE results list them
    bad.loc[every, "so_luot"] = 5000
    bad.loc[every, "ward_code"] = "x"
    return {
        "all passing": passing,
        "1% nulls in an integer column": nulls,
        "1% of rows failing 2 expectations": pa.Table.from_pandas(bad, preserve_index=False),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    started = time.monotonic()
    from quality import _gx  # noqa: F401 - the one-off import cost, reported on its own
    from quality.validate import _outcomes, float_int_columns, run_suite, to_frame

    import_seconds = time.monotonic() - started
    spec = DatasetSpec.model_validate(SPEC)
    tables = scenarios(frame(args.rows))

    started = time.monotonic()
    first = tables["all passing"]
    planned, result = run_suite(spec, to_frame(first), float_int_columns(first))  # warm-up
    warmup = time.monotonic() - started
    assert len(planned) == 10, [p.type for p in planned]
    assert result.success, [r.expectation_config for r in result.results if not r.success]

    print(f"rows: {args.rows:,}  expectations: {len(planned)}  runs: {args.runs}")
    print(f"import great_expectations (once per process): {import_seconds:.2f} s")
    print(f"first run (builds the ephemeral context):     {warmup:.2f} s")
    worst = 0.0
    for name, table in tables.items():
        started = time.monotonic()
        data = to_frame(table)
        convert = time.monotonic() - started
        float_ints, columns = float_int_columns(table), set(data.columns)
        times, failing = [], 0
        for _ in range(args.runs):
            started = time.monotonic()
            planned, result = run_suite(spec, data, float_ints)
            _, rows = _outcomes(planned, result, columns)
            times.append(time.monotonic() - started)
            failing = len({r for v in rows.values() for r in v})
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"{name + ':':<36} validation median {median:.2f} s, best {min(times):.2f} s "
              f"(Arrow -> pandas {convert:.2f} s; {failing:,} failing rows)")  # fmt: skip
    verdict = "OK" if worst <= TARGET_SECONDS else "SLOWER THAN TARGET"
    print(f"target: <= {TARGET_SECONDS:.1f} s for 10 expectations on 1M rows after warm-up: {verdict}")


if __name__ == "__main__":
    main()
