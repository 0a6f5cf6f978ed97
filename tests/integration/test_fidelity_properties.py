"""Published values equal the agency's, on generated files: a differential property suite.

Hypothesis builds tables of known values (``table_strategies.py``, ``generated_tables.py``:
floats with 1 to 6 decimals, amounts up to 10**12 and negative, integers, codes with leading
zeros, dates, Vietnamese text, empty cells) and writes them as agency files (XLSX with native and
text cells, CSV in UTF-8 or Windows-1258; ``vi`` or ``en`` numbers; titles, merged two-row
headers, footers). Each file goes through the real stack in-process with a minimal spec (a local
file, no column hints, the locale declared in about half of the examples): pull, clean, the
quality gate, the lake. The published Parquet must equal the generator's values cell by cell: the
same doubles, integers as ints, codes as the same strings, dates as dates, text NFC-equal, empty
cells null, no row lost or added; titles, column numbers and footers are skipped rows.

Profiles (tests/conftest.py): ``citydata-ci`` by default (fixed seed), ``thorough`` (10,000
examples) with ``CITYDATA_HYPOTHESIS=thorough`` or ``--hypothesis-profile thorough``;
``CITYDATA_HYPOTHESIS_EXAMPLES=N`` overrides the number of examples of either.
"""

from __future__ import annotations

import io
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import event, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from catalog.publish import PublishBlocked, publish_to_lake
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from citydata.storage.published import read_manifest, read_version_table
from connectors.formats.base import FormatOptions
from ingest.clean import CleanError, clean_pull
from ingest.pull import pull
from quality.validate import validate_clean
from tests.integration.cleanup import purge_agency
from tests.integration.generated_tables import NUMBER_KINDS, AgencyFile, Cell, Column
from tests.integration.table_strategies import agency_files


def profile_examples() -> int:
    """``max_examples`` of the Hypothesis profile in use (tests/conftest.py)."""
    current = hsettings.default
    assert current is not None
    return current.max_examples


pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(max(600, 3 * profile_examples())),  # the profile decides
]
PURGE_EVERY = 25  # datasets published before their objects are removed


def layout_detection() -> bool:
    """Do the readers detect report layouts (``FormatOptions.skip_rows`` defaults to None)?"""
    return FormatOptions().skip_rows is None


# Decided when the first example is drawn, i.e. against the code under test, not at collection.
files = st.deferred(lambda: agency_files(detection=layout_detection()))


@dataclass
class Outcome:
    table: pa.Table
    cleaned: dict[str, Any]
    rejected: list[str]  # "line N: reasons" of the quarantined rows
    failed: list[str]  # the quality gate's failed error-level expectations


