from citydata.dagster_instance import dagster_environment
from citydata.settings import Settings


def test_env_file_values_are_read_and_environment_wins(tmp_path, monkeypatch):
    env_file = tmp_path / "citydata.env"
    env_file.write_text("CITYDATA_S3__ENDPOINT=127.0.0.1:1234\nCITYDATA_CKAN__URL=http://file\n")
    monkeypatch.setenv("CITYDATA_CKAN__URL", "https://ckan.example.org")
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.s3.endpoint == "127.0.0.1:1234"
    assert settings.ckan.url == "https://ckan.example.org"


def test_secrets_are_not_shown_in_repr(tmp_path):
    env_file = tmp_path / "citydata.env"
    env_file.write_text("CITYDATA_S3__SECRET_KEY=supersecretvalue\n")
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.s3.secret_key.get_secret_value() == "supersecretvalue"
    assert "supersecretvalue" not in repr(settings)


def test_dagster_storage_is_postgres_by_default_and_sqlite_only_when_chosen(monkeypatch, tmp_path):
    import yaml

    monkeypatch.setenv("CITYDATA_DAGSTER__POSTGRES_URL", "postgresql://u:p@db/dagster")
    settings = Settings(_env_file=tmp_path / "none.env", stack_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.dagster.storage == "postgres"
    env = dagster_environment(settings)
    assert env["DAGSTER_HOME"] == str(tmp_path / "dagster_home")
    assert env["CITYDATA_DAGSTER__POSTGRES_URL"] == "postgresql://u:p@db/dagster"
    assert env["CITYDATA_DAGSTER_STORAGE_URL"] == "postgresql+psycopg2://u:p@db/dagster"  # not psycopg 3
    instance = yaml.safe_load((tmp_path / "dagster_home" / "dagster.yaml").read_text())
    assert instance["storage"] == {"postgres": {"postgres_url": {"env": "CITYDATA_DAGSTER_STORAGE_URL"}}}
    assert "postgresql://" not in (tmp_path / "dagster_home" / "dagster.yaml").read_text()  # no secret

    monkeypatch.setenv("CITYDATA_DAGSTER__STORAGE", "sqlite")
    settings = Settings(_env_file=tmp_path / "none.env", stack_dir=tmp_path)  # type: ignore[call-arg]
    env = dagster_environment(settings)
    assert "CITYDATA_DAGSTER__POSTGRES_URL" not in env
    instance = yaml.safe_load((tmp_path / "dagster_home" / "dagster.yaml").read_text())
    assert instance["storage"] == {"sqlite": {"base_dir": {"env": "CITYDATA_DAGSTER_STORAGE_DIR"}}}


def test_postgres_storage_without_a_url_is_a_clear_error(tmp_path):
    import pytest

    settings = Settings(_env_file=tmp_path / "none.env", stack_dir=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match=r"CITYDATA_DAGSTER__POSTGRES_URL is not set.*stack up"):
        dagster_environment(settings)


def test_every_default_port_is_below_the_ephemeral_range(tmp_path):
    """An outgoing connection takes its local port from 32768-60999 (Linux's default
    ip_local_port_range): a service port in that range can be taken before the service starts."""
    from citydata.envfile import EnvFile
    from stack.manager import Stack
    from stack.paths import StackPaths
    from stack.service import StackContext

    paths = StackPaths(tmp_path / "stack")
    settings = Settings(_env_file=tmp_path / "none.env", stack_dir=paths.root)  # type: ignore[call-arg]
    ctx = StackContext(paths=paths, env_file=EnvFile(paths.env_file), settings=settings)
    ports = {f"{s.name}.{role}": port for s in Stack(ctx).services for role, port in s.ports().items()}
    assert len(ports) >= 12  # every service, SeaweedFS's internal and gRPC ports included
    assert {name: port for name, port in ports.items() if port >= 32768} == {}
    assert len(set(ports.values())) == len(ports)  # no two on the same port
