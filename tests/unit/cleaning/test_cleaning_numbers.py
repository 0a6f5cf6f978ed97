"""Locale-aware numbers."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cleaning._number_scan import _fast_scan, scan_strict, strict_pattern
from cleaning.numbers import _SEP, locale_evidence, parse_numbers


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1.234.567,89", 1234567.89),
        ("12,5", 12.5),
        ("-1.234,5", -1234.5),
        ("1.234,5 đ", 1234.5),
        ("1.234,5đ", 1234.5),
        ("12,5%", 12.5),
        ("1.000 VNĐ", 1000.0),
        ("₫ 2.500,75", 2500.75),
        ("(1.234,5)", -1234.5),
        ("1 234 567,5", 1234567.5),
        ("+3,25", 3.25),
    ],
)
def test_vi_decimals(cell: str, expected: float) -> None:
    out = parse_numbers(pa.array([cell, "0,5"]), "vi", "x")
    assert out.values.type == pa.float64()
    assert out.values.to_pylist() == [expected, 0.5]
    assert out.issues == []


def test_vi_integers_stay_int64() -> None:
    out = parse_numbers(pa.array(["1.234", "1.234.567", "-7", "12", None, "  1.000 đ "]), "vi")
    assert out.values.type == pa.int64()
    assert out.values.to_pylist() == [1234, 1234567, -7, 12, None, 1000]


def test_integral_decimals_become_int64() -> None:
    out = parse_numbers(pa.array(["1,0", "2,00", "3"]), "vi")
    assert out.values.type == pa.int64()
    assert out.values.to_pylist() == [1, 2, 3]


def test_large_integers_keep_precision() -> None:
    out = parse_numbers(pa.array(["9.007.199.254.740.993"]), "vi")
    assert out.values.to_pylist() == [9007199254740993]


def test_en_locale() -> None:
    out = parse_numbers(pa.array(["1,234,567.89", "1,234", "12.5", "$ 1,000", "-0.5"]), "en")
    assert out.values.to_pylist() == [1234567.89, 1234.0, 12.5, 1000.0, -0.5]
    ints = parse_numbers(pa.array(["1,234", "5"]), "en")
    assert (ints.values.type, ints.values.to_pylist()) == (pa.int64(), [1234, 5])


@pytest.mark.parametrize("cell", ["abc", "1.5", "1.23.456", "12,34,5", "1,234.5", "--5", "1.2345"])
def test_vi_failures_are_null_with_issue(cell: str) -> None:
    out = parse_numbers(pa.array(["1", cell]), "vi", "so_tien")
    assert out.values.to_pylist() == [1, None]
    assert [(i.row, i.column, i.value, i.reason) for i in out.issues] == [
        (1, "so_tien", cell, "not a number (locale vi)")
    ]


def test_en_reads_vi_formats_as_failures() -> None:
    out = parse_numbers(pa.array(["1.234.567,89"]), "en", "x")
    assert out.values.to_pylist() == [None]
    assert out.issues[0].reason == "not a number (locale en)"


def test_null_tokens_are_not_issues() -> None:
    out = parse_numbers(pa.array(["N/A", "-", " ", "Không có", "5"]), "vi")
    assert out.values.to_pylist() == [None, None, None, None, 5]
    assert out.issues == []


def test_percent_as_fraction() -> None:
    out = parse_numbers(pa.array(["12,5%", "50%", "3"]), "vi", percent_as_fraction=True)
    assert out.values.to_pylist() == [0.125, 0.5, 3.0]


def test_chunked_input_rows_and_type() -> None:
    chunks = [pa.array(["1.000", "x"]), pa.array(["2,5", None, "y"])]
    out = parse_numbers(pa.chunked_array(chunks), "vi", "c")
    assert isinstance(out.values, pa.ChunkedArray)
    assert out.values.to_pylist() == [1000.0, None, 2.5, None, None]
    assert [i.row for i in out.issues] == [1, 4]


def test_sliced_input() -> None:
    arr = pa.array(["x", "1.234,5", "7"]).slice(1)
    assert parse_numbers(arr, "vi").values.to_pylist() == [1234.5, 7.0]


def test_non_string_passthrough() -> None:
    arr = pa.array([1.5, 2.0])
    assert parse_numbers(arr).values is arr


def test_locale_evidence_counts_only_cells_one_locale_can_read() -> None:
    # "1,5" and "1.234,5" are Vietnamese only; "10.5464" and "1,234.5" English only; "1.234" reads
    # in both (1234 or 1.234) and "1234" the same in both: neither counts.
    assert locale_evidence(pa.array(["1,5", "1.234,5", "1.234.567", "1.234", "1234", None, "N/A"])) == (3, 0)
    assert locale_evidence(pa.array(["10.5464", "1,234.5", "106.661", "15.682"])) == (0, 2)
    assert locale_evidence(pa.array(["12", "7", "1.234"])) == (0, 0)


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_strict_mask_agrees_with_the_regex(locale: str) -> None:
    rng = random.Random(5)
    alphabet = "0123456789.,+-a "
    cells: list[str | None] = ["", "1", "-1", "+", "1.234", "1,234", "12.345.678,9", "1.2345", ".5", None]
    for _ in range(20_000):
        length = rng.randint(0, 12)
        weights = [8] * 10 + [3, 3, 1, 1, 1, 1]
        cells.append("".join(rng.choices(alphabet, weights=weights, k=length)))
        if rng.random() < 0.02:
            cells.append(None)
    values = pa.array(cells, pa.string())
    for array in (values, values.slice(7, 5000)):  # sliced: offsets not starting at 0
        regex = strict_pattern(*_SEP[locale])  # type: ignore[index]
        expected = pc.fill_null(pc.match_substring_regex(array, regex), False).to_pylist()
        got = scan_strict(array, *_SEP[locale])[0].tolist()  # type: ignore[index]
        wrong = [(array[i].as_py(), e) for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
        assert not wrong, wrong[:10]
        assert sum(expected) > 500  # the corpus holds plenty of valid numbers, not only failures


def _number_like(rng: random.Random, locale: str) -> str:
    """Mostly well-formed numbers, some with one defect (a moved, doubled or missing separator)."""
    thousands, decimal = _SEP[locale]  # type: ignore[index]
    digits = "".join(rng.choices("0123456789", k=rng.randint(1, 13)))
    head = len(digits) % 3 or 3
    grouped = thousands.join([digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)])
    cell = rng.choice([digits, grouped, grouped])
    if rng.random() < 0.5:
        cell += decimal + "".join(rng.choices("0123456789", k=rng.randint(0, 3)))
    if rng.random() < 0.2:
        cell = rng.choice("+-") + cell
    if rng.random() < 0.3 and cell:
        i, c = rng.randrange(len(cell)), rng.choice([thousands, decimal, "x", " ", "-", ""])
        cell = rng.choice([cell[:i] + c + cell[i:], cell[:i] + c + cell[i + 1 :]])
    return cell


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_fast_scan_agrees_with_the_regex(locale: str) -> None:
    """The positional fast path, where it answers, equals the regex; so do its plain strings."""
    rng = random.Random(11)
    thousands, decimal = _SEP[locale]  # type: ignore[index]
    answered = 0
    cells = [_number_like(rng, locale) for _ in range(6_000)]
    # Alone (each cell decides its own chunk) and in runs of 3 (one bad cell sends its run to RE2).
    arrays = [pa.array([c]) for c in cells] + [pa.array(cells[i : i + 3]) for i in range(0, len(cells), 3)]
    for array in arrays:
        found = _fast_scan(array, ord(thousands), ord(decimal))
        if found is None:
            continue
        answered += 1
        mask, plain = found
        regex = strict_pattern(*_SEP[locale])  # type: ignore[index]
        expected = pc.fill_null(pc.match_substring_regex(array, regex), False).to_pylist()
        assert mask.tolist() == expected, array.to_pylist()
        want = [
            c.replace(thousands, "").replace(decimal, ".") if ok else None
            for c, ok in zip(array.to_pylist(), expected, strict=True)
        ]
        assert plain.to_pylist() == want, array.to_pylist()
    assert answered > len(arrays) * 0.6  # the fast path is what is being tested


def test_as_float_gives_float64_even_for_whole_numbers() -> None:
    out = parse_numbers(pa.array(["1.234", "7", "2,5%", "x"]), "vi", "c", as_float=True)
    assert out.values.type == pa.float64()
    assert out.values.to_pylist() == [1234.0, 7.0, 2.5, None]
    assert [i.row for i in out.issues] == [3]
