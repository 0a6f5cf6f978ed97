"""The quality gate against real S3 and real Great Expectations: a local CSV is pulled and cleaned,
then validated; results, quarantine, Data Docs and the Dagster blocking behaviour are checked."""

import io
import json
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from citydata.cli.quality import app as quality_app
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from ingest.clean import clean_pull
from ingest.pull import pull
from pipelines.datasets.assets import asset_key, build_dataset_assets, key_part
from pipelines.datasets.checks import CHECK_NAME, build_quality_checks
from pipelines.resources import S3Resource
from quality.reports import last_report, quality_keys
from quality.validate import validate_clean

pytestmark = pytest.mark.integration

CSV = (
    "Mã bãi;Tên bãi;Loại xe;Sức chứa;Phường\n"
    "B01;Bãi xe Nguyễn Huệ;xe máy;120;Phường Bến Nghé\n"
    "B02;Bãi xe chợ Bến Thành;ô tô;80;Phường Bến Thành\n"
    "B03;Bãi xe Công viên 23/9;xe máy;500;Phường Phạm Ngũ Lão\n"
    "B04;Bãi xe Lê Văn Sỹ;ô tô;45;Phường Võ Thị Sáu\n"
    "B05;Bãi xe Sân vận động;xe đạp;1000;Phường Tân Định\n"
    "B06;Bãi xe Đa Kao;xe máy;60;Phường Đa Kao\n"
)
CAPACITY_AT_MOST_200 = {
    "type": "expect_column_values_to_be_between",
    "args": {"column": "suc_chua", "min_value": 0, "max_value": 200},
}


