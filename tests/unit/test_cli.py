import json

from typer.testing import CliRunner

import citydata.cli.doctor as doctor_module
from citydata.cli import app
from citydata.cli.exit_codes import ExitCode
from stack.prereqs import PREREQUISITES, Prerequisite

runner = CliRunner()


def test_doctor_names_the_missing_prerequisite_and_its_fix(monkeypatch):
    missing = Prerequisite("Frobnicator", ("frobnicator-bin",), lambda: False, "testing")
    monkeypatch.setattr(doctor_module, "PREREQUISITES", (*PREREQUISITES, missing))
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == ExitCode.PREREQUISITES
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["Frobnicator"] == {
        "name": "Frobnicator",
        "ok": False,
        "needed_for": "testing",
        "fix": "apt-get install -y frobnicator-bin",
    }


def test_logs_of_unknown_service_fails_with_its_name():
    result = runner.invoke(app, ["stack", "logs", "nosuchservice"])
    assert result.exit_code == ExitCode.FAILED
    assert "nosuchservice" in result.output


def test_status_json_has_the_documented_fields(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYDATA_STACK_DIR", str(tmp_path / "empty-stack"))
    result = runner.invoke(app, ["stack", "status", "--json"])
    assert result.exit_code == ExitCode.UNHEALTHY  # nothing runs in an empty stack folder
    statuses = json.loads(result.stdout)
    assert statuses and all({"name", "url", "healthy", "pid"} <= set(s) for s in statuses)
    assert not any(s["healthy"] for s in statuses)
