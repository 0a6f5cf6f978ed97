"""Remove what a test published for a throw-away agency: CKAN entries and the lake's objects."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import ckanapi
from minio.deleteobjects import DeleteObject

from catalog.mapping import slugify
from citydata.clients import ckan_client
from citydata.settings import Settings, load_settings
from citydata.storage.lake import Lake
from citydata.storage.published import dataset_prefix, folders_of, staging_root
from lake.access import set_public_read

ZONES = ("raw", "clean", "quarantine", "reports", "published", "labels", "catalog")


def _with_current_token(settings: Settings) -> Settings:
    """`settings` with the CKAN token the stack's file holds now: resetting CKAN's database
    (faults/test_catalog_rebuild.py, run last) makes new tokens, after which session-scoped
    fixtures still clean up with the settings they were given."""
    current = load_settings().ckan
    if current.url.rstrip("/") != settings.ckan.url.rstrip("/"):
        return settings
    ckan = settings.ckan.model_copy(update={"api_token": current.api_token})
    return settings.model_copy(update={"ckan": ckan})


def purge_agency(
    settings: Settings, lake: Lake, agency: str, datasets: Iterable[str], groups: Iterable[str] = ()
) -> None:
    """Purge ``datasets``, topic ``groups`` and the organization, then every object of the agency
    in the lake zones and the datasets' staging and state prefixes. Fails if S3 refuses a delete."""
    names = list(datasets)
    admin = ckan_client(_with_current_token(settings))
    for name in names:
        with contextlib.suppress(ckanapi.NotFound):
            admin.action.dataset_purge(id=name)
    for topic in groups:
        with contextlib.suppress(ckanapi.NotFound):
            admin.action.group_purge(id=slugify(topic))
    with contextlib.suppress(ckanapi.NotFound):
        admin.action.organization_purge(id=agency)
    client, bucket = lake.client, lake.bucket
    for name in names:
        set_public_read(lake, dataset_prefix(agency, name), False)
    prefixes = [f"{zone}/{agency}/" for zone in ZONES]
    prefixes += [staging_root(agency, n) for n in names] + [f"state/{n}/" for n in names]
    for prefix in prefixes:
        keys = list(lake.keys(prefix))
        assert not list(client.remove_objects(bucket, [DeleteObject(k) for k in keys]))
        for folder in folders_of(keys, prefix):  # SeaweedFS lists emptied folders until removed
            client.remove_object(bucket, folder)
    client.remove_object(bucket, f"published/_staging/{agency}/")
