"""Typed settings for every citydata component.

Local defaults point at the stack that `citydata stack up` runs on 127.0.0.1.
The stack writes its endpoints and generated credentials to `<stack dir>/citydata.env`
(mode 0600), which is read here; real environment variables win over that file, so
the same code runs against production services by exporting, for example,
`CITYDATA_S3__ENDPOINT=minio.example.org:9000` or `CITYDATA_CKAN__URL=https://...`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from citydata.retry import attempts_from_retries

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_stack_dir() -> Path:
    return Path(os.environ.get("CITYDATA_STACK_DIR", REPO_ROOT / ".stack")).resolve()


def stack_env_file() -> Path:
    return default_stack_dir() / "citydata.env"


class S3Settings(BaseModel):
    """S3-compatible object storage (SeaweedFS locally, MinIO or any S3 in production)."""

    endpoint: str = "127.0.0.1:19000"  # host:port, as the minio SDK wants it
    secure: bool = False
    access_key: SecretStr = SecretStr("")
    secret_key: SecretStr = SecretStr("")
    region: str = "us-east-1"
    lake_bucket: str = "citydata-lake"
    drop_bucket: str = "citydata-drop"
    labeling_bucket: str = "citydata-labeling"

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    @property
    def buckets(self) -> list[str]:
        return [self.lake_bucket, self.drop_bucket, self.labeling_bucket]


class PostgresSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 15432
    superuser: str = "postgres"
    password: SecretStr = SecretStr("")  # the superuser's password (TCP, scram-sha-256)

    def dsn(self, database: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        pw = password if password is not None else self.password.get_secret_value()
        return f"postgresql://{user or self.superuser}:{pw}@{self.host}:{self.port}/{database}"


class RedisSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 16379
    password: SecretStr = SecretStr("")

    def url(self, db: int = 0) -> str:
        auth = f":{self.password.get_secret_value()}@" if self.password.get_secret_value() else ""
        return f"redis://{auth}{self.host}:{self.port}/{db}"


class SolrSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 18983
    core: str = "ckan"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/solr/{self.core}"


class CkanSettings(BaseModel):
    url: str = "http://127.0.0.1:15000"
    api_token: SecretStr = SecretStr("")
    sysadmin: str = "citydata_admin"
    sysadmin_password: SecretStr = SecretStr("")
    timeout_s: float = 60.0
    # PostgreSQL URL of the DataStore's write role (CKAN's `ckan.datastore.write_url`): when set,
    # DataStore rows are loaded with COPY instead of the action API (see catalog.datastore).
    datastore_write_url: SecretStr | None = None
    # Transient failures (no answer, 429/500/502/503/504) are retried with the project's policy
    # (citydata.retry): `attempts` tries in all, the first included; waits of backoff_s,
    # 2*backoff_s, ... plus jitter (each at most backoff_max_s), then CatalogUnavailable.
    # The former `retries` (retries after the first) is read as attempts = retries + 1.
    attempts: int = Field(4, ge=1, le=21)
    backoff_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(8.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _deprecated_retries(cls, data: Any) -> Any:
        return attempts_from_retries(
            data, "CITYDATA_CKAN__RETRIES={retries}", "CITYDATA_CKAN__ATTEMPTS={attempts}"
        )


class LabelStudioSettings(BaseModel):
    url: str = "http://127.0.0.1:18080"
    api_token: SecretStr = SecretStr("")
    username: str = "admin@citydata.local"
    password: SecretStr = SecretStr("")


class DagsterSettings(BaseModel):
    webserver_url: str = "http://127.0.0.1:13000"
    # "sqlite" keeps run storage under the stack folder; "postgres" uses postgres_url.
    storage: Literal["sqlite", "postgres"] = "sqlite"
    postgres_url: SecretStr = SecretStr("")
    executor: Literal["in_process", "multiprocess"] = "in_process"


class SamplesSettings(BaseModel):
    # The sample specs in `datasets/` point at this default port.
    port: int = 18090


class AutomationSettings(BaseModel):
    # Schedules and the drop-zone sensor start stopped locally, so the stack runs nothing unasked.
    enabled: bool = False


class AlertSettings(BaseModel):
    webhook_url: SecretStr | None = None  # Slack/Teams-style URLs carry a token


def default_assets_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "citydata" / "data-docs-assets"


class DataDocsSettings(BaseModel):
    """Quality reports (GX Data Docs): where their browser libraries come from and are kept."""

    npm_registry: str = "https://registry.npmjs.org"  # or an internal mirror
    assets_dir: Path = Field(default_factory=default_assets_dir)  # shared by every stack folder
    english: bool = True  # an English copy of the pages under data_docs/en/


class Settings(BaseSettings):
    """All settings; nested fields are set with `CITYDATA_<SECTION>__<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix="CITYDATA_",
        env_nested_delimiter="__",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    stack_dir: Path = Field(default_factory=default_stack_dir)
    specs_dir: Path = REPO_ROOT / "datasets"  # one YAML spec per dataset
    s3: S3Settings = S3Settings()
    postgres: PostgresSettings = PostgresSettings()
    redis: RedisSettings = RedisSettings()
    solr: SolrSettings = SolrSettings()
    ckan: CkanSettings = CkanSettings()
    label_studio: LabelStudioSettings = LabelStudioSettings()
    dagster: DagsterSettings = DagsterSettings()
    automation: AutomationSettings = AutomationSettings()
    alerts: AlertSettings = AlertSettings()
    samples: SamplesSettings = SamplesSettings()
    data_docs: DataDocsSettings = DataDocsSettings()


def load_settings() -> Settings:
    """Fresh settings: environment first, then the stack's generated file."""
    return Settings(_env_file=stack_env_file())  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def dagster_environment(settings: Settings) -> dict[str, str]:
    """Environment for Dagster processes: which instance file, and where its storage lives."""
    storage_dir = settings.stack_dir / "data" / "dagster"
    home = REPO_ROOT / "dagster_home"
    env = {
        "DAGSTER_HOME": str(home / "postgres" if settings.dagster.storage == "postgres" else home),
        "CITYDATA_DAGSTER_STORAGE_DIR": str(storage_dir / "storage"),
        "CITYDATA_DAGSTER_COMPUTE_LOG_DIR": str(storage_dir / "compute_logs"),
    }
    if settings.dagster.storage == "postgres":
        env["CITYDATA_DAGSTER__POSTGRES_URL"] = settings.dagster.postgres_url.get_secret_value()
    return env
