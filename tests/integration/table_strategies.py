"""Hypothesis strategies drawing agency files of known values (``generated_tables.AgencyFile``).

Columns: floats with 1 to 6 decimals; amounts up to 10**12, negative ones too ("-1.234,5",
"(1.234,5)"); integers; codes with leading zeros ("024", "00123", fixed width) under code-like
headers ("Mã ...", "Số hiệu") and plain ones; dates (native Excel dates, dd/mm/yyyy text); text with
Vietnamese diacritics (some of it decomposed in the file); empty cells ("", "-"). XLSX numbers are
native cells (some with a display format such as ``#,##0.000``) or text in the sheet's locale.

The files avoid what no reader can know: a header whose first line is one label over every column
(a title, for all anyone can tell) gets layout hints; report lines stay padded when unpadded ones
would leave the delimiter in doubt; number columns under plain headers never look like codes
(unique digit strings of one width); ``en`` columns without a declared locale carry evidence (a
fraction that is not three digits: "10.9690" rather than "10.969", the same number).
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.integration.generated_tables import (
    NUMBER_KINDS,
    AgencyFile,
    Cell,
    Column,
    number_text,
    reads,
    with_en_evidence,
)

KINDS = ("float", "amount", "int", "code", "date", "text")
LABELS = {
    "float": ["Vĩ độ", "Kinh độ", "Diện tích (km²)", "Hệ số K", "Chiều dài tuyến (km)", "Độ cao (m)"],
    "amount": ["Kinh phí (đồng)", "Vốn đầu tư", "Doanh thu", "Chênh lệch thu chi", "Giá trị hợp đồng"],
    "int": ["Dân số", "Số hộ", "Số lượng", "Số học sinh", "Số giường bệnh", "Diện tích đất (m²)"],
    "code": ["Mã số", "Mã hồ sơ", "Mã đơn vị", "Số hiệu", "Mã bưu chính", "Mã định danh"],
    "plain_code": ["Bưu cục", "Trạm quan trắc", "Tuyến xe buýt", "Khu phố", "Điểm thu gom", "Lô đất"],
    "date": ["Ngày cấp", "Ngày hiệu lực", "Ngày khởi công", "Ngày đo", "Ngày cập nhật", "Ngày đăng ký"],
    "text": ["Tên đơn vị", "Địa chỉ", "Tên công trình", "Người phụ trách", "Loại hình", "Mô tả"],
}
# The quality gate checks what a label means (quality/plausibility.py): coordinates stay in Viet Nam,
# "Mã phường"-like codes must be official ones (none is generated), a "%" stays within 0..100.
COORDINATES = {"Vĩ độ": (6, 22), "Kinh độ": (102, 117)}
GROUPS = ["Tọa độ trung tâm", "Số liệu năm 2024", "Thông tin chung", "Kết quả thực hiện", "Chỉ tiêu"]
# No word that is a footer marker, a yes/no or null token, a title line or a number: text is text.
WORDS = (
    "Phường Bến Thành Sài Gòn Thủ Đức Nhà Bè Củ Chi Hóc Môn Cần Giờ Bình Thạnh Tân Phú Gò Vấp Quận "
    "Hiệp Phước Long Trường Thọ Xuân Lộc Ấp đường Nguyễn Trãi Lê Lợi Hai Bà Trưng Điện Biên chợ trường "
    "học bệnh viện xã hội kênh rạch cầu Ông Lãnh Hàm Nghi Võ Văn Kiệt bến xe miền Đông Tây khu phố "
    "Thảo Điền An Khánh Thạnh Mỹ Lợi Hưng Tiến tuyến ưu tiên sửa chữa nước sạch cây xanh Ỷ Lan Kỳ Đồng"
).split()
TITLES = [
    "ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH",
    "SỞ TÀI CHÍNH",
    "DANH SÁCH CÔNG TRÌNH, DỰ ÁN NĂM 2025",
    "BÁO CÁO TỔNG HỢP SỐ LIỆU QUÝ II NĂM 2025",
    "(Kèm theo Quyết định số 1234/QĐ-UBND ngày 05/7/2025)",
    "Đơn vị tính: đồng",
]
NOTES = [
    "Ghi chú: số liệu tạm tính đến ngày 30/6/2025.",
    "Nguồn: Cục Thống kê Thành phố Hồ Chí Minh.",
    "Lưu ý: các ô trống là chưa có số liệu.",
]
SIGNATURES = [
    ("Người lập biểu", "Thủ trưởng đơn vị"),
    ("(Ký, ghi rõ họ tên)", "(Ký tên, đóng dấu)"),
    ("Nguyễn Văn An", "Trần Thị Bình"),
]
PLACE_DATE = "TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025"
NUMBER_FORMATS = [None, "0", "0.000", "#,##0.000", "#,##0.00", "#,##0", "0.0000", "0.00", "0.00%"]
DATE_FORMATS = ["dd/mm/yyyy", "d/m/yyyy", "yyyy-mm-dd", "dd-mm-yyyy", "mm-dd-yy"]


@st.composite
def decimals(
    draw: st.DrawFn, kind: str, negatives: bool, cents: bool, span: tuple[int, int] | None = None
) -> Decimal:
    """A number of ``kind``; ``span``: the range of its whole part (coordinates)."""
    negative = negatives and draw(st.booleans()) and span is None
    if kind == "float":  # 1 to 6 decimals, the last one not 0
        places = draw(st.integers(1, 6))
        whole = draw(st.integers(*span) if span else st.one_of(st.integers(0, 999), st.integers(0, 10**6)))
        frac = draw(st.integers(0, 10 ** (places - 1) - 1)) * 10 + draw(st.integers(1, 9))
        value = Decimal(f"{whole}.{frac:0{places}d}")
    elif kind == "amount":  # up to 10**12, whole or with cents
        whole = draw(st.one_of(st.integers(0, 10**12), st.integers(10**6, 10**12)))
        value = (
            Decimal(f"{whole}.{draw(st.integers(0, 99)):02d}")
            if cents and draw(st.booleans())
            else Decimal(whole)
        )
    else:
        value = Decimal(draw(st.integers(0, 10**7)) if draw(st.integers(0, 9)) else 0)
    return -value if negative and value else value


@st.composite
def number_column(
    draw: st.DrawFn, kind: str, fmt: tuple[str, str], n: int, label: str = ""
) -> list[Cell | None]:
    """Cells of a number column (None: empty, decided later). ``fmt``: (file kind, locale)."""
    file_kind, locale = fmt
    negatives, cents = draw(st.booleans()), draw(st.booleans())
    grouping = draw(st.sampled_from(["none", "all", "some"]))
    natives = 0.0 if file_kind == "csv" else draw(st.sampled_from([1.0, 1.0, 0.7, 0.3]))
    formats = draw(st.lists(st.sampled_from(NUMBER_FORMATS), min_size=1, max_size=2))
    parens = kind == "amount" and draw(st.booleans())
    cells: list[Cell | None] = []
    for _ in range(n):
        if draw(st.integers(0, 99)) < 15:
            cells.append(None)
            continue
        value = draw(decimals(kind, negatives, cents, COORDINATES.get(label)))
        if natives and draw(st.floats(0, 1)) < natives:
            native: float | int = int(value) if value == value.to_integral_value() else float(value)
            if kind != "int" and isinstance(native, int) and draw(st.booleans()):
                native = float(native)
            cells.append(Cell(value, native, draw(st.sampled_from(formats))))
        else:
            grouped = grouping == "all" or (grouping == "some" and draw(st.booleans()))
            cells.append(Cell(value, number_text(value, locale, grouped, parens)))
    return cells


@st.composite
def code_column(draw: st.DrawFn, fmt: tuple[str, str], n: int, code_header: bool) -> list[Cell | None]:
    """Digit codes ("024", "00123", fixed width): at most 8 digits (9 and more look like ID numbers)."""
    width = draw(st.integers(2, 8))
    fixed = draw(st.booleans())
    zero_format = fmt[0] == "xlsx" and fixed and draw(st.booleans())
    cells: list[Cell | None] = []
    for _ in range(n):
        if draw(st.integers(0, 99)) < 10:
            cells.append(None)
            continue
        w = width if fixed else draw(st.integers(2, 8))
        code = draw(st.sampled_from("1234567890")) + draw(
            st.text("0123456789", min_size=w - 1, max_size=w - 1)
        )
        cells.append(Cell(code, code))
    present = [i for i, c in enumerate(cells) if c is not None]
    for i in present:
        cell = cells[i]
        assert cell is not None
        if zero_format and draw(st.booleans()):
            cells[i] = Cell(cell.expected, int(cell.expected), "0" * width)
        elif fmt[0] == "xlsx" and code_header and not cell.expected.startswith("0") and draw(st.booleans()):
            cells[i] = Cell(cell.expected, int(cell.expected))  # a native number under "Mã ..."
    return cells


@st.composite
def other_column(draw: st.DrawFn, kind: str, fmt: tuple[str, str], n: int) -> list[Cell | None]:
    file_kind, locale = fmt
    nfd = file_kind == "xlsx" or draw(st.booleans())  # decomposed text in the file (NFC published)
    cells: list[Cell | None] = []
    for _ in range(n):
        if draw(st.integers(0, 99)) < 15:
            cells.append(None)
        elif kind == "date":
            day = draw(st.dates(date(1950, 1, 1), date(2049, 12, 31)))
            if file_kind == "xlsx" and draw(st.booleans()):
                cells.append(Cell(day, day, draw(st.sampled_from(DATE_FORMATS))))
            else:
                forms = [f"{day:%d/%m/%Y}", f"{day.day}/{day.month}/{day.year}"]
                forms += [day.isoformat()] if locale == "en" else []
                cells.append(Cell(day, draw(st.sampled_from(forms))))
        else:
            text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4)))
            written = unicodedata.normalize("NFD", text) if nfd and draw(st.booleans()) else text
            cells.append(Cell(text, written))
    return cells


def _text_of(cell: Cell) -> str | None:
    """The cell as the reader gives it to cleaning as text; None: empty ("", "-") or a native number."""
    if isinstance(cell.written, str):
        return cell.written if cell.written not in ("", "-") else None
    zeros = (
        cell.number_format is not None and len(cell.number_format) > 1 and set(cell.number_format) == {"0"}
    )
    return cell.expected if zeros and isinstance(cell.expected, str) else None  # "00000": a code


def _looks_like_codes(cells: list[Cell]) -> bool:
    """Unique digit strings of one width (4+), 10 or more: the documented sign of a code column."""
    texts = [t for t in map(_text_of, cells) if t is not None]
    return (
        len(texts) >= 10
        and all(t.isdigit() for t in texts)
        and len({len(t) for t in texts}) == 1
        and len(texts[0]) >= 4
        and len(set(texts)) == len(texts)
    )


@st.composite
def agency_files(draw: st.DrawFn, detection: bool, ambiguous_en: bool = False) -> AgencyFile:
    """An agency file; ``detection``: the readers detect layouts (examples without hints too).

    ``ambiguous_en``: an ``en`` file whose text numbers all read in both locales ("10.969",
    "12,345"), the locale declared.
    """
    file_kind = draw(st.sampled_from(["xlsx", "csv"]))
    locale = "en" if ambiguous_en else draw(st.sampled_from(["vi", "en"]))
    declare = ambiguous_en or draw(st.booleans())
    fmt = (file_kind, locale)
    n = draw(st.integers(1, 12))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=2, max_size=6))
    kinds = [*kinds[:-1], "float"] if ambiguous_en else kinds
    used: set[str] = set()
    columns: list[Column] = []
    for kind in kinds:
        code_header = kind == "code" and draw(st.booleans())
        pool = LABELS["plain_code" if kind == "code" and not code_header else kind]
        label = draw(st.sampled_from([x for x in pool if x not in used] or [f"{pool[0]} {len(used) + 1}"]))
        used.add(label)
        if ambiguous_en and kind in NUMBER_KINDS:
            cells: list[Cell | None] = [_ambiguous_en(draw, kind, label) for _ in range(n)]
        elif kind in NUMBER_KINDS:
            cells = draw(number_column(kind, fmt, n, label))
        elif kind == "code":
            cells = draw(code_column(fmt, n, code_header))
        else:
            cells = draw(other_column(kind, fmt, n))
        token = draw(st.integers(0, 9)) == 0
        empty = Cell(None, "-" if token else (None if file_kind == "xlsx" else ""))
        columns.append(Column(kind, label, tuple(c if c is not None else empty for c in cells)))
    columns = [_typed_as_written(c, locale, declare) for c in _no_empty_rows(draw, columns, fmt)]
    columns = _groups(draw, columns)
    titles = tuple(draw(st.lists(st.sampled_from(TITLES), max_size=3, unique=True)))
    hints = draw(st.booleans()) if detection else True
    shaped = bool(titles) or any(c.group for c in columns)
    numbers = None
    if detection and not hints and draw(st.booleans()):
        numbers = "bare" if shaped and len(columns) >= 3 and draw(st.booleans()) else "parens"
    file = AgencyFile(
        kind=file_kind,
        locale=locale,
        declare_locale=declare,
        columns=tuple(columns),
        encoding=draw(st.sampled_from(["utf-8-sig", "cp1258", "utf-8"])) if file_kind == "csv" else "utf-8",
        delimiter=draw(st.sampled_from([";", ","])) if file_kind == "csv" else ";",
        titles=titles,
        blank_after_titles=bool(titles) and draw(st.booleans()),
        merged_singles=file_kind == "csv" or draw(st.integers(0, 3)) > 0,
        column_numbers=numbers,
        footer=draw(footers(columns, fmt)),
        padded=file_kind == "xlsx" or draw(st.integers(0, 3)) > 0,
        newline=draw(st.sampled_from(["\r\n", "\n"])) if file_kind == "csv" else "\r\n",
        hints=hints,
    )
    if not file.padded and file.delimiter_in_doubt():
        file = replace(file, padded=True)  # the delimiter would be in doubt for any reader
    if not file.hints and file.title_like_header():
        file = replace(file, hints=True, column_numbers=None)  # see title_like_header
    return file


def _typed_as_written(column: Column, locale: str, declared: bool) -> Column:
    """A column whose cells say what it is: codes under a plain header look like codes (a leading
    zero, or the documented fixed width), numbers do not, an ``en`` locale is evident."""
    cells = list(column.cells)
    if column.kind == "code" and column.label.startswith(tuple(LABELS["plain_code"])):
        codes = [(i, t) for i, t in enumerate(map(_text_of, cells)) if t is not None and t.isdigit()]
        if codes and not _looks_like_codes(cells) and not any(t.startswith("0") for _, t in codes):
            i, code = codes[0][0], "0" + codes[0][1][1:]
            written = code if isinstance(cells[i].written, str) else int(code)
            cells[i] = replace(cells[i], expected=code, written=written)
        return replace(column, cells=tuple(cells))
    if column.kind not in NUMBER_KINDS:
        return column
    if _looks_like_codes(cells):  # unique digit strings of one width: documented as codes
        cells[0] = Cell(Decimal(0), "0")
    if locale == "en" and not declared:
        cells = _give_evidence(cells)
    return replace(column, cells=tuple(cells))


def _ambiguous_en(draw: st.DrawFn, kind: str, label: str) -> Cell:
    """A number that reads in both locales: three decimals after at most three digits, or one group."""
    if kind == "float":
        whole = draw(st.integers(*COORDINATES.get(label, (0, 999))))
        value = Decimal(f"{whole}.{draw(st.integers(0, 99)):02d}{draw(st.integers(1, 9))}")
        return Cell(value, format(value, "f"))
    value = Decimal(draw(st.integers(1000, 999_999)))
    return Cell(value, number_text(value, "en", grouped=True))


def _give_evidence(cells: list[Cell]) -> list[Cell]:
    """An ``en`` column read in both locales gets one cell only English reads (same value)."""
    texts = [
        (i, c.written) for i, c in enumerate(cells) if isinstance(c.written, str) and c.expected is not None
    ]
    both = [i for i, t in texts if reads(t, "vi") is not None and reads(t, "vi") != reads(t, "en")]
    if both and not any(reads(t, "vi") is None for _, t in texts):
        cell = cells[both[0]]
        cells[both[0]] = replace(cell, written=with_en_evidence(cell.written))
    return cells


def _no_empty_rows(draw: st.DrawFn, columns: list[Column], fmt: tuple[str, str]) -> list[Column]:
    """A row with every cell empty is no row at all (readers skip it): give it one value."""
    cells = [list(c.cells) for c in columns]
    for r in range(len(cells[0])):
        if all(col[r].written in (None, "") for col in cells):
            i = draw(st.integers(0, len(columns) - 1))
            kind = columns[i].kind
            if kind in NUMBER_KINDS:
                value = draw(decimals(kind, False, False, COORDINATES.get(columns[i].label)))
                cells[i][r] = Cell(value, number_text(value, fmt[1], False))
            else:
                cells[i][r] = FILLERS[kind]
    return [replace(c, cells=tuple(col)) for c, col in zip(columns, cells, strict=True)]


FILLERS = {
    "code": Cell("007", "007"),
    "date": Cell(date(2025, 7, 1), "01/07/2025"),
    "text": Cell("Bến Thành", "Bến Thành"),
}


def _groups(draw: st.DrawFn, columns: list[Column]) -> list[Column]:
    """Maybe one or two merged parents over adjacent columns (a two-row header)."""
    width = len(columns)
    if width < 2 or not draw(st.booleans()):
        return columns
    out = list(columns)
    spans = draw(st.integers(1, 2 if width >= 5 else 1))
    start = 0
    names = draw(st.lists(st.sampled_from(GROUPS), min_size=spans, max_size=spans, unique=True))
    for name in names:
        if start > width - 2:
            break
        first = draw(st.integers(start, width - 2))
        last = draw(st.integers(first + 1, min(width - 1, first + 3)))
        for i in range(first, last + 1):
            out[i] = replace(out[i], group=name)
        start = last + 2
    return out


@st.composite
def footers(draw: st.DrawFn, columns: list[Column], fmt: tuple[str, str]) -> tuple[tuple[Any, ...], ...]:
    """Report lines after the data: a totals row, notes, place and date, a signature block."""
    width = len(columns)
    rows: list[tuple[Any, ...]] = []
    if draw(st.integers(0, 2)) == 0:
        return ()
    if draw(st.integers(0, 3)) == 0:
        total: list[Any] = []
        for c in columns:
            values = [x.expected for x in c.cells if x.expected is not None]
            summed = draw(st.booleans())
            if c.kind in NUMBER_KINDS and values and summed:
                value = sum(values, Decimal(0))
                native = fmt[0] == "xlsx" and draw(st.booleans())
                total.append(float(value) if native else number_text(value, fmt[1], draw(st.booleans())))
            else:
                total.append(None)
        rows.append(("Tổng cộng", *total[1:]))
    rows += [(note,) for note in draw(st.lists(st.sampled_from(NOTES), max_size=2, unique=True))]
    if draw(st.integers(0, 2)) == 0:
        if draw(st.booleans()):
            rows.append((*[None] * (width - 1), PLACE_DATE))
        for left, right in SIGNATURES[: draw(st.integers(1, 3))]:
            rows.append((left, *[None] * (width - 2), right))
    return tuple(rows)
