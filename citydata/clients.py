"""Clients for the platform's services, built from settings (one place for credentials)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from citydata.settings import Settings, get_settings

if TYPE_CHECKING:
    import ckanapi
    from label_studio_sdk import LabelStudio
    from minio import Minio


def s3_client(settings: Settings | None = None) -> Minio:
    from minio import Minio

    s3 = (settings or get_settings()).s3
    return Minio(
        s3.endpoint,
        access_key=s3.access_key.get_secret_value(),
        secret_key=s3.secret_key.get_secret_value(),
        secure=s3.secure,
        region=s3.region,
    )


def ckan_client(settings: Settings | None = None, *, anonymous: bool = False) -> ckanapi.RemoteCKAN:
    import ckanapi

    ckan = (settings or get_settings()).ckan
    token = None if anonymous else ckan.api_token.get_secret_value() or None
    return ckanapi.RemoteCKAN(ckan.url, apikey=token, user_agent="citydata/0.1")


def label_studio_client(settings: Settings | None = None) -> LabelStudio:
    from label_studio_sdk import LabelStudio

    ls = (settings or get_settings()).label_studio
    return LabelStudio(base_url=ls.url, api_key=ls.api_token.get_secret_value())
