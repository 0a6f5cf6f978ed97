"""`run`, `datasets show|check`, `quality …` and `label …` take a spec's id or its path."""

import json
from pathlib import Path

from typer.testing import CliRunner

from citydata.cli import app
from citydata.cli.exit_codes import ExitCode

runner = CliRunner()
SPEC = """\
id: bai-giu-xe
agency: {id: so-gtvt, title: {vi: "Sở GTVT"}}
title: {vi: "Bãi giữ xe"}
description: {vi: "Bãi giữ xe công cộng"}
dublin_core: {creator: Sở GTVT, publisher: UBND TP.HCM, date: 2025-07-01}
source: {type: local_file, path: data/bai-giu-xe.csv}
"""


def _specs(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "agency-specs"
    folder.mkdir()
    (folder / "bai-giu-xe.yaml").write_text(SPEC, encoding="utf-8")
    monkeypatch.setenv("CITYDATA_SPECS_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    return folder


def test_show_by_path_resolves_relative_paths_from_the_specs_folder(tmp_path, monkeypatch):
    folder = _specs(tmp_path, monkeypatch)
    result = runner.invoke(app, ["datasets", "show", "agency-specs/bai-giu-xe.yaml"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"]["path"] == str(folder.absolute() / "data" / "bai-giu-xe.csv")


def test_check_takes_an_id_a_path_or_a_folder(tmp_path, monkeypatch):
    folder = _specs(tmp_path, monkeypatch)
    for arg in ["agency-specs/bai-giu-xe.yaml", "agency-specs"]:
        result = runner.invoke(app, ["datasets", "check", arg, "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["valid"] == ["bai-giu-xe"]
    monkeypatch.setenv("CITYDATA_SPECS_DIR", str(folder))
    result = runner.invoke(app, ["datasets", "check", "bai-giu-xe", "--json"])
    assert json.loads(result.stdout)["valid"] == ["bai-giu-xe"]


def test_an_unknown_id_or_a_bad_spec_names_the_file_line_and_field(tmp_path, monkeypatch):
    folder = _specs(tmp_path, monkeypatch)
    result = runner.invoke(app, ["run", "tram-sac"])
    assert result.exit_code == ExitCode.FAILED
    assert "no dataset spec 'tram-sac'" in result.output
    (folder / "bai-giu-xe.yaml").write_text(SPEC.replace("path: data", "pth: data"), encoding="utf-8")
    result = runner.invoke(app, ["run", str(folder / "bai-giu-xe.yaml")])
    assert result.exit_code == ExitCode.FAILED
    # the path as typed from the working folder, unwrapped although the line is long
    line = "    agency-specs/bai-giu-xe.yaml:6: source.pth: unknown field; did you mean 'path'?"
    assert line in result.output.splitlines()
