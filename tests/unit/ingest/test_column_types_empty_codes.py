"""Fixed-width codes with empty cells ("" or a null token such as "-") stay codes, not integers."""

from __future__ import annotations

import pyarrow as pa
import pytest

from citydata.spec.model import DatasetSpec
from ingest.transform import BatchCleaner

SPEC = DatasetSpec.model_validate(
    {
        "id": "buu-cuc",
        "agency": {"id": "so-tttt", "title": {"vi": "Sở Thông tin và Truyền thông"}},
        "title": {"vi": "Bưu cục"},
        "description": {"vi": "Danh sách bưu cục"},
        "dublin_core": {"creator": "Sở TTTT", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
        "source": {"type": "http_file", "url": "https://example.org/x.csv"},
    }
)
CODES = [f"{27600 + 7 * i}" for i in range(10)]  # unique, five digits, no leading zero


@pytest.mark.parametrize("empty", ["", "-", " ", "N/A"])
def test_an_empty_cell_does_not_turn_fixed_width_codes_into_numbers(empty):
    cleaner = BatchCleaner(SPEC, ["Bưu cục"])
    out = cleaner.clean(pa.table({"Bưu cục": pa.array([*CODES, empty], pa.string())}), 2)

    assert cleaner.dictionary()[0]["identifier"] is True
    assert cleaner.dictionary()[0]["type"] == "string"
    assert out.good.column(0).to_pylist() == [*CODES, None]


def test_measures_with_empty_cells_stay_numbers():
    cleaner = BatchCleaner(SPEC, ["Dân số"])
    out = cleaner.clean(pa.table({"Dân số": pa.array(["12000", "9500", "", "-", "130500"], pa.string())}), 2)

    assert cleaner.dictionary()[0]["type"] == "integer"
    assert out.good.column(0).to_pylist() == [12000, 9500, None, None, 130500]
