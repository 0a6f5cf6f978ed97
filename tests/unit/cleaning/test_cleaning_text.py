"""String cells: NFC, whitespace, null tokens, Excel errors, formula injection."""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pytest

from cleaning.text import (
    clean_text_columns,
    escape_formulas,
    find_formula_injection,
    is_formula_injection,
    normalize_strings,
)

NFD = unicodedata.normalize("NFD", "Thành phố Hồ Chí Minh")


def values(result_values: pa.Array | pa.ChunkedArray) -> list[str | None]:
    return result_values.to_pylist()


def test_nfc_trim_and_collapse() -> None:
    arr = pa.array([NFD, "  Nguyễn   Văn  An ", "Bến\u00a0Nghé", "Quận\t1", "x\u2003y", "a\u200bb", "ok"])
    out = normalize_strings(arr, "c")
    assert values(out.values) == [
        "Thành phố Hồ Chí Minh",
        "Nguyễn Văn An",
        "Bến Nghé",
        "Quận 1",
        "x y",
        "a b",
        "ok",
    ]
    assert all(unicodedata.is_normalized("NFC", v) for v in values(out.values) if v)
    assert out.issues == []


def test_supplementary_plane_text_is_normalised_too() -> None:
    decomposed = "\U00011099\U000110ba"  # KAITHI LETTER DDDHA, decomposed (outside the BMP)
    composed = unicodedata.normalize("NFC", decomposed)
    assert composed != decomposed
    values = pa.array([f"chữ {decomposed}", "Bến Thành"] * 3)
    assert normalize_strings(values).values.to_pylist() == [f"chữ {composed}", "Bến Thành"] * 3


def test_without_collapse_keeps_inner_whitespace_but_trims_and_normalises() -> None:
    arr = pa.array(["  Nguyễn   Văn  An ", NFD])
    out = normalize_strings(arr, collapse_whitespace=False)
    assert values(out.values) == ["Nguyễn   Văn  An", "Thành phố Hồ Chí Minh"]


@pytest.mark.parametrize(
    "token",
    [
        "",
        "  ",
        "N/A",
        "n/a",
        "NA",
        "-",
        "--",
        "null",
        "NULL",
        "None",
        "không có",
        "Không có",
        "KHÔNG CÓ",
        "#N/A",
    ],
)
def test_null_tokens(token: str) -> None:
    out = normalize_strings(pa.array([token, "giữ lại"]))
    assert values(out.values) == [None, "giữ lại"]
    assert out.issues == []


def test_null_token_in_nfd_form_is_still_a_null_token() -> None:
    out = normalize_strings(pa.array([unicodedata.normalize("NFD", " Không có ")]))
    assert values(out.values) == [None]


def test_words_that_merely_contain_tokens_are_kept() -> None:
    kept = ["Nam", "None of them", "có", "không", "-5", "N/A2"]
    out = normalize_strings(pa.array(kept))
    assert values(out.values) == kept


def test_custom_null_tokens() -> None:
    out = normalize_strings(pa.array(["x", "?", "N/A"]), null_tokens=("?",))
    assert values(out.values) == ["x", None, "N/A"]


def test_excel_errors_become_null_with_issue() -> None:
    out = normalize_strings(pa.array(["1", "#VALUE!", " #DIV/0! ", None]), "so_tien")
    assert values(out.values) == ["1", None, None, None]
    assert [(i.row, i.column, i.value, i.reason) for i in out.issues] == [
        (1, "so_tien", "#VALUE!", "excel error value"),
        (2, "so_tien", "#DIV/0!", "excel error value"),
    ]


def test_chunked_array_mixing_clean_and_dirty_chunks() -> None:
    chunks = [
        pa.array(["plain ascii", "another"]),  # nothing to do
        pa.array(["Hà Nội", "Đà Nẵng"]),  # clean Vietnamese
        pa.array(["a  b", "c"]),  # double space only
        pa.array([NFD, None]),  # decomposed
        pa.array([" lead", "trail "]),  # edges only
        pa.array([], pa.string()),
        pa.array(["x\u00a0y"]),  # NBSP only
    ]
    out = normalize_strings(pa.chunked_array(chunks), "c")
    assert isinstance(out.values, pa.ChunkedArray)
    assert values(out.values) == [
        "plain ascii",
        "another",
        "Hà Nội",
        "Đà Nẵng",
        "a b",
        "c",
        "Thành phố Hồ Chí Minh",
        None,
        "lead",
        "trail",
        "x y",
    ]


def test_sliced_array_is_handled() -> None:
    arr = pa.array(["skip", "  Hồ  Chí Minh ", NFD, "N/A"]).slice(1)
    assert values(normalize_strings(arr).values) == ["Hồ Chí Minh", "Thành phố Hồ Chí Minh", None]


def test_non_string_is_returned_unchanged() -> None:
    arr = pa.array([1, 2, None])
    out = normalize_strings(arr)
    assert out.values is arr


def test_clean_text_columns_only_touches_strings() -> None:
    table = pa.table({"ten": ["  An ", "N/A"], "so": [1, 2], "ghi_chu": ["#REF!", NFD]})
    cleaned, issues = clean_text_columns(table)
    assert cleaned.column("ten").to_pylist() == ["An", None]
    assert cleaned.column("so").to_pylist() == [1, 2]
    assert cleaned.column("ghi_chu").to_pylist() == [None, "Thành phố Hồ Chí Minh"]
    assert [(i.row, i.column) for i in issues] == [(0, "ghi_chu")]


