"""The data dictionary's `nullable` says what the spec requires and what the data holds, not Arrow's
flag (every column written is nullable): a key or `nullable: false` column is "False" unless a value
is missing; a column the spec says nothing about is "True"."""

import csv
import io

import pyarrow as pa
import pyarrow.parquet as pq

from citydata.spec.model import DatasetSpec
from lake.exports import BOM, build_version, null_counts
from quality.spec import required_columns

SPEC = {
    "id": "tram-sac",
    "agency": {"id": "so-ct", "title": {"vi": "Sở Công Thương"}},
    "title": {"vi": "Trạm sạc"},
    "description": {"vi": "Trạm sạc xe điện"},
    "dublin_core": {"creator": "Sở CT", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
    "source": {"type": "local_file", "path": "/dev/null"},
    "schema": {
        "primary_key": ["ma", "dot"],
        "columns": {
            "ma": {},
            "ten": {"nullable": False},
            "so_cong": {"type": "integer"},
            "sdt": {"pii": "drop"},
        },
    },
    "quality": {
        "expectations": [
            {"type": "ExpectColumnValuesToNotBeNull", "args": {"column": "phuong"}},
            {"type": "expect_column_values_to_not_be_null", "args": {"column": "ghi_chu", "mostly": 0.9}},
            {
                "type": "expect_column_values_to_not_be_null",
                "args": {"column": "dia_chi"},
                "severity": "warn",
            },
        ]
    },
}


def test_required_columns_are_the_key_the_non_nullable_and_strict_not_null_expectations():
    spec = DatasetSpec.model_validate(SPEC)
    assert required_columns(spec) == {"ma", "dot", "ten", "phuong"}


def test_dictionary_csv_says_required_columns_are_not_nullable_unless_a_value_is_missing(tmp_path):
    table = pa.table({
        "ma": ["T1", "T2", "T3"], "dot": [1, 1, 2], "ten": ["A", None, "C"], "phuong": ["P1", "P2", "P3"],
        "so_cong": [4, 2, 6], "ghi_chu": [None, "x", None],
    })  # fmt: skip
    source = tmp_path / "data.parquet"
    pq.write_table(table, source, row_group_size=2)
    assert null_counts(pq.ParquetFile(source).metadata) == {
        "ma": 0, "dot": 0, "ten": 1, "phuong": 0, "so_cong": 0, "ghi_chu": 2,
    }  # fmt: skip
    required = required_columns(DatasetSpec.model_validate(SPEC))
    columns = [{"name": n, "nullable": n not in required} for n in table.column_names]
    built = build_version(source, tmp_path / "out", "tram-sac", part_rows=10, csv_bom=True, columns=columns)
    raw = next(f for f in built.extras if f.kind == "dictionary").path.read_bytes()
    assert raw.startswith(BOM)
    rows = {r["column"]: r["nullable"] for r in csv.DictReader(io.StringIO(raw[len(BOM) :].decode()))}
    # ten: required by the spec, but this data has an empty value: the dictionary tells the truth
    assert rows == {"ma": "False", "dot": "False", "ten": "True", "phuong": "False", "so_cong": "True",
                    "ghi_chu": "True"}  # fmt: skip
    assert [d["nullable"] for d in built.dictionary] == [False, False, True, False, True, True]
