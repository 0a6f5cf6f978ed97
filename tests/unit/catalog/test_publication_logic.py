"""Pure logic of publication: the spec section, hashes, version files, pointer retention, bucket policy."""

import csv
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog.spec import (
    PublicationSpec,
    PublicationSpecError,
    parse_publication,
    validate_publication_section,
)
from citydata.spec.model import DatasetSpec
from citydata.storage.published import (
    Pointer,
    VersionEntry,
    next_pointer,
    parse_version,
    staging_prefix,
    version_prefix,
)
from lake.access import grants_public_read, public_read_statement, with_public_read
from lake.exports import BOM, build_version, dictionary_rows
from lake.hashing import canonical_json, sha256_file, table_fingerprint, value_hash
from lake.promote import VersionOptions, build_hash

BASE = {
    "id": "bai-giu-xe",
    "agency": {"id": "so-gtvt", "title": {"vi": "Sở Giao thông Vận tải"}},
    "title": {"vi": "Bãi giữ xe"},
    "description": {"vi": "Bãi giữ xe công cộng"},
    "dublin_core": {"creator": "Sở GTVT", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
    "source": {"type": "local_file", "path": "/dev/null"},
}

TABLE = pa.table(
    {
        "ma": ["A1", "A2", "A3", "A4", "A5"],
        "ten": ["Bến Nghé", "=SUM(A1:A2)", None, "+cmd|' /C calc'!A0", "Đa Kao"],
        "so": pa.array([1, 2, None, 4, 5], pa.int64()),
        "gia": [1.5, float("nan"), 3.0, None, 5.25],
    }
)


# --- spec section ---------------------------------------------------------------------------
def test_publication_defaults_and_validation():
    spec = DatasetSpec.model_validate(BASE)
    pub = parse_publication(spec)
    assert pub == PublicationSpec() and pub.keep_versions == 5 and pub.private is False
    bad = DatasetSpec.model_validate({**BASE, "publication": {"keep_versions": 0, "colour": "red"}})
    problems = validate_publication_section(bad)
    assert any(p.startswith("publication.keep_versions:") for p in problems)
    assert any(p.startswith("publication.colour:") for p in problems)
    with pytest.raises(PublicationSpecError):
        parse_publication(bad)
    reversed_dates = DatasetSpec.model_validate(
        {**BASE, "publication": {"temporal": {"start": "2025-01-01", "end": "2024-01-01"}}}
    )
    assert validate_publication_section(reversed_dates)


# --- hashes -------------------------------------------------------------------------------------
def test_table_fingerprint_ignores_chunking_but_not_content():
    fp = table_fingerprint(TABLE)
    rechunked = pa.concat_tables([TABLE.slice(0, 2), TABLE.slice(2)])
    assert table_fingerprint(rechunked, batch_rows=1) == fp
    changed = TABLE.set_column(2, "so", pa.array([1, 2, None, 4, 6], pa.int64()))
    assert table_fingerprint(changed) != fp
    renamed = TABLE.rename_columns(["ma", "ten", "so_luong", "gia"])
    assert table_fingerprint(renamed) != fp  # the schema is part of it
    reordered = TABLE.take([1, 0, 2, 3, 4])
    assert table_fingerprint(reordered) != fp


def test_value_hash_is_canonical():
    assert value_hash({"b": 1, "a": [1, "ệ"]}) == value_hash({"a": [1, "ệ"], "b": 1})
    assert canonical_json({"a": "ệ"}) == '{"a":"ệ"}'.encode()


def test_build_hash_follows_file_shape_and_dictionary_not_retention():
    cols = [{"name": "ma", "label": "Mã"}]
    base = build_hash(VersionOptions(), cols)
    assert build_hash(VersionOptions(keep_versions=2), cols) == base
    assert build_hash(VersionOptions(csv_bom=True), cols) != base
    assert build_hash(VersionOptions(), [{"name": "ma", "label": "Mã số"}]) != base


# --- version files --------------------------------------------------------------------------------
@pytest.fixture
def source(tmp_path):
    path = tmp_path / "data.parquet"
    pq.write_table(TABLE, path)
    return path


def test_build_version_parts_csv_dictionary(tmp_path, source):
    columns = [{"name": "ma", "label": "Mã bãi", "type": "string", "description": "Khóa"}]
    built = build_version(source, tmp_path / "out", "bai-giu-xe", part_rows=2, csv_bom=True, columns=columns)
    assert built.rows == 5 and built.content_hash == table_fingerprint(TABLE)
    assert [p.name for p in built.parts] == [f"bai-giu-xe-part-{i:05d}.parquet" for i in range(3)]
    assert [p.rows for p in built.parts] == [2, 2, 1]
    parts = pa.concat_tables([pq.read_table(p.path) for p in built.parts])
    assert table_fingerprint(parts) == built.content_hash
    assert parts.column("ten").to_pylist() == TABLE.column("ten").to_pylist()
    for f in built.files:
        assert f.sha256 == sha256_file(f.path) and f.size == f.path.stat().st_size
    csv_file = next(f for f in built.extras if f.kind == "csv")
    raw = csv_file.path.read_bytes()
    assert raw.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(raw[len(BOM) :].decode("utf-8"))))
    assert [r["ma"] for r in rows] == ["A1", "A2", "A3", "A4", "A5"]
    assert rows[1]["ten"] == "'=SUM(A1:A2)" and rows[3]["ten"].startswith("'+cmd")
    assert rows[0]["ten"] == "Bến Nghé" and rows[2]["ten"] == ""
    dictionary = next(f for f in built.extras if f.kind == "dictionary")
    entries = list(csv.DictReader(io.StringIO(dictionary.path.read_bytes()[len(BOM) :].decode())))
    assert entries[0] == {"column": "ma", "label": "Mã bãi", "type": "string", "arrow_type": "string",
                          "nullable": "True", "description": "Khóa"}  # fmt: skip
    assert entries[2]["type"] == "integer" and entries[2]["label"] == "so"