@pytest.mark.parametrize(
    "cell",
    [
        "=SUM(A1:A3)",
        "=1+1",
        '=HYPERLINK("http://x","bấm")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1,2)",
        "\t=1+2",
        "\r=cmd",
        "+ IMPORTXML(A1)",
    ],
)
def test_formula_injection_flagged(cell: str) -> None:
    assert is_formula_injection(pa.array([cell])).to_pylist() == [True]


@pytest.mark.parametrize(
    "cell",
    ["-1.234,5", "+84 90 123 4567", "@nguyenvana", "a=b", "email@so.gov.vn", "-", "Quận 1", "=", "- Ghi chú"],
)
def test_formula_injection_not_flagged(cell: str) -> None:
    assert is_formula_injection(pa.array([cell])).to_pylist() == [False]


def test_find_and_escape_formulas() -> None:
    table = pa.table({"a": ["ok", "=SUM(A1)"], "b": ["@SUM(1)", "x"], "n": [1, 2]})
    issues = find_formula_injection(table)
    assert [(i.row, i.column, i.reason) for i in issues] == [
        (1, "a", "formula injection"),
        (0, "b", "formula injection"),
    ]
    assert escape_formulas(table.column("a")).to_pylist() == ["ok", "'=SUM(A1)"]


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://x","y")',
        "+cmd",
        "-1+1",
        "@SUM(1,2)",
        "- Ghi chú",
        "\t=1+2",
        "\rA",
        " =1",
        "=",
        "-",
    ],
)
def test_csv_export_escapes_every_cell_a_spreadsheet_would_evaluate(cell: str) -> None:
    assert escape_formulas(pa.array([cell])).to_pylist() == ["'" + cell]


@pytest.mark.parametrize(
    "cell", ["-5", "+5", "-1.234,5", "+84 90 123 4567", "-2e3", "12", "Quận 1", "a=b", "email@so.gov.vn", ""]
)
def test_csv_export_keeps_plain_numbers_and_text(cell: str) -> None:
    assert escape_formulas(pa.array([cell])).to_pylist() == [cell]


def test_csv_export_escape_keeps_nulls() -> None:
    assert escape_formulas(pa.array(["=1", None], pa.string())).to_pylist() == ["'=1", None]


def _odd(text: str) -> bool:
    """What the byte screen must never miss: not NFC, an odd space, a control character."""
    odd_space = any(unicodedata.category(c) in ("Zs", "Zl", "Zp") and c != " " for c in text)
    control = any(ord(c) < 0x20 for c in text)
    return not unicodedata.is_normalized("NFC", text) or odd_space or control or "\ufeff" in text


def test_byte_screen_never_misses_a_cell_that_needs_work() -> None:
    import random

    from cleaning.text import _risky

    rng = random.Random(3)
    vietnamese = "Phường Bến Nghé, Quận 1: ngập nước sau mưa – “đường Nguyễn Huệ” ổ gà… ĐÃ XỬ LÝ"
    extras = ["\u0301", "\u0323", "\u00a0", "\u2009", "\u3000", "\ufeff", "\t", "\u1100\u1161", "\u212b",
              "한", "漢", "😀", "\u0f73", "\u2126", "é", "ơ", "–", "€", "\u00c5", "A\u030a"]  # fmt: skip
    missed, screened = [], 0
    for _ in range(4000):
        text = "".join(rng.sample(vietnamese, k=rng.randint(1, 20)))
        if rng.random() < 0.5:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(extras) + text[at:]
        risky = _risky(pa.py_buffer(text.encode()))
        if _odd(text) and not risky:
            missed.append(text)
        screened += not risky
    assert not missed, missed[:5]
    assert screened > 1500  # plain Vietnamese text passes without a closer look
    assert not _risky(pa.py_buffer(unicodedata.normalize("NFC", vietnamese).encode()))


def test_edge_space_check_with_empty_cells_and_slices() -> None:
    from citydata.kernels.buffers import has_edge_space

    assert not has_edge_space(pa.array(["a", "", "b", None, "c"]))
    assert has_edge_space(pa.array(["a", "", " b"]))
    assert has_edge_space(pa.array(["a\t", "", "b"]))
    assert not has_edge_space(pa.array(["", ""]))
    assert not has_edge_space(pa.array([" a", "b", "c "]).slice(1, 1))
    assert has_edge_space(pa.array(["x", "b", "c "]).slice(1, 2))


def test_byte_pair_search_at_every_offset() -> None:
    import numpy as np

    from cleaning.text import _has_pair

    for size in range(2, 12):
        for at in range(size - 1):
            data = bytearray(b"a" * size)
            data[at : at + 2] = b"  "
            assert _has_pair(np.frombuffer(bytes(data), dtype=np.uint8), b"  "), (size, at)
        assert not _has_pair(np.frombuffer(b" a" * size, dtype=np.uint8), b"  ")
    assert not _has_pair(np.frombuffer(b" ", dtype=np.uint8), b"  ")


def test_escape_formulas_works_on_large_strings_as_pandas_gives_them() -> None:
    values = pa.array(["=1+1", "-5", "Thủ Đức", None], pa.large_string())
    escaped = escape_formulas(values)
    assert escaped.type == pa.large_string()
    assert escaped.to_pylist() == ["'=1+1", "-5", "Thủ Đức", None]