class Lab:
    """One throw-away agency for the module; each example is a dataset of its own."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.settings, self.lake, self.tmp = settings, Lake(settings), tmp
        self.agency = f"test-prop-{uuid.uuid4().hex[:10]}"
        self.count = 0
        self.pending: list[str] = []

    def spec(self, file: AgencyFile, path: Path) -> DatasetSpec:
        self.count += 1
        dataset = f"prop-{self.count}-{self.agency.removeprefix('test-prop-')}"
        self.pending.append(dataset)
        data: dict[str, Any] = {
            "id": dataset,
            "agency": {"id": self.agency, "title": {"vi": "Sở thử nghiệm (kiểm thử tính trung thực)"}},
            "title": {"vi": "Bảng sinh tự động"},
            "description": {"vi": "Dữ liệu sinh tự động để kiểm thử."},
            "dublin_core": {"creator": "Kiểm thử", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
            "source": {"type": "local_file", "path": str(path)},
        }
        if file.format_options():
            data["format"] = file.format_options()
        if file.declare_locale:
            data["schema"] = {"locale": file.locale}
        if file.footer and not layout_detection():
            data["cleaning"] = {"max_rejected_ratio": 1.0}  # footers are rejected rows, not skipped ones
        return DatasetSpec.model_validate(data)

    def publish(self, file: AgencyFile) -> Outcome:
        path = file.write(self.tmp / f"agency-{self.count + 1}.{file.kind}")
        spec = self.spec(file, path)
        try:
            pull_id = pull(spec, self.settings, self.lake).pull_id
            assert pull_id is not None, f"{file.describe()}: nothing pulled"
            prefix = zone_prefix("quarantine", self.agency, spec.id, pull_id)
            try:
                cleaned = clean_pull(spec, self.settings, self.lake, pull_id).as_dict()
            except CleanError as exc:
                raise AssertionError(f"{file.describe()}: {exc}; {self.rejected(prefix)}") from None
            quality = validate_clean(spec, self.settings, self.lake, pull_id, data_docs=False)
            failed = [
                f"{e.label} [{e.severity}]: {e.message or e.partial_unexpected_list[:3]}"
                for e in quality.failures
                if e.severity == "error"
            ]
            try:
                publish_to_lake(spec, self.settings, self.lake, pull_id=pull_id)
            except PublishBlocked as exc:
                raise AssertionError(f"{file.describe()}: {exc}; failed: {failed}") from None
            manifest = read_manifest(self.lake, self.agency, spec.id)
            assert manifest is not None, f"{file.describe()}: nothing published"
            table = read_version_table(self.lake, manifest)
            rejected = self.rejected(prefix) if cleaned["rejected"] else []
            return Outcome(table, cleaned, rejected, failed)
        finally:
            path.unlink(missing_ok=True)
            if len(self.pending) >= PURGE_EVERY:
                self.purge()

    def rejected(self, prefix: str) -> list[str]:
        key = prefix + "rejected.parquet"
        if not self.lake.exists(key):
            return []
        rows = pq.read_table(io.BytesIO(self.lake.get_bytes(key))).to_pylist()
        return [f"line {r['line']}: {r['reasons']}" for r in rows]

    def purge(self) -> None:
        names, self.pending = self.pending, []
        purge_agency(self.settings, self.lake, self.agency, names)


@pytest.fixture(scope="module")
def lab(stack_ready: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    state = Lab(stack_ready, tmp_path_factory.mktemp("agency-files"))
    yield state
    state.purge()


# --- comparison -----------------------------------------------------------------------------------


def expected_value(column: Column, cell: Cell) -> Any:
    if cell.expected is None:
        return None
    if column.kind in NUMBER_KINDS:
        return int(cell.expected) if column.integral else float(cell.expected)
    if column.kind == "text":
        return unicodedata.normalize("NFC", cell.expected)
    return cell.expected


def same(got: Any, want: Any) -> bool:
    """Equal and of the same Python type (1 is not 1.0, a datetime is not a date, True is not 1)."""
    return type(got) is type(want) and got == want


def label_of(column: Column) -> str:
    return " ".join(unicodedata.normalize("NFC", column.header).split())


def differences(file: AgencyFile, outcome: Outcome, detection: bool) -> list[str]:
    """Every way the published table differs from the generated one (empty: equal)."""
    entries = sorted(outcome.cleaned["columns"], key=lambda c: c["source_index"])
    if [e["source_label"] for e in entries] != [label_of(c) for c in file.columns]:
        read = [e["source_label"] for e in entries]
        return [f"header read as {read}, written {[label_of(c) for c in file.columns]}"]
    problems: list[str] = []
    if outcome.table.column_names != [e["name"] for e in entries]:
        problems.append(
            f"published columns {outcome.table.column_names}, cleaned {[e['name'] for e in entries]}"
        )
    rows = outcome.table.to_pylist()
    if len(rows) != file.rows and (detection or len(rows) < file.rows):
        problems.append(f"{len(rows)} rows published, {file.rows} written; rejected: {outcome.rejected[:5]}")
    first_line = len(file.head_lines()) + 1
    for column, entry in zip(file.columns, entries, strict=True):
        published = entry["type"] + (
            f", {entry['locale']} locale from {entry['locale_source']}" if entry["locale"] else ""
        )
        for r, (cell, row) in enumerate(zip(column.cells, rows, strict=False)):
            want = expected_value(column, cell)
            got = row.get(entry["name"], "<missing column>")
            if not same(got, want):
                problems.append(
                    f"column {column.header!r} ({column.kind}, published as {published}), row {r + 1} "
                    f"(line {first_line + r}): written {cell.shown()}, expected {want!r}, published {got!r}"
                )
    if detection:
        problems += layout_differences(file, outcome)
    problems += [f"quality gate: {f}" for f in outcome.failed]
    return problems


def layout_differences(file: AgencyFile, outcome: Outcome) -> list[str]:
    """Titles, column numbers and footers are skipped rows, never data nor rejected rows."""
    report = outcome.cleaned["files"][0]
    kinds = Counter(row["kind"] for row in report["skipped"])
    wanted = Counter(
        title=len(file.titles), column_numbers=1 if file.column_numbers else 0, footer=len(file.footer)
    )
    found = Counter(
        title=kinds["title"], column_numbers=kinds["column_numbers"], footer=kinds["footer"] + kinds["total"]
    )
    problems = []
    if found != wanted:
        shown = [(row["line"], row["kind"], row["text"]) for row in report["skipped"]]
        problems.append(f"skipped rows {dict(found)}, expected {dict(wanted)}: {shown}")
    if outcome.rejected:
        problems.append(f"{len(outcome.rejected)} rows rejected: {outcome.rejected[:5]}")
    return problems


def check(lab: Lab, file: AgencyFile, generated: bool = True) -> None:
    detection = layout_detection()
    for what in file.features() if generated else ():  # shown by --hypothesis-show-statistics
        event(what)
    outcome = lab.publish(file)
    problems = differences(file, outcome, detection)
    if problems:
        shown = "\n  ".join(problems[:12])
        more = f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else ""
        raise AssertionError(f"{file.describe()}:\n  {shown}{more}")


# --- the properties -------------------------------------------------------------------------------


def issue_14_workbook() -> AgencyFile:
    """The incident: numeric cells 10.969 / 106.661 / 15.682 and codes "27676", "024" in a report."""
    code = Column("code", "Mã số", (Cell("25747", 25747), Cell("27676", "27676"), Cell("024", "024")))
    lat = (Decimal("10.969"), Decimal("10.7769"), Decimal("10.8231"))
    lon = (Decimal("106.661"), Decimal("106.7009"), Decimal("106.6297"))
    area = (Decimal("15.682"), Decimal("1234.5"), None)
    return AgencyFile(
        kind="xlsx",
        locale="vi",
        declare_locale=True,
        columns=(
            code,
            Column("text", "Tên đơn vị", tuple(Cell(t, t) for t in ("Thủ Dầu Một", "Bến Thành", "Sài Gòn"))),
            Column("float", "Vĩ độ", tuple(Cell(v, float(v), "0.0000") for v in lat), "Tọa độ trung tâm"),
            Column("float", "Kinh độ", tuple(Cell(v, float(v), "0.0000") for v in lon), "Tọa độ trung tâm"),
            Column(
                "float",
                "Diện tích (km²)",
                (Cell(area[0], 15.682, "#,##0.000"), Cell(area[1], "1.234,5"), Cell(None, None)),
            ),
        ),
        titles=("ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH", "DANH SÁCH PHƯỜNG, XÃ, ĐẶC KHU"),
        footer=(
            ("Ghi chú: diện tích theo Nghị quyết 1685/NQ-UBTVQH15.",),
            ("Người lập biểu", None, None, None, "Thủ trưởng đơn vị"),
        ),
    )


@given(file=files)
@example(file=issue_14_workbook())
def test_published_values_equal_the_agency_file(lab: Lab, file: AgencyFile) -> None:
    check(lab, file)


@given(file=st.deferred(lambda: agency_files(detection=layout_detection(), ambiguous_en=True)))
@hsettings(max_examples=max(5, profile_examples() // 10))
def test_ambiguous_english_numbers_with_a_declared_locale(lab: Lab, file: AgencyFile) -> None:
    """ "10.969" and "12,345" read in both locales; with ``schema.locale: en`` they are English."""
    check(lab, file)


# --- files this suite once failed on, kept as regressions -----------------------------------------


def _ints(label: str, values: list[int], group: str | None = None) -> Column:
    return Column("int", label, tuple(Cell(Decimal(v), str(v)) for v in values), group)


def _texts(label: str, values: list[str]) -> Column:
    return Column("text", label, tuple(Cell(v, v) for v in values))


def _group_then_far_label(kind: str) -> AgencyFile:
    """A merged parent over four columns, then one more column: the header's first line has two
    labels four columns apart, which detection once took for a title (layout._parent_labels)."""
    group = [_ints(label, [1, 2], "Chỉ tiêu") for label in ("Dân số", "Số hộ", "Số lượng", "Số học sinh")]
    return AgencyFile(kind, "vi", True, (*group, _texts("Tên đơn vị", ["Bến Thành", "Sài Gòn"])), hints=False)


FOUND_BY_THIS_SUITE = [  # each once failed; fixed, kept as regressions
    pytest.param(
        _group_then_far_label("xlsx"),
        id="xlsx-header-group-over-four-columns",
    ),
    pytest.param(
        _group_then_far_label("csv"),
        id="csv-header-group-over-four-columns",
    ),
    pytest.param(
        AgencyFile(
            "csv",
            "vi",
            False,
            (Column("float", "Độ cao (m)", (Cell(Decimal("1.5"), "1,5"),)), _texts("Địa chỉ", ["Bến Thành"])),
            titles=(
                "ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH",
                "SỞ TÀI CHÍNH",
                "DANH SÁCH CÔNG TRÌNH, DỰ ÁN NĂM 2025",
            ),
            footer=(("Nguồn: Cục Thống kê Thành phố Hồ Chí Minh.",),),
            padded=False,
            hints=False,
        ),
        id="csv-unpadded-report-lines-outnumber-the-table",
    ),
    pytest.param(
        AgencyFile(
            "csv",
            "en",
            True,
            (
                Column("amount", "Kinh phí (đồng)", tuple(Cell(Decimal(1000), "1,000") for _ in range(5))),
                Column("float", "Vĩ độ", tuple(Cell(Decimal("10.5"), "10.5") for _ in range(5))),
            ),
            titles=("ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH", "DANH SÁCH CÔNG TRÌNH, DỰ ÁN NĂM 2025"),
            padded=False,
            hints=False,
        ),
        id="csv-unpadded-titles-and-english-numbers",
    ),
    pytest.param(
        AgencyFile(
            "csv",
            "vi",
            True,
            (
                Column(
                    "amount",
                    "Kinh phí (đồng)",
                    tuple(Cell(Decimal(v), str(v)) for v in range(123_456_789_000, 123_456_789_070, 7)),
                ),
                _texts("Tên công trình", ["Cầu Ông Lãnh"] * 10),
            ),
        ),
        id="csv-ten-unique-12-digit-amounts",
    ),
]


@pytest.mark.parametrize("file", FOUND_BY_THIS_SUITE)
def test_files_that_once_failed(lab: Lab, file: AgencyFile) -> None:
    check(lab, file, generated=False)
