"""Schedules per dataset: cron from update_frequency, Ho Chi Minh City time, the whole graph."""

import dagster as dg
import pytest

from citydata.settings import load_settings
from citydata.spec.model import DatasetSpec
from pipelines.automation import DATASET_TAG, TIMEZONE, build_drop_zone_sensor, cron_for
from pipelines.datasets.factory import dataset_definitions
from pipelines.definitions import build_definitions


def make_spec(dataset_id: str, update_frequency: str, **extra) -> DatasetSpec:
    return DatasetSpec.model_validate(
        {
            "id": dataset_id,
            "agency": {"id": "so-tttt", "title": {"vi": "Sở Thông tin và Truyền thông"}},
            "title": {"vi": "Phản ánh của người dân"},
            "description": {"vi": "Phản ánh hiện trường"},
            "dublin_core": {"creator": "Sở TTTT", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
            "update_frequency": update_frequency,
            "source": {"type": "http_file", "url": "https://example.org/phan-anh.csv"},
            "schema": {"primary_key": ["ma"], "columns": {"ma": {}, "noi_dung": {}}},
            **extra,
        }
    )


LABELING = {"task_type": "text_classification", "labels": ["giao_thong", "khac"], "columns": ["noi_dung"]}


@pytest.mark.parametrize(
    ("alias", "cron"),
    [("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@weekly", "0 0 * * 0"), ("@monthly", "0 0 1 * *")],
)
def test_aliases_map_to_cron(alias, cron):
    assert cron_for(alias) == cron


def _defs(specs: list[DatasetSpec]) -> dg.Definitions:
    return build_definitions(specs, load_settings())


def test_daily_and_cron_schedules_target_each_dataset_whole_graph(monkeypatch):
    monkeypatch.delenv("CITYDATA_AUTOMATION__ENABLED", raising=False)
    daily = make_spec("phan-anh", "@daily", labeling=LABELING)
    weekly = make_spec("phan-anh-cu", "30 2 * * 1")  # a key prefix that starts like the other's
    defs = _defs([daily, weekly])
    repo = defs.get_repository_def()
    schedules = {s.name: s for s in repo.schedule_defs}
    assert set(schedules) == {"phan_anh_schedule", "phan_anh_cu_schedule"}

    s_daily, s_weekly = schedules["phan_anh_schedule"], schedules["phan_anh_cu_schedule"]
    assert s_daily.cron_schedule == "0 0 * * *"
    assert s_weekly.cron_schedule == "30 2 * * 1"
    assert s_daily.execution_timezone == s_weekly.execution_timezone == TIMEZONE == "Asia/Ho_Chi_Minh"
    assert s_daily.default_status == dg.DefaultScheduleStatus.STOPPED  # nothing runs unasked locally

    job = repo.get_job(s_daily.job_name)
    keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    stages = ("raw", "clean", "published", "catalog_entry")
    assert keys == {f"phan_anh/{s}" for s in (*stages, "labeling_tasks", "annotations")}
    weekly_job = repo.get_job(s_weekly.job_name)
    weekly_keys = {k.to_user_string() for k in weekly_job.asset_layer.selected_asset_keys}
    assert weekly_keys == {f"phan_anh_cu/{s}" for s in stages}

    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(instance=instance, repository_def=repo)
        data = s_daily.evaluate_tick(context)
    [request] = data.run_requests or []
    assert request.tags[DATASET_TAG] == "phan-anh"
    assert request.tags["citydata/trigger"] == "schedule"


def test_schedules_start_running_when_the_setting_says_so(monkeypatch):
    monkeypatch.setenv("CITYDATA_AUTOMATION__ENABLED", "true")
    schedule = dataset_definitions(make_spec("phan-anh", "@weekly"), load_settings()).schedule
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.cron_schedule == "0 0 * * 0"


def test_the_job_is_shared_and_tagged_with_its_dataset():
    dataset = dataset_definitions(make_spec("phan-anh", "@daily"), load_settings())
    assert dataset.schedule.job is dataset.job
    assert dataset.job.tags[DATASET_TAG] == "phan-anh"


def test_no_drop_zone_sensor_without_s3_drop_specs():
    spec = make_spec("phan-anh", "@daily")
    jobs = {spec.id: dataset_definitions(spec, load_settings()).job}
    assert build_drop_zone_sensor([spec], jobs, load_settings()) == []
