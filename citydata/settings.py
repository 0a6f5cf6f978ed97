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
    # "postgres" (default): runs, events and schedules in PostgreSQL at postgres_url (the local
    # stack creates its own database and role and writes the URL); "sqlite": files under the
    # stack folder, one machine only.
    storage: Literal["sqlite", "postgres"] = "postgres"
    postgres_url: SecretStr = SecretStr("")
    # Where a run's steps execute: in the run worker (in_process, the local default), one
    # process per step (multiprocess), Celery workers (celery: the `celery` extra, a broker at
    # celery_broker_url), or one Kubernetes job per run and per step (k8s: the `k8s` extra).
    executor: Literal["in_process", "multiprocess", "celery", "k8s"] = "in_process"
    max_concurrent_runs: int = Field(2, ge=1)  # two cores locally
    celery_broker_url: SecretStr = SecretStr("")
    celery_backend_url: SecretStr = SecretStr("")
    k8s_namespace: str = "citydata"
    k8s_job_image: str = ""  # the image holding this repository (and the `k8s` extra)
    k8s_service_account: str = "citydata-dagster"
    k8s_instance_config_map: str = "citydata-dagster-instance"  # holds the generated dagster.yaml


class LockSettings(BaseModel):
    # PostgreSQL database whose advisory locks serialize writers across processes and hosts
    # (citydata.locks); empty: Dagster's (dagster.postgres_url), which every run worker reaches.
    postgres_url: SecretStr = SecretStr("")
    timeout_s: float = Field(600.0, gt=0)  # a wait longer than this is an error naming the lock


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
    locks: LockSettings = LockSettings()
    automation: AutomationSettings = AutomationSettings()
    alerts: AlertSettings = AlertSettings()
    samples: SamplesSettings = SamplesSettings()
    data_docs: DataDocsSettings = DataDocsSettings()


def profile_file() -> Path | None:
    """The settings profile `CITYDATA_PROFILE` names: a file path, or a name in `profiles/`."""
    name = os.environ.get("CITYDATA_PROFILE", "").strip()
    if not name:
        return None
    path = Path(name)
    if not path.exists() and (REPO_ROOT / "profiles" / f"{name}.env").exists():
        path = REPO_ROOT / "profiles" / f"{name}.env"
    if not path.is_file():
        raise FileNotFoundError(f"CITYDATA_PROFILE={name}: no such file (nor profiles/{name}.env)")
    return path


def load_settings() -> Settings:
    """Fresh settings: environment first, then the profile (CITYDATA_PROFILE), then the stack's
    generated file."""
    profile = profile_file()
    files = (stack_env_file(), profile) if profile else stack_env_file()
    return Settings(_env_file=files)  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
