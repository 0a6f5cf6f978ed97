"""The production profile (profiles/production.env) selects external services and a Dagster
instance on PostgreSQL with a Celery or Kubernetes executor; Dagster's own schema accepts the
instance configuration generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from citydata.dagster_instance import dagster_environment
from citydata.settings import REPO_ROOT, load_settings

SECRET_URL = "postgresql://dagster:s3cret@pg.example.gov.vn:5432/dagster"


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CITYDATA_PROFILE", "production")
    monkeypatch.setenv("CITYDATA_STACK_DIR", str(tmp_path))
    monkeypatch.setenv("CITYDATA_DAGSTER__POSTGRES_URL", SECRET_URL)  # from the secret store
    (tmp_path / "citydata.env").write_text(  # a local stack's file loses to the profile
        "CITYDATA_S3__ENDPOINT=127.0.0.1:19000\nCITYDATA_DAGSTER__STORAGE=sqlite\n"
    )
    return tmp_path


def _validated(home: str) -> dict:
    config, custom_class = dagster_instance_config(home)  # raises on any schema error
    assert custom_class is None
    return dict(config)


def test_profile_points_at_external_services_with_postgres_storage_and_celery(production):
    settings = load_settings()
    assert settings.s3.endpoint == "minio.data.hochiminhcity.example.gov.vn:9000" and settings.s3.secure
    assert settings.ckan.url.startswith("https://") and settings.label_studio.url.startswith("https://")
    assert settings.dagster.storage == "postgres" and settings.dagster.executor == "celery"

    env = dagster_environment(settings)
    assert env["CITYDATA_DAGSTER__POSTGRES_URL"] == SECRET_URL
    config = _validated(env["DAGSTER_HOME"])
    assert config["storage"] == {"postgres": {"postgres_url": {"env": "CITYDATA_DAGSTER_STORAGE_URL"}}}
    assert config["run_launcher"]["class"] == "MonitoredRunLauncher"  # run workers, steps on Celery
    assert config["run_coordinator"]["config"]["max_concurrent_runs"] == 8
    assert config["run_monitoring"]["enabled"] and config["run_retries"]["max_retries"] == 1
    assert "s3cret" not in (Path(env["DAGSTER_HOME"]) / "dagster.yaml").read_text()


def test_profile_with_kubernetes_selects_the_k8s_run_launcher(production, monkeypatch):
    monkeypatch.setenv("CITYDATA_DAGSTER__EXECUTOR", "k8s")
    config = _validated(dagster_environment(load_settings())["DAGSTER_HOME"])
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    assert launcher["config"]["job_image"] == "registry.hochiminhcity.example.gov.vn/citydata:latest"
    assert launcher["config"]["instance_config_map"] == "citydata-dagster-instance"
    assert config["storage"]["postgres"]


def test_the_executor_is_chosen_by_configuration(production, monkeypatch):
    """Celery and Kubernetes are extras, not installed locally: choosing one names its extra."""
    from pipelines.executors import chosen_executor

    with pytest.raises(ImportError, match="`celery` extra"):
        chosen_executor(load_settings())
    monkeypatch.setenv("CITYDATA_DAGSTER__EXECUTOR", "k8s")
    with pytest.raises(ImportError, match="`k8s` extra"):
        chosen_executor(load_settings())
    monkeypatch.setenv("CITYDATA_DAGSTER__EXECUTOR", "multiprocess")
    assert chosen_executor(load_settings()).name == "multiprocess"


def test_the_local_instance_starts_on_the_generated_config(monkeypatch, tmp_path):
    """The SQLite variant, instantiated for real: Dagster accepts it and the project's launcher."""
    import dagster as dg

    monkeypatch.setenv("CITYDATA_STACK_DIR", str(tmp_path))
    monkeypatch.setenv("CITYDATA_DAGSTER__STORAGE", "sqlite")
    for key, value in dagster_environment(load_settings()).items():
        monkeypatch.setenv(key, value)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_launcher).__name__ == "MonitoredRunLauncher"
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"


def test_profile_is_documented():
    text = (REPO_ROOT / "profiles" / "production.env").read_text()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key = line.split("=", 1)[0]
            assert not any(s in key for s in ("SECRET", "TOKEN", "PASSWORD", "POSTGRES_URL")), key
    assert yaml is not None
