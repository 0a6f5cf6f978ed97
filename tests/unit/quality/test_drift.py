"""Drift against the previous published version: the profile, the rules, acknowledgement, the hook."""

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from citydata.spec.model import DatasetSpec
from quality import non_gx
from quality.drift import compare, drift_outcomes, previous_profile, profile, ratio, show
from quality.non_gx import CheckInput, run_non_gx_checks
from quality.result import ExpectationOutcome, QualityResult
from quality.spec import DriftSpec, parse_quality
from quality.verdict import conclude

SPEC = DatasetSpec.model_validate(
    {
        "id": "phuong-xa",
        "agency": {"id": "so-noi-vu", "title": {"vi": "Sở Nội vụ"}},
        "title": {"vi": "Phường xã"},
        "description": {"vi": "Đơn vị hành chính"},
        "dublin_core": {"creator": "Sở Nội vụ", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
        "source": {"type": "local_file", "path": "/dev/null"},
    }
)
WARDS = [f"Phường {i}" for i in range(20)]


def area_table(areas: list[float], names: list[str] = WARDS[:3]) -> pa.Table:
    return pa.table({"ten": names, "dien_tich_km2": areas})


def number(median: float, low: float = 1.0, high: float = 100.0) -> dict:
    return {"type": "double", "nulls": 0, "min": low, "median": median, "max": high}


def prof(**columns: dict) -> dict:
    return {"rows": 10, "columns": columns}


def test_profile_has_min_median_max_nulls_and_distinct_counts():
    table = pa.table(
        {
            "dien_tich_km2": pa.array([15.682, 2.5, None, 40.0]),
            "dan_so": pa.array([100, 300, 200, 400], pa.int64()),
            "ten": pa.array(["A", "B", "A", None]),
            "ngay": pa.array([None] * 4, pa.date32()),
        }
    )
    got = profile(table)
    assert got["rows"] == 4
    assert got["columns"]["dien_tich_km2"] == {
        "type": "double",
        "nulls": 1,
        "min": 2.5,
        "median": 15.682,
        "max": 40.0,
    }
    assert got["columns"]["dan_so"] == {"type": "int64", "nulls": 0, "min": 100, "median": 250.0, "max": 400}
    assert got["columns"]["ten"] == {"type": "string", "nulls": 1, "distinct": 2}
    assert got["columns"]["ngay"] == {"type": "date32[day]", "nulls": 4}
    json.dumps(got)  # stored in summary.json as it is
    assert profile(table.slice(0, 0))["columns"]["dan_so"]["median"] is None


def test_ratio_and_numbers_as_people_read_them():
    assert ratio(15.682, 15682.0) == pytest.approx(1000.0)
    assert ratio(15682.0, 15.682) == pytest.approx(1000.0)  # both directions
    assert ratio(-2.0, 3.0) == float("inf")  # a sign change
    assert ratio(0, 5.0) is None and ratio(None, 5.0) is None
    assert [show(15682.0), show(15.682), show(0.0015), show(10)] == ["15682", "15.682", "0.0015", "10"]


def test_median_x1000_blocks_and_the_message_names_both_values_the_ratio_and_the_version():
    before = profile(area_table([15.682, 2.5, 40.0]))
    after = profile(area_table([15682.0, 2500.0, 40000.0]))
    found = [o for o in compare(before, after, DriftSpec(), 3) if o.kwargs.get("statistic") == "median"]
    (median,) = found
    assert (median.type, median.origin, median.column) == ("citydata_drift", "quality.drift", "dien_tich_km2")
    assert median.severity == "error" and not median.success
    assert median.message == (
        "median of dien_tich_km2 went from 15.682 (version 3) to 15682 (x1000, more than x10); "
        "if this is right, list it under quality.drift.acknowledge"
    )
    assert median.observed_value["previous"] == 15.682 and median.observed_value["current"] == 15682.0
    assert median.observed_value["ratio"] == 1000.0 and median.observed_value["previous_version"] == 3
    assert "Trung vị" in median.description and "Median" in median.description


def test_drift_outcomes_block_the_result_and_lower_the_score():
    before, after = prof(dien_tich_km2=number(15.682)), prof(dien_tich_km2=number(15682.0))
    passing = ExpectationOutcome(
        0, "expect_column_values_to_not_be_null", "dien_tich_km2", "error", "o", True
    )
    result = QualityResult("phuong-xa", "p2", rows=10, profile=after)
    conclude(result, False, [passing, *compare(before, after, DriftSpec(), 3)], {}, ())
    assert result.blocking and not result.promotable and not result.success
    assert result.score == 50.0  # one passing error check, one failing: drift counts like an expectation


def test_an_acknowledged_column_passes_with_a_note_and_stays_in_the_report():
    before, after = prof(dien_tich_km2=number(15.682)), prof(dien_tich_km2=number(15682.0))
    (outcome,) = compare(before, after, DriftSpec(acknowledge=["dien_tich_km2"]), 3)
    assert outcome.success and outcome.severity == "error"
    assert outcome.message.startswith("acknowledged in quality.drift.acknowledge: median of dien_tich_km2")
    assert "15682" in outcome.message
    before, after = prof(a=number(1.0), b=number(1.0)), prof(a=number(1000.0), b=number(1000.0))
    others = compare(before, after, DriftSpec(acknowledge=["a"]), 3)
    assert {o.column: o.success for o in others} == {"a": True, "b": False}


def test_changes_within_max_ratio_pass_with_one_outcome_naming_the_version():
    before = prof(
        dien_tich_km2=number(15.682, 0.5, 120.0), ten={"type": "string", "nulls": 0, "distinct": 168}
    )
    after = prof(dien_tich_km2=number(16.9, 0.4, 130.0), ten={"type": "string", "nulls": 0, "distinct": 170})
    (outcome,) = compare(before, after, DriftSpec(), 3)
    assert outcome.success and outcome.column is None and outcome.severity == "warn"
    assert outcome.message == "no drift against version 3 (2 columns compared, max_ratio 10)"
    tight = compare(before, after, DriftSpec(max_ratio=1.2), 3)  # 15.682 -> 16.9 is x1.08; 0.5 -> 0.4 x1.25
    assert [(o.kwargs["statistic"], o.success) for o in tight] == [("min", False)]


def test_min_or_max_beyond_max_ratio_is_a_warning():
    before, after = prof(so_ho=number(50.0, 1.0, 100.0)), prof(so_ho=number(52.0, 1.0, 100_000.0))
    (outcome,) = compare(before, after, DriftSpec(), 4)
    assert outcome.kwargs == {"column": "so_ho", "statistic": "max"}
    assert outcome.severity == "warn" and not outcome.success
    assert outcome.message.startswith("max of so_ho went from 100 (version 4) to 100000 (x1000")


def test_a_median_sign_change_blocks_and_zero_medians_are_not_compared():
    (flip,) = compare(prof(t=number(2.0, -5.0, 5.0)), prof(t=number(-2.0, -5.0, 5.0)), DriftSpec(), 1)
    assert (
        flip.severity == "error" and "sign changed" in flip.message and flip.observed_value["ratio"] is None
    )
    assert compare(prof(t=number(0.0)), prof(t=number(500.0)), DriftSpec(), 1)[0].success


def test_text_distinct_count_changes_warn_when_both_counts_are_at_least_ten():
    def text(distinct: int) -> dict:
        return {"type": "string", "nulls": 0, "distinct": distinct}

    (outcome,) = compare(prof(ten=text(168)), prof(ten=text(3)), DriftSpec(), 2)  # 3 < 10
    assert outcome.success
    (outcome,) = compare(prof(ten=text(168)), prof(ten=text(12)), DriftSpec(), 2)  # ÷14
    assert not outcome.success and outcome.severity == "warn"
    assert outcome.message.startswith("distinct values of ten went from 168 (version 2) to 12 (÷14")


def test_a_column_that_changed_type_or_disappeared_is_reported():
    before = prof(ma={"type": "string", "nulls": 0, "distinct": 168}, dien_tich_km2=number(15.0))
    after = prof(ma={"type": "int64", "nulls": 0, "min": 1, "median": 2, "max": 3})
    found = {o.column: o for o in compare(before, after, DriftSpec(), 5)}
    assert found["ma"].message.startswith("ma changed type from string (version 5) to int64")
    assert found["dien_tich_km2"].message.startswith("column dien_tich_km2 of version 5 is missing")
    assert all(o.severity == "warn" and not o.success for o in found.values())


class FakeLake:
    """The few Lake calls drift makes, on a dict of objects."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def get_json(self, key: str, default=None):
        return json.loads(self.objects[key]) if key in self.objects else default

    def get_bytes(self, key: str) -> bytes:
        return self.objects[key]

    def put(self, key: str, value) -> None:
        self.objects[key] = value if isinstance(value, bytes) else json.dumps(value).encode()


def published(lake: FakeLake, table: pa.Table, summary: dict | None) -> None:
    base = "published/so-noi-vu/phuong-xa/"
    sink = io.BytesIO()
    pq.write_table(table, sink)
    lake.put(base + "v3/phuong-xa.parquet", sink.getvalue())
    parts = [{"key": base + "v3/phuong-xa.parquet"}]
    manifest: dict = {"version": 3, "source": {"pull_id": "p1"}, "parts": parts, "files": {}}
    if summary is not None:
        lake.put(base + "v3/quality/summary.json", summary)
        manifest["files"]["quality_summary"] = {"key": base + "v3/quality/summary.json"}
    lake.put(base + "v3/_manifest.json", manifest)
    entry = {
        "version": 3,
        "manifest": base + "v3/_manifest.json",
        "created_at": "",
        "rows": 3,
        "content_hash": "",
    }
    lake.put(
        base + "_current.json",
        {"dataset": "phuong-xa", "agency": "so-noi-vu", "current": 3, "versions": [entry]},
    )


def check_input(lake: FakeLake, table: pa.Table) -> CheckInput:
    quality = parse_quality(SPEC)
    return CheckInput(SPEC, quality, lake, "p2", table, {}, Path("/nonexistent"), profile(table))  # type: ignore[arg-type]


def test_the_previous_profile_comes_from_the_published_summary_or_its_parquet():
    old = area_table([15.682, 2.5, 40.0])
    lake = FakeLake()
    assert previous_profile(lake, SPEC) is None  # type: ignore[arg-type]
    assert drift_outcomes(check_input(lake, old)) == []  # nothing published: no drift check
    stored = {"profile": prof(dien_tich_km2=number(7.0))}
    published(lake, old, stored)
    assert previous_profile(lake, SPEC) == (3, stored["profile"])  # type: ignore[arg-type]
    published(lake, old, {"score": 100})  # an older version: no profile in its summary
    assert previous_profile(lake, SPEC) == (3, profile(old))  # type: ignore[arg-type]
    found = drift_outcomes(check_input(lake, area_table([15682.0, 2500.0, 40000.0])))
    assert [(o.column, o.kwargs["statistic"]) for o in found] == [
        ("dien_tich_km2", s) for s in ("median", "min", "max")
    ]
    assert found[0].message.startswith("median of dien_tich_km2 went from 15.682 (version 3) to 15682")


def test_the_hook_numbers_every_non_gx_outcome_after_the_plan(monkeypatch):
    def second_check(data: CheckInput) -> list[ExpectationOutcome]:
        return [ExpectationOutcome(0, "citydata_fidelity", None, "error", "quality.fidelity", True)]

    lake = FakeLake()
    published(lake, area_table([15.682, 2.5, 40.0]), None)
    monkeypatch.setattr(non_gx, "CHECKS", [non_gx.drift_outcomes, second_check])
    outcomes = run_non_gx_checks(check_input(lake, area_table([15682.0, 2500.0, 40000.0])), first_index=7)
    drift = [(7, "citydata_drift"), (8, "citydata_drift"), (9, "citydata_drift")]
    assert [(o.index, o.type) for o in outcomes] == [*drift, (10, "citydata_fidelity")]


def test_a_number_column_read_as_integers_is_compared_across_the_type_change():
    before = prof(dien_tich_km2=number(15.682))
    after = prof(dien_tich_km2={"type": "int64", "nulls": 0, "min": 1000, "median": 15682, "max": 100000})
    found = {o.kwargs["statistic"]: o for o in compare(before, after, DriftSpec(), 2)}
    assert set(found) == {"type", "median", "min", "max"}
    assert found["type"].severity == "warn" and found["median"].severity == "error"
    assert found["median"].message.startswith("median of dien_tich_km2 went from 15.682 (version 2) to 15682")
