"""Dates: numeric forms, Vietnamese words, day-first default without silent swaps, issues."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pyarrow as pa
import pytest

from cleaning.dates import infer_day_first, parse_dates

D = dt.date


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("05/03/2024", D(2024, 3, 5)),
        ("5/3/2024", D(2024, 3, 5)),
        ("05-03-2024", D(2024, 3, 5)),
        ("05.03.2024", D(2024, 3, 5)),
        ("2024-03-05", D(2024, 3, 5)),
        (" 05/03/2024 ", D(2024, 3, 5)),
        ("5 / 3 / 2024", D(2024, 3, 5)),
        ("ngày 05 tháng 3 năm 2024", D(2024, 3, 5)),
        ("Ngày 5 Tháng 03 Năm 2024", D(2024, 3, 5)),
        ("05 tháng 03, 2024", D(2024, 3, 5)),
        ("TP. Hồ Chí Minh, ngày 20 tháng 11 năm 2023", D(2023, 11, 20)),
        ("tháng 3/2024", D(2024, 3, 1)),
        ("tháng 12 năm 2024", D(2024, 12, 1)),
        ("03/2024", D(2024, 3, 1)),
        ("29/02/2024", D(2024, 2, 29)),
        ("29/02/2000", D(2000, 2, 29)),
        ("01/01/1960", D(1960, 1, 1)),
        ("31/12/1899", D(1899, 12, 31)),
    ],
)
def test_accepted_forms(cell: str, expected: dt.date) -> None:
    out = parse_dates(pa.array([cell]), "ngay")
    assert out.values.type == pa.date32()
    assert out.values.to_pylist() == [expected]
    assert out.issues == []


def test_decomposed_vietnamese_words_are_understood() -> None:
    cell = unicodedata.normalize("NFD", "ngày 05 tháng 3 năm 2024")
    assert parse_dates(pa.array([cell])).values.to_pylist() == [D(2024, 3, 5)]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("31/02/2024", "invalid calendar date"),
        ("29/02/2023", "invalid calendar date"),
        ("29/02/1900", "invalid calendar date"),
        ("00/01/2024", "invalid calendar date"),
        ("2024-02-30", "invalid calendar date"),
        ("13/25/2024", "month out of range (read as dd/mm, not swapped)"),
        ("03/25/2024", "month out of range (read as dd/mm, not swapped)"),
        ("05/03/24", "unrecognised date format"),
        ("hôm qua", "unrecognised date format"),
        ("0a/03/2024", "unrecognised date format"),
        ("05/03/2024 25:00", "invalid calendar date"),
    ],
)
def test_failures_are_null_with_issue(cell: str, reason: str) -> None:
    out = parse_dates(pa.array(["01/01/2024", cell]), "ngay_cap")
    assert out.values.to_pylist()[1] is None
    assert [(i.row, i.column, i.value, i.reason) for i in out.issues] == [(1, "ngay_cap", cell, reason)]


def test_day_and_month_are_never_swapped() -> None:
    # 03/25/2024 could only be March 25 (US order); with the Vietnamese default it is an error
    out = parse_dates(pa.array(["03/25/2024", "04/05/2024"]))
    assert out.values.to_pylist() == [None, D(2024, 5, 4)]
    assert len(out.issues) == 1


def test_month_first_when_configured() -> None:
    out = parse_dates(pa.array(["03/25/2024", "04/05/2024", "25/03/2024"]), day_first=False)
    assert out.values.to_pylist() == [D(2024, 3, 25), D(2024, 4, 5), None]
    assert [i.reason for i in out.issues] == ["month out of range (read as mm/dd, not swapped)"]


def test_times_give_timestamps() -> None:
    cells = ["05/03/2024 14:30", "2024-03-05T07:05:09", "05/03/2024", "5/3/2024 7h05", None]
    out = parse_dates(pa.array(cells))
    assert out.values.type == pa.timestamp("s")
    assert out.values.to_pylist() == [
        dt.datetime(2024, 3, 5, 14, 30),
        dt.datetime(2024, 3, 5, 7, 5, 9),
        dt.datetime(2024, 3, 5),
        dt.datetime(2024, 3, 5, 7, 5),
        None,
    ]


def test_nulls_and_null_tokens_are_not_issues() -> None:
    out = parse_dates(pa.array([None, "N/A", " - ", "", "không có", "05/03/2024"]))
    assert out.values.to_pylist() == [None, None, None, None, None, D(2024, 3, 5)]
    assert out.issues == []


def test_chunked_input_keeps_row_numbers_across_chunks() -> None:
    chunks = [pa.array(["05/03/2024", "bad"]), pa.array(["2024-03-06", "31/04/2024", "7/3/2024"])]
    out = parse_dates(pa.chunked_array(chunks), "d")
    assert isinstance(out.values, pa.ChunkedArray)
    assert out.values.to_pylist() == [D(2024, 3, 5), None, D(2024, 3, 6), None, D(2024, 3, 7)]
    assert [(i.row, i.value) for i in out.issues] == [(1, "bad"), (3, "31/04/2024")]


def test_many_rows_fast_path_matches_python() -> None:
    import random

    rng = random.Random(7)
    days = [D(1990, 1, 1) + dt.timedelta(days=rng.randrange(0, 15000)) for _ in range(5000)]
    cells = [d.strftime("%d/%m/%Y") if i % 3 else d.isoformat() for i, d in enumerate(days)]
    assert parse_dates(pa.array(cells)).values.to_pylist() == days


def test_non_string_passthrough() -> None:
    arr = pa.array([D(2024, 1, 1)])
    assert parse_dates(arr).values is arr


def test_infer_day_first() -> None:
    assert infer_day_first(pa.array(["25/03/2024", "01/02/2024"])) is True
    assert infer_day_first(pa.array(["03/25/2024", "01/02/2024"])) is False
    assert infer_day_first(pa.array(["01/02/2024", "03/04/2024"])) is None
    assert infer_day_first(pa.array(["25/03/2024", "03/25/2024"])) is None
    assert infer_day_first(pa.array([None], pa.string())) is None


@pytest.mark.parametrize("years", [(1990, 2030), (1, 2), (1800, 2200), (1, 9999)])
def test_month_table_agrees_with_the_calendar(years: tuple[int, int]) -> None:
    import numpy as np

    from cleaning.dates import _OK, _civil, _civil_table

    rng = np.random.default_rng(years[0])
    n = 20_000
    y = rng.integers(years[0], years[1] + 1, n).astype(np.int32)
    m = rng.integers(0, 16, n).astype(np.int32)  # 0 and 13..15: no such month
    d = rng.integers(0, 33, n).astype(np.int32)
    days, status = _civil_table(y, m, d)
    ref_days, ref_status = _civil(y, m, d)
    assert (status == ref_status).all()
    ok = status == _OK
    assert (days[ok] == ref_days[ok]).all()
    epoch = dt.date(1970, 1, 1)
    for i in np.flatnonzero(ok)[:500]:
        assert dt.date(int(y[i]), int(m[i]), int(d[i])) - epoch == dt.timedelta(days=int(days[i]))
    assert ok.sum() > n / 2


@pytest.mark.parametrize("day_first", [True, False])
def test_fixed_width_fast_path_agrees_with_the_patterns(day_first: bool) -> None:
    """Ten-byte cells decoded from the buffer must read as the RE2 patterns read them."""
    import random

    import numpy as np

    from cleaning.dates import _OK, _general

    rng = random.Random(9)
    cells = []
    for _ in range(6000):
        d, m, y = rng.randint(0, 35), rng.randint(0, 14), rng.randint(1890, 2100)
        cell = rng.choice(
            [f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{d:02d}-{m:02d}-{y}"]
        )
        if rng.random() < 0.2:
            at = rng.randrange(10)
            cell = cell[:at] + rng.choice("0123456789/-.xa ") + cell[at + 1 :]
        cells.append(cell)
    values = pa.chunked_array([pa.array(cells[:2500]), pa.array(cells[2500:])])
    fast = parse_dates(values, "d", day_first=day_first)
    secs, status, _ = _general(values, np.ones(len(cells), dtype=bool), day_first, ())
    expected = [int(s // 86400) if st == _OK else None for s, st in zip(secs, status, strict=True)]
    got = [None if v is None else (v - dt.date(1970, 1, 1)).days for v in fast.values.to_pylist()]
    assert got == expected
    assert sum(v is not None for v in got) > 2000
