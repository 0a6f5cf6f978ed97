from citydata.settings import Settings, dagster_environment


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


def test_dagster_storage_is_selected_by_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CITYDATA_DAGSTER__STORAGE", "postgres")
    monkeypatch.setenv("CITYDATA_DAGSTER__POSTGRES_URL", "postgresql://u:p@db/dagster")
    env = dagster_environment(Settings(_env_file=tmp_path / "none.env"))  # type: ignore[call-arg]
    assert env["DAGSTER_HOME"].endswith("dagster_home/postgres")
    assert env["CITYDATA_DAGSTER__POSTGRES_URL"] == "postgresql://u:p@db/dagster"
    monkeypatch.setenv("CITYDATA_DAGSTER__STORAGE", "sqlite")
    env = dagster_environment(Settings(_env_file=tmp_path / "none.env"))  # type: ignore[call-arg]
    assert env["DAGSTER_HOME"].endswith("dagster_home")
    assert "CITYDATA_DAGSTER__POSTGRES_URL" not in env


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
