"""The run-failure sensor: an alert line, and a JSON POST to a real HTTP server on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import dagster as dg
import pytest

from pipelines.automation import DATASET_TAG, FAILURE_SENSOR_NAME, build_failure_sensor

SECRET = "tok-very-secret-4242"


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []
    answers: ClassVar[list[int]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.received.append({"path": self.path, "type": self.headers["Content-Type"], "body": body})
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received, Receiver.answers = [], [503]  # the first attempt fails: the alert is retried
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/{SECRET}"
    server.shutdown()
    server.server_close()


@dg.asset(key=["phan_anh", "clean"])
def broken_clean() -> None:
    raise ValueError(f"cannot read s3://citydata-lake/x with key {SECRET}")


def _failure_context(instance: dg.DagsterInstance) -> dg.RunFailureSensorContext:
    result = dg.materialize(
        [broken_clean], instance=instance, raise_on_error=False, tags={DATASET_TAG: "phan-anh"}
    )
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    [entry] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return dg.build_run_status_sensor_context(
        sensor_name=FAILURE_SENSOR_NAME,
        dagster_event=entry.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
    ).for_run_failure()


def test_failure_posts_the_alert_to_the_webhook(monkeypatch, receiver, caplog):
    monkeypatch.setenv("CITYDATA_ALERTS__WEBHOOK_URL", receiver)
    monkeypatch.setenv("CITYDATA_CKAN__API_TOKEN", SECRET)  # a known secret: masked in the alert
    sensor = build_failure_sensor()
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    with dg.DagsterInstance.ephemeral() as instance:
        context = _failure_context(instance)
        with caplog.at_level("ERROR"):
            sensor(context)

    [post] = Receiver.received
    assert post["path"] == f"/hooks/{SECRET}"
    assert post["type"] == "application/json"
    payload = json.loads(post["body"])
    assert payload["event"] == "run_failure"
    assert payload["dataset"] == "phan-anh"
    assert payload["run_id"] == context.dagster_run.run_id
    assert payload["steps"] == [
        {"step": "phan_anh__clean", "asset": "phan_anh/clean", "error": payload["steps"][0]["error"]}
    ]
    assert "cannot read s3://citydata-lake/x" in payload["error"]
    assert SECRET not in post["body"].decode()  # neither the token nor the webhook URL leaks
    assert payload["run_url"].endswith(f"/runs/{payload['run_id']}")

    alert_lines = [r.getMessage() for r in caplog.records if "ALERT run failed" in r.getMessage()]
    assert alert_lines and "dataset=phan-anh" in alert_lines[0] and "phan_anh/clean" in alert_lines[0]
    assert not any(SECRET in r.getMessage() for r in caplog.records)


def test_without_a_webhook_only_the_log_line(monkeypatch, receiver, caplog):
    monkeypatch.delenv("CITYDATA_ALERTS__WEBHOOK_URL", raising=False)
    with dg.DagsterInstance.ephemeral() as instance:
        context = _failure_context(instance)
        with caplog.at_level("ERROR"):
            build_failure_sensor()(context)
    assert Receiver.received == []
    assert any("ALERT run failed: dataset=phan-anh" in r.getMessage() for r in caplog.records)


def test_an_unreachable_webhook_does_not_raise(monkeypatch, caplog):
    url = "http://127.0.0.1:9/hooks/another-secret-path"  # the discard port: nothing listens
    monkeypatch.setenv("CITYDATA_ALERTS__WEBHOOK_URL", url)
    with dg.DagsterInstance.ephemeral() as instance:
        context = _failure_context(instance)
        build_failure_sensor()(context)  # logs, retries, gives up; never raises
    messages = [r.getMessage() for r in caplog.records]
    assert any("attempt 3/3 failed" in m for m in messages)
    assert not any("another-secret-path" in m for m in messages)