def test_build_version_single_part_no_bom(tmp_path, source):
    built = build_version(source, tmp_path / "out", "ds", part_rows=1_000_000)
    assert [p.name for p in built.parts] == ["ds.parquet"]
    assert not next(f for f in built.extras if f.kind == "csv").path.read_bytes().startswith(BOM)


def test_build_version_empty_table_keeps_schema(tmp_path):
    path = tmp_path / "empty.parquet"
    pq.write_table(TABLE.slice(0, 0), path)
    built = build_version(path, tmp_path / "out", "ds", part_rows=10)
    assert built.rows == 0 and len(built.parts) == 1
    assert pq.read_table(built.parts[0].path).schema.names == TABLE.schema.names
    assert next(f for f in built.extras if f.kind == "csv").path.read_text().startswith('"ma","ten"')


def test_dictionary_rows_fall_back_to_schema():
    rows = dictionary_rows(TABLE.schema, [])
    assert [r["type"] for r in rows] == ["string", "string", "integer", "number"]


# --- layout and pointer ------------------------------------------------------------------------------
def test_layout():
    assert version_prefix("so-gtvt", "bai-giu-xe", 3) == "published/so-gtvt/bai-giu-xe/v3/"
    assert staging_prefix("so-gtvt", "bai-giu-xe", "r1").startswith("published/_staging/so-gtvt/")
    assert parse_version("v12/") == 12 and parse_version("v0") is None and parse_version("_staging") is None
    with pytest.raises(ValueError):
        version_prefix("a", "b", 0)


def _entry(n):
    return VersionEntry(n, f"published/a/b/v{n}/_manifest.json", f"2025-01-0{n}", n * 10, f"h{n}")


def test_next_pointer_keeps_the_newest():
    pointer = None
    dropped_all = []
    for n in range(1, 5):
        pointer, dropped = next_pointer(pointer, _entry(n), keep=2, updated_at="t", run_id=f"r{n}")
        dropped_all += dropped
    assert pointer.current == 4 and [v.version for v in pointer.versions] == [4, 3]
    assert dropped_all == [1, 2]
    again = Pointer.from_dict(pointer.as_dict())
    assert again == pointer and again.entry(3).rows == 30 and again.entry(1) is None


