"""Dagster resources for the platform's services.

Credentials are read from citydata settings (environment or the stack's private file) when a
client is built, never passed as resource config, so the Dagster UI never displays them.
Endpoints can be overridden per deployment through the resource config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from citydata.clients import ckan_client, label_studio_client, s3_client
from citydata.settings import Settings, load_settings
from citydata.storage.lake import Lake

if TYPE_CHECKING:
    import ckanapi
    from label_studio_sdk import LabelStudio
    from minio import Minio


def _settings_with(**overrides: object) -> Settings:
    settings = load_settings()
    for section, values in overrides.items():
        if values:
            current = getattr(settings, section)
            setattr(settings, section, current.model_copy(update=values))
    return settings


class S3Resource(dg.ConfigurableResource):
    """S3 object storage through the minio SDK (SeaweedFS locally, MinIO in production)."""

    endpoint: str | None = None
    lake_bucket: str | None = None

    def settings(self) -> Settings:
        """The platform's settings with this resource's overrides: what the stages are given."""
        return _settings_with(s3={"endpoint": self.endpoint} if self.endpoint else {})

    def client(self) -> Minio:
        return s3_client(self.settings())

    def lake(self) -> Lake:
        """The lake the stages read and write, on this resource's client."""
        return Lake(self.settings(), self.client())

    @property
    def bucket(self) -> str:
        return self.lake_bucket or load_settings().s3.lake_bucket


class CkanResource(dg.ConfigurableResource):
    """The CKAN catalog's action API (ckanapi)."""

    url: str | None = None

    def client(self) -> ckanapi.RemoteCKAN:
        return ckan_client(_settings_with(ckan={"url": self.url} if self.url else {}))


class LabelStudioResource(dg.ConfigurableResource):
    """Label Studio's API (label-studio-sdk)."""

    url: str | None = None

    def client(self) -> LabelStudio:
        return label_studio_client(_settings_with(label_studio={"url": self.url} if self.url else {}))


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {"s3": S3Resource(), "ckan": CkanResource(), "label_studio": LabelStudioResource()}
