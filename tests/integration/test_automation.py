"""Automation against the real stack: the drop-zone sensor on the real S3, `citydata status --json`."""

import io
import json
import textwrap
from datetime import UTC, datetime

import dagster as dg
import pytest
import typer
from typer.testing import CliRunner

from citydata.clients import s3_client
from citydata.settings import load_settings
from citydata.spec import load_spec
from citydata.storage.lake import Lake
from pipelines.automation import DATASET_TAG, DROP_SENSOR_NAME, build_drop_zone_sensor, dataset_job, job_name
from pipelines.resources import S3Resource

pytestmark = pytest.mark.integration

CSV = "ma,noi_dung\n1,Kẹt xe đường Điện Biên Phủ\n2,Ngập nước Nguyễn Hữu Cảnh\n".encode()
STATUS_FIELDS = {
    "dataset",
    "agency",
    "update_frequency",
    "last_run",
    "result",
    "materialized_at",
    "quality",
    "published",
    "labeling",
    "errors",
}


def spec_text(dataset_id: str, prefix: str) -> str:
    return textwrap.dedent(
        f"""\
        id: {dataset_id}
        agency: {{id: so-tttt-test, title: {{vi: Sở Thông tin và Truyền thông}}}}
        title: {{vi: Phản ánh hiện trường (thử)}}
        description: {{vi: Dữ liệu thử của kiểm thử tự động hoá}}
        dublin_core: {{creator: Sở TTTT, publisher: UBND TP.HCM, date: 2025-07-01}}
        update_frequency: "*/15 * * * *"
        source: {{type: s3_drop, prefix: "{prefix}", pattern: "*.csv"}}
        schema:
          primary_key: [ma]
          columns: {{ma: {{type: integer}}, noi_dung: {{}}}}
        """
    )


def _remove_tree(client, bucket: str, folder: str) -> None:
    for obj in client.list_objects(bucket, prefix=folder, recursive=False):
        if obj.object_name == folder:
            continue
        if obj.is_dir:
            _remove_tree(client, bucket, obj.object_name)
        else:
            client.remove_object(bucket, obj.object_name)
    client.remove_object(bucket, folder)


@pytest.fixture
def drop_spec(stack_ready, unique, tmp_path, monkeypatch):
    """A spec (in its own specs folder) whose drop zone is a unique, empty prefix."""
    client = s3_client(stack_ready)
    bucket = stack_ready.s3.drop_bucket
    folder = f"test-automation-{unique}/"
    dataset_id = f"test-auto-{unique}"
    specs = tmp_path / "specs"
    specs.mkdir()
    path = specs / f"{dataset_id}.yaml"
    path.write_text(spec_text(dataset_id, folder + "uploads/"), encoding="utf-8")
    monkeypatch.setenv("CITYDATA_SPECS_DIR", str(specs))

    def put(name: str, body: bytes = CSV) -> None:
        key = f"{folder}uploads/{name}"
        client.put_object(bucket, key, io.BytesIO(body), len(body), content_type="text/csv")

    yield load_spec(path), put
    _remove_tree(client, bucket, folder)


def test_drop_zone_sensor_requests_a_run_for_a_new_object_then_skips(drop_spec):
    spec, put = drop_spec
    settings = load_settings()
    [sensor] = build_drop_zone_sensor([spec], {spec.id: dataset_job(spec)}, settings)
    s3 = {"s3": S3Resource()}
    assert sensor.name == DROP_SENSOR_NAME and sensor.minimum_interval_seconds == 30
    with dg.DagsterInstance.ephemeral() as instance:
        empty = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=s3))
        assert not empty.run_requests and "no new objects" in (empty.skip_message or "")

        put("2025-07/phan-anh.csv")
        put("readme.txt", b"not matched by the pattern")
        first = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, resources=s3, cursor=empty.cursor)
        )
        [request] = first.run_requests or []
        assert request.job_name == job_name(spec)
        assert request.tags[DATASET_TAG] == spec.id
        assert request.tags["citydata/trigger"] == "drop_zone"
        assert request.tags["citydata/drop_key"].endswith("uploads/2025-07/phan-anh.csv")
        assert first.cursor and spec.id in json.loads(first.cursor)

        again = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, resources=s3, cursor=first.cursor)
        )
        assert not again.run_requests and again.skip_message

        put("phan-anh-2.CSV")  # a second upload: a new run, with a different run key
        second = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, resources=s3, cursor=again.cursor)
        )
        [request2] = second.run_requests or []
        assert request2.run_key != request.run_key
        assert request2.tags["citydata/drop_key"].endswith("uploads/phan-anh-2.CSV")


def test_status_json_reports_run_quality_published_and_labeling(stack_ready, drop_spec):
    from citydata.cli.run import _run_one
    from citydata.cli.status import status

    spec, put = drop_spec
    put("phan-anh.csv")
    result = _run_one(spec, ("raw", "clean"), verbose=False)  # a real run in the stack's Dagster
    assert result["ok"], result

    lake = Lake(stack_ready)
    published = f"published/{spec.agency.id}/{spec.id}/"
    now = datetime.now(UTC).isoformat()
    lake.put_json(
        published + "_current.json",
        {
            "dataset": spec.id,
            "agency": spec.agency.id,
            "current": 1,
            "versions": [
                {
                    "version": 1,
                    "manifest": published + "v1/_manifest.json",
                    "created_at": now,
                    "rows": 2,
                    "content_hash": "sha256:test",
                }
            ],
            "updated_at": now,
        },
    )
    state = f"state/{spec.id}/labeling.json"
    lake.put_json(state, {"project_id": None, "pushed_keys": ["a", "b", "c"], "last_pull_id": "p1"})
    try:
        app = typer.Typer()
        app.command()(status)
        out = CliRunner().invoke(app, ["--json"])
        assert out.exit_code == 0, out.output
        [row] = json.loads(out.stdout)
    finally:
        lake.client.remove_object(lake.bucket, published + "_current.json")
        lake.client.remove_object(lake.bucket, state)

    assert set(row) == STATUS_FIELDS
    assert row["dataset"] == spec.id and row["agency"] == "so-tttt-test"
    assert row["last_run"]["run_id"] == result["run_id"]
    assert row["last_run"]["status"] == "SUCCESS" and row["result"] == "success"
    assert row["last_run"]["trigger"] == "cli" and row["materialized_at"]
    assert row["quality"]["source"] == "dagster" and row["quality"]["passed"] is True
    assert 0 <= row["quality"]["score"] <= 100
    assert row["published"] == {"version": 1, "rows": 2, "updated_at": now}
    assert row["labeling"]["pushed_tasks"] == 3 and row["labeling"]["last_pull_id"] == "p1"
    assert row["errors"] == []

    table = CliRunner().invoke(app, [])
    assert table.exit_code == 0 and spec.id[:12] in table.stdout