# --- bucket policy -----------------------------------------------------------------------------------
def test_public_read_statements_added_and_removed_without_touching_others():
    foreign = {"Sid": "Other", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
               "Resource": "arn:aws:s3:::lake/docs/*"}  # fmt: skip
    policy = {"Version": "2012-10-17", "Statement": [foreign]}
    opened = with_public_read(policy, "lake", "published/a/b/", True)
    opened = with_public_read(opened, "lake", "published/a/c/", True)
    assert grants_public_read(opened, "lake", "published/a/b/")
    assert grants_public_read(opened, "lake", "published/a/c/")
    assert not grants_public_read(opened, "lake", "published/a/")  # another prefix is not covered
    assert foreign in opened["Statement"] and len(opened["Statement"]) == 2  # one statement for ours
    ours = next(st for st in opened["Statement"] if st["Sid"] == "CitydataPublishedRead")
    assert ours["Resource"] == ["arn:aws:s3:::lake/published/a/b/*", "arn:aws:s3:::lake/published/a/c/*"]
    assert ours["Action"] == ["s3:GetObject"] and ours["Sid"].isalnum()
    assert with_public_read(opened, "lake", "published/a/b/", True) == opened
    closed = with_public_read(opened, "lake", "published/a/b/", False)
    assert not grants_public_read(closed, "lake", "published/a/b/")
    assert grants_public_read(closed, "lake", "published/a/c/")
    closed = with_public_read(closed, "lake", "published/a/c/", False)
    assert closed["Statement"] == [foreign] and policy["Statement"] == [foreign]  # input untouched
    # A hand-written statement naming the prefix loses only that resource.
    shared = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["s3:GetObject"],
              "Resource": ["arn:aws:s3:::lake/published/a/b/*", "arn:aws:s3:::lake/docs/*"]}  # fmt: skip
    narrowed = with_public_read({"Statement": [shared]}, "lake", "published/a/b/", False)
    assert narrowed["Statement"][0]["Resource"] == ["arn:aws:s3:::lake/docs/*"]
    assert public_read_statement("lake", ["published/x/y/"])["Resource"] == [
        "arn:aws:s3:::lake/published/x/y/*"
    ]
    with pytest.raises(ValueError):
        with_public_read(None, "lake", "published/a/b", True)


def test_datastore_records_are_json_ready():
    import datetime as dt
    import decimal
    import json

    from catalog.datastore import _jsonable

    batch = pa.record_batch(
        {
            "so": [1, None],
            "ty_le": [1.5, float("nan")],
            "ngay": pa.array([dt.date(2024, 1, 2), None]),
            "gia": pa.array([decimal.Decimal("1.20"), None]),
            "nhan": pa.array([["a", "b"], None]),
            "ten": ["Bến Nghé", None],
        }
    )
    records = _jsonable(batch)
    assert records[0] == {"so": 1, "ty_le": 1.5, "ngay": "2024-01-02", "gia": "1.20", "nhan": '["a", "b"]',
                          "ten": "Bến Nghé"}  # fmt: skip
    assert set(records[1].values()) == {None}  # NaN becomes null
    json.dumps(records, allow_nan=False)


def test_staging_of_a_run_is_abandoned_once_its_writer_is_gone():
    import subprocess
    import sys
    from datetime import UTC, datetime, timedelta

    from citydata.processes import host_id, start_ticks
    from lake import promote

    now, hour = datetime.now(UTC), timedelta(hours=1)
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    ticks = start_ticks(child.pid)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    other_process = f"{stamp}-{host_id()}-{child.pid}-{ticks}"
    assert not promote.run_abandoned(other_process, now, hour)  # alive: still writing
    child.communicate(b"")
    assert promote.run_abandoned(other_process, now, hour)  # killed or finished: abandoned

    mine = promote.new_run_id()
    assert mine.startswith(stamp[:8]) and promote.run_abandoned(mine, now, hour)  # not publishing
    with promote._LIVE_LOCK:
        promote._LIVE_RUNS.add(mine)
    try:
        assert not promote.run_abandoned(mine, now, hour)
    finally:
        promote._LIVE_RUNS.discard(mine)
    elsewhere = f"{stamp}-00000000-1-1"  # another host: only age tells
    assert not promote.run_abandoned(elsewhere, now, hour)
    assert promote.run_abandoned(elsewhere, now + 2 * hour, hour)
    assert promote.run_abandoned("20250101T000000000000Z", now, hour)  # an old-style id, long stale