def spec_for(name: str, unique: str, folder: Path, quality: dict[str, Any]) -> DatasetSpec:
    return DatasetSpec.model_validate(
        {
            "id": f"test-quality-{name}-{unique}",
            "agency": {"id": "so-gtvt-test", "title": {"vi": "Sở Giao thông Vận tải (thử nghiệm)"}},
            "title": {"vi": "Bãi giữ xe công cộng"},
            "description": {"vi": "Dữ liệu thử nghiệm"},
            "dublin_core": {"creator": "Sở GTVT", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
            "synthetic": True,
            "source": {"type": "local_file", "path": str(folder)},
            "schema": {
                "primary_key": ["ma_bai"],
                "columns": {
                    "ma_bai": {"nullable": False},
                    "suc_chua": {"type": "integer", "min": 0},
                    "loai_xe": {"values": ["xe máy", "ô tô", "xe đạp"]},
                    "phuong": {"admin_unit": "ward"},
                },
            },
            "cleaning": {"pii": "keep"},
            "quality": quality,
        }
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / "bai-giu-xe.csv").write_text(CSV, encoding="utf-8")
    return folder


def cleaned(settings: Settings, spec: DatasetSpec) -> tuple[Lake, str]:
    lake = Lake(settings)
    pulled = pull(spec, settings, lake)
    assert pulled.pull_id
    result = clean_pull(spec, settings, lake, pulled.pull_id)
    assert result.rows == 6 and result.rejected == 0, result
    return lake, pulled.pull_id


def parquet(lake: Lake, key: str) -> list[dict[str, Any]]:
    return pq.read_table(io.BytesIO(lake.get_bytes(key))).to_pylist()


def test_passing_batch_is_promotable_with_reports_and_data_docs(stack_ready, source, unique):
    quality = {
        "expectations": [
            {"type": "ExpectColumnValuesToMatchRegex", "args": {"column": "ma_bai", "regex": r"^B\d{2}$"}},
            {"type": "expect_table_row_count_to_be_between", "args": {"min_value": 1}},
        ]
    }
    spec = spec_for("pass", unique, source, quality)
    lake, pull_id = cleaned(stack_ready, spec)
    result = validate_clean(spec, stack_ready, lake, pull_id)

    assert result.success and not result.blocking and result.promotable and not result.partial
    # Every check passes, but nothing checks the values of two source columns: the score says so
    # (quality.result: each unchecked column weighs 1 with q = 0).
    assert result.unchecked_columns == ["ten_bai", "phuong"]
    assert {"ma_bai", "loai_xe", "suc_chua"} <= set(result.covered_columns)
    weight = sum(3 if o.severity == "error" else 1 for o in result.expectations)
    assert result.score == round(100 * weight / (weight + 2), 2) and result.rows == 6
    keys = quality_keys(spec, pull_id)
    assert result.publish_key == keys["data"]
    labels = {o.label for o in result.expectations}
    assert {
        "expect_column_values_to_be_unique(ma_bai)",
        "expect_column_values_to_be_in_set(province_code)",
        "expect_column_values_to_match_regex(ward_code)",
        "expect_column_values_to_match_regex(ma_bai)",
    } <= labels
    assert not lake.exists(keys["failed"]) and not lake.exists(keys["validated"])

    validation = lake.get_json(keys["validation"])
    expectations = [o for o in result.expectations if not o.type.startswith("citydata_")]  # GX's own
    assert validation["success"] is True and len(validation["results"]) == len(expectations)
    fidelity = next(o for o in result.expectations if o.type == "citydata_fidelity")  # the non-GX check
    checked = fidelity.observed_value  # every cell of the 6 rows and 5 columns, against the CSV
    assert fidelity.success and (checked["rows_checked"], checked["cells_checked"]) == (6, 30)
    summary = lake.get_json(keys["summary"])
    assert summary["score"] == result.score and summary["promotable"] is True
    assert (
        summary["unchecked_columns"] == ["ten_bai", "phuong"] and "suc_chua" in summary["profile"]["columns"]
    )
    docs = set(lake.keys(keys["data_docs"].rsplit("/", 1)[0] + "/"))
    assert keys["data_docs"] in docs  # .../data_docs/index.html
    assert any("/validations/" in k and k.endswith(".html") for k in docs)
    (page,) = [k for k in docs if "/validations/" in k and "/data_docs/en/" not in k]  # Vietnamese
    html = lake.get_bytes(page).decode()
    assert "Kết quả kiểm tra chất lượng" in html and "ma_bai" in html and "ward_code" in html
    (english,) = [k for k in docs if "/data_docs/en/validations/" in k]
    assert "Expectation Validation Result" in lake.get_bytes(english).decode()
    stat = lake.client.stat_object(lake.bucket, keys["data_docs"])
    assert (stat.content_type or "").startswith("text/html")

    latest = last_report(lake, spec)
    assert latest is not None and latest.pull_id == pull_id and latest.score == result.score


def test_error_failure_blocks_promotion_and_quarantines_the_rows(stack_ready, source, unique):
    spec = spec_for("error", unique, source, {"expectations": [CAPACITY_AT_MOST_200]})
    lake, pull_id = cleaned(stack_ready, spec)
    result = validate_clean(spec, stack_ready, lake, pull_id)

    assert result.blocking and not result.promotable and result.publish_key is None
    (failure,) = result.failures
    assert failure.label == "expect_column_values_to_be_between(suc_chua)" and failure.severity == "error"
    assert failure.unexpected_count == 2 and sorted(failure.partial_unexpected_list) == [500, 1000]
    assert result.failed_rows == [2, 4] and result.score < 100
    keys = quality_keys(spec, pull_id)
    rows = parquet(lake, keys["failed"])
    assert [r["ma_bai"] for r in rows] == ["B03", "B05"]
    assert rows[0]["_reasons"] == "expect_column_values_to_be_between(suc_chua)"
    assert not lake.exists(keys["validated"])  # no partial publication without the spec's consent
    assert lake.get_json(keys["summary"])["promotable"] is False


def test_warn_failure_is_promoted_with_the_warning(stack_ready, source, unique):
    spec = spec_for("warn", unique, source, {"expectations": [{**CAPACITY_AT_MOST_200, "severity": "warn"}]})
    lake, pull_id = cleaned(stack_ready, spec)
    result = validate_clean(spec, stack_ready, lake, pull_id)

    assert not result.success and not result.blocking and result.promotable
    keys = quality_keys(spec, pull_id)
    assert result.publish_key == keys["data"]  # the whole batch goes on
    assert [o.severity for o in result.failures] == ["warn"]
    assert result.failed_rows == [] and result.warned_rows == [2, 4]
    assert [r["ma_bai"] for r in parquet(lake, keys["warned"])] == ["B03", "B05"]
    assert not lake.exists(keys["failed"])


def test_partial_publication_quarantines_exactly_the_failing_rows(stack_ready, source, unique, tmp_path):
    quality = {
        "partial_publication": True,
        "expectations": [
            CAPACITY_AT_MOST_200,
            {
                "type": "expect_column_values_to_not_be_in_set",
                "args": {"column": "loai_xe", "value_set": ["ô tô"]},
                "severity": "warn",
            },
        ],
    }
    spec = spec_for("partial", unique, source, quality)
    lake, pull_id = cleaned(stack_ready, spec)
    result = validate_clean(spec, stack_ready, lake, pull_id)

    keys = quality_keys(spec, pull_id)
    assert result.blocking and result.partial and result.promotable
    assert result.publish_key == keys["validated"]
    quarantined = parquet(lake, keys["failed"])
    assert [(r["_row"], r["ma_bai"]) for r in quarantined] == [(2, "B03"), (4, "B05")]
    assert all(r["suc_chua"] > 200 for r in quarantined)
    validated = parquet(lake, keys["validated"])
    assert [r["ma_bai"] for r in validated] == ["B01", "B02", "B04", "B06"]
    assert [r["ma_bai"] for r in parquet(lake, keys["warned"])] == ["B02", "B04"]  # kept, but flagged

    specs = _specs(spec, tmp_path / "specs")
    out = CliRunner().invoke(
        quality_app, ["report", spec.id, "--json"], env={"CITYDATA_SPECS_DIR": str(specs)}
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["pull_id"] == pull_id and report["partial"] is True and report["failed_row_count"] == 2


def _specs(spec: DatasetSpec, folder: Path) -> Path:
    """A specs folder holding this spec, for the CLI."""
    folder.mkdir()
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    (folder / f"{spec.id}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def test_rerun_replaces_the_previous_outputs(stack_ready, source, unique):
    spec = spec_for(
        "rerun", unique, source, {"partial_publication": True, "expectations": [CAPACITY_AT_MOST_200]}
    )
    lake, pull_id = cleaned(stack_ready, spec)
    keys = quality_keys(spec, pull_id)
    assert validate_clean(spec, stack_ready, lake, pull_id).partial
    assert lake.exists(keys["validated"])
    fixed = spec.model_copy(update={"quality": {"expectations": []}})
    again = validate_clean(fixed, stack_ready, lake, pull_id, data_docs=False)
    assert again.success and again.publish_key == keys["data"]
    assert not lake.exists(keys["validated"]) and not lake.exists(keys["failed"])  # no stale files


# --------------------------------------------------------------------------------------------------
# Dagster: the blocking check stops the assets downstream of clean
# --------------------------------------------------------------------------------------------------


def materialize_with_downstream(spec: DatasetSpec) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    ran: list[str] = []

    @dg.asset(key=[key_part(spec.id), "published"], deps=[asset_key(spec, "clean")])
    def published() -> None:
        ran.append("published")

    result = dg.materialize(
        [*build_dataset_assets(spec), *build_quality_checks(spec), published],
        resources={"s3": S3Resource()},
        raise_on_error=False,
    )
    return result, ran


def evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (found,) = [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK_NAME]
    return found


def test_dagster_error_failure_stops_downstream_assets(stack_ready, source, unique):
    spec = spec_for("dagster-error", unique, source, {"expectations": [CAPACITY_AT_MOST_200]})
    result, ran = materialize_with_downstream(spec)

    assert not result.success
    check = evaluation(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.asset_key == asset_key(spec, "clean")
    assert check.metadata["promotable"].value is False
    assert str(check.metadata["report"].value).endswith("/data_docs/index.html")
    assert ran == []  # the downstream asset never ran
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert asset_key(spec, "clean") in materialized
    assert dg.AssetKey([key_part(spec.id), "published"]) not in materialized


def test_dagster_warn_failure_lets_downstream_assets_run(stack_ready, source, unique):
    quality = {"expectations": [{**CAPACITY_AT_MOST_200, "severity": "warn"}]}
    spec = spec_for("dagster-warn", unique, source, quality)
    result, ran = materialize_with_downstream(spec)

    assert result.success
    check = evaluation(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    score = check.metadata["score"].value
    assert isinstance(score, float) and score < 100
    assert ran == ["published"]
