"""Clients for the platform's services, built from settings (one place for credentials)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

from citydata.retry import S3_POLICY, S3_TRANSIENT_STATUSES, RetryPolicy, urllib3_retry
from citydata.settings import Settings, get_settings

if TYPE_CHECKING:
    import ckanapi
    import urllib3
    from minio import Minio


def s3_http_client(policy: RetryPolicy = S3_POLICY) -> urllib3.PoolManager:
    """The minio SDK's connection pool, as the SDK builds it by default (5 min timeouts, 10
    connections, certifi or SSL_CERT_FILE), but retrying with the project's policy: `attempts`
    tries in all for connection errors and 5xx/429 (S3 SlowDown is a 503), Retry-After honoured.
    Retries stay at the transport level because the SDK streams and pages its requests itself."""
    import certifi
    import urllib3

    timeout = timedelta(minutes=5).seconds
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3_retry(
            policy,
            methods=("GET", "HEAD", "PUT", "DELETE"),  # idempotent in S3 (the SDK's default too)
            statuses=S3_TRANSIENT_STATUSES,
        ),
    )


def s3_client(settings: Settings | None = None) -> Minio:
    from minio import Minio

    s3 = (settings or get_settings()).s3
    return Minio(
        s3.endpoint,
        access_key=s3.access_key.get_secret_value(),
        secret_key=s3.secret_key.get_secret_value(),
        secure=s3.secure,
        region=s3.region,
        http_client=s3_http_client(),
    )


def ckan_client(settings: Settings | None = None, *, anonymous: bool = False) -> ckanapi.RemoteCKAN:
    import ckanapi

    ckan = (settings or get_settings()).ckan
    token = None if anonymous else ckan.api_token.get_secret_value() or None
    return ckanapi.RemoteCKAN(ckan.url, apikey=token, user_agent="citydata/0.1")
