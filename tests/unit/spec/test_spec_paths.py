"""Relative paths in a spec mean its folder; `resolve_spec` finds a spec by id or by path."""

from pathlib import Path

import pytest

from citydata.spec import SpecError, load_spec, resolve_spec
from citydata.spec.fields import rebase_paths

SPEC = """\
id: {id}
agency: {{id: so-gtvt, title: {{vi: "Sở GTVT"}}}}
title: {{vi: "Bãi giữ xe"}}
description: {{vi: "Bãi giữ xe công cộng"}}
dublin_core: {{creator: Sở GTVT, publisher: UBND TP.HCM, date: 2025-07-01}}
source: {source}
"""


def write(folder: Path, dataset_id: str, source: str, suffix: str = ".yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dataset_id}{suffix}"
    path.write_text(SPEC.format(id=dataset_id, source=source), encoding="utf-8")
    return path


def test_a_relative_path_is_relative_to_the_specs_folder_not_the_working_folder(tmp_path, monkeypatch):
    spec_path = write(tmp_path / "a" / "b", "bai-giu-xe", "{type: local_file, path: data/x.csv}")
    monkeypatch.chdir(tmp_path)  # another folder than the spec's
    assert load_spec(Path("a/b/bai-giu-xe.yaml")).source.path == tmp_path / "a" / "b" / "data" / "x.csv"  # type: ignore[attr-defined]
    assert load_spec(spec_path).source.path == tmp_path / "a" / "b" / "data" / "x.csv"  # type: ignore[attr-defined]


@pytest.mark.parametrize("kept", ["/srv/exports/x.csv", "/dev/null"])
def test_absolute_paths_are_kept(tmp_path, kept):
    spec = load_spec(write(tmp_path, "bai-giu-xe", f"{{type: local_file, path: {kept}}}"))
    assert spec.source.path == Path(kept)  # type: ignore[attr-defined]


def test_home_paths_are_expanded_not_rebased(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    spec = load_spec(write(tmp_path / "specs", "bai-giu-xe", "{type: local_file, path: ~/exports}"))
    assert spec.source.path == tmp_path / "home" / "exports"  # type: ignore[attr-defined]


def test_urls_are_untouched(tmp_path):
    url = "https://data.example.gov.vn/x.csv"
    spec = load_spec(write(tmp_path, "bai-giu-xe", f"{{type: http_file, url: '{url}'}}"))
    assert spec.source.url == url  # type: ignore[attr-defined]


def test_rebasing_reaches_nested_models_and_lists(tmp_path):
    from pydantic import BaseModel

    class Inner(BaseModel):
        files: list[Path]
        url_like: Path

    class Outer(BaseModel):
        inner: Inner
        name: str

    out = rebase_paths(
        Outer(inner=Inner(files=[Path("a.csv"), Path("/abs.csv")], url_like=Path("s3://b/k")), name="x"),
        tmp_path,
    )
    assert out.inner.files == [tmp_path / "a.csv", Path("/abs.csv")]
    assert out.inner.url_like == Path("s3://b/k")
    assert out.name == "x"


def test_resolve_spec_by_id_looks_in_the_specs_folder(tmp_path, monkeypatch):
    specs = tmp_path / "specs"
    path = write(specs, "bai-giu-xe", "{type: local_file, path: data/x.csv}")
    write(specs, "tram-sac", "{type: local_file, path: y.csv}", suffix=".yml")
    monkeypatch.setenv("CITYDATA_SPECS_DIR", str(specs))
    spec, found = resolve_spec("bai-giu-xe")
    assert (spec.id, found) == ("bai-giu-xe", path)
    assert spec.source.path == specs / "data" / "x.csv"  # type: ignore[attr-defined]
    assert resolve_spec("tram-sac")[0].id == "tram-sac"


def test_resolve_spec_by_path_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYDATA_SPECS_DIR", str(tmp_path / "empty"))
    path = write(tmp_path / "elsewhere", "bai-giu-xe", "{type: local_file, path: x.csv}")
    assert resolve_spec(str(path)) == (load_spec(path), path)
    monkeypatch.chdir(tmp_path)
    spec, found = resolve_spec("elsewhere/bai-giu-xe.yaml")
    assert found == Path("elsewhere/bai-giu-xe.yaml")
    assert spec.source.path == tmp_path / "elsewhere" / "x.csv"  # type: ignore[attr-defined]


@pytest.mark.parametrize("arg", ["khong-co", "../specs/bai-giu-xe", "missing.yaml"])
def test_resolve_spec_reports_what_it_cannot_find(tmp_path, monkeypatch, arg):
    write(tmp_path / "specs", "bai-giu-xe", "{type: local_file, path: x.csv}")
    monkeypatch.setenv("CITYDATA_SPECS_DIR", str(tmp_path / "specs" / "inner"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as err:
        resolve_spec(arg)
    assert "no dataset spec" in str(err.value) or "no such spec file" in str(err.value)


def test_resolve_spec_raises_the_specs_own_problems(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYDATA_SPECS_DIR", str(tmp_path))
    write(tmp_path, "bai-giu-xe", "{type: local_file}")
    with pytest.raises(SpecError, match=r"bai-giu-xe.yaml:6: source.path: Field required"):
        resolve_spec("bai-giu-xe")
