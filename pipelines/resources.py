"""Dagster resources for the platform's services: what the assets are given.

Credentials are read from citydata settings (environment or the stack's private file) when a
client is built, never passed as resource config, so the Dagster UI never displays them.
Endpoints can be overridden per deployment through the resource config. Each resource hands out
the project's own client for its service (the one the stages take), built on settings it is given,
so one run's stages share one `Settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from citydata.clients import s3_client
from citydata.settings import Settings, load_settings
from citydata.storage.lake import Lake

if TYPE_CHECKING:
    from minio import Minio

    from catalog.client import CatalogClient
    from labeling.client import LabelStudio


def _with(settings: Settings, section: str, values: dict[str, object]) -> Settings:
    if not values:
        return settings
    current = getattr(settings, section)
    return settings.model_copy(update={section: current.model_copy(update=values)})


class S3Resource(dg.ConfigurableResource):
    """S3 object storage through the minio SDK (SeaweedFS locally, MinIO in production)."""

    endpoint: str | None = None
    lake_bucket: str | None = None

    def settings(self) -> Settings:
        """The platform's settings with this resource's overrides: what the stages are given."""
        values = {"endpoint": self.endpoint, "lake_bucket": self.lake_bucket}
        return _with(load_settings(), "s3", {k: v for k, v in values.items() if v})

    def client(self) -> Minio:
        return s3_client(self.settings())

    def lake(self) -> Lake:
        """The lake the stages read and write, on this resource's client."""
        settings = self.settings()
        return Lake(settings, s3_client(settings))

    @property
    def bucket(self) -> str:
        return self.settings().s3.lake_bucket


class CkanResource(dg.ConfigurableResource):
    """The CKAN catalog, through the catalog stage's client (retries, typed errors)."""

    url: str | None = None

    def catalog(self, settings: Settings) -> CatalogClient:
        from catalog.client import CatalogClient

        return CatalogClient(_with(settings, "ckan", {"url": self.url} if self.url else {}))


class LabelStudioResource(dg.ConfigurableResource):
    """Label Studio, through the labeling stage's client (retries; the SDK as `.sdk`)."""

    url: str | None = None

    def client(self, settings: Settings, *, attempts: int = 4) -> LabelStudio:
        from labeling.client import LabelStudio

        return LabelStudio(settings, url=self.url, attempts=attempts)


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {"s3": S3Resource(), "ckan": CkanResource(), "label_studio": LabelStudioResource()}
