"""Who may read published objects: anonymous read of a public dataset's prefix, presigned URLs
for private ones.

Public read is the bucket policy: `s3:GetObject` for principal `*` on
`arn:aws:s3:::<bucket>/published/<agency>/<dataset>/*`, one Resource per public dataset in one
statement. MinIO, AWS S3 and SeaweedFS (verified with 4.48, which stores the policy in the
bucket's filer entry) honour prefix-limited bucket policies. Other statements are kept as they are
(a dataset made private is removed from any anonymous-GET statement naming its prefix).

The policy is read, changed and written back under a PostgreSQL advisory lock named after the
bucket (citydata.locks): publishers in threads, processes and hosts take turns (Dagster runs two
datasets at a time, each in its own process; without it, two concurrent grants lose one: last
writer wins). A publisher killed while holding it releases it with its connection.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from minio import Minio
from minio.error import S3Error

from citydata.locks import advisory_lock
from citydata.settings import Settings
from citydata.storage.lake import Lake

POLICY_VERSION = "2012-10-17"
SID = "CitydataPublishedRead"


def resource_arn(bucket: str, prefix: str) -> str:
    if not prefix.endswith("/"):
        raise ValueError(f"a public prefix must end with '/': {prefix!r}")
    return f"arn:aws:s3:::{bucket}/{prefix}*"


def public_read_statement(bucket: str, prefixes: list[str]) -> dict[str, Any]:
    """citydata's one statement: anonymous GET on every public dataset prefix."""
    return {
        "Sid": SID,
        "Effect": "Allow",
        "Principal": {"AWS": ["*"]},
        "Action": ["s3:GetObject"],
        "Resource": sorted({resource_arn(bucket, p) for p in prefixes}),
    }


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_anonymous_get(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    anyone = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))
    return (
        statement.get("Effect") == "Allow" and anyone and "s3:GetObject" in _as_list(statement.get("Action"))
    )


def with_public_read(policy: dict[str, Any] | None, bucket: str, prefix: str, public: bool) -> dict[str, Any]:
    """The policy with (public) or without (private) anonymous read of `prefix`. Pure.

    Public prefixes are the Resource list of one statement (Sid CitydataPublishedRead): about 60
    bytes a dataset, so ~300 public datasets fit AWS's 20 KB bucket-policy limit.
    """
    arn = resource_arn(bucket, prefix)
    statements: list[dict[str, Any]] = []
    for statement in _as_list((policy or {}).get("Statement")):
        statement = dict(statement)
        resources = _as_list(statement.get("Resource"))
        if _is_anonymous_get(statement) and arn in resources:
            resources = [r for r in resources if r != arn]
            if not resources:
                continue
            statement["Resource"] = resources
        statements.append(statement)
    if public:
        ours = next((s for s in statements if s.get("Sid") == SID and _is_anonymous_get(s)), None)
        if ours is None:
            statements.append(public_read_statement(bucket, [prefix]))
        else:
            ours["Resource"] = sorted({*_as_list(ours.get("Resource")), arn})
    return {
        **(policy or {}),
        "Version": (policy or {}).get("Version") or POLICY_VERSION,
        "Statement": statements,
    }


def grants_public_read(policy: dict[str, Any] | None, bucket: str, prefix: str) -> bool:
    arn = resource_arn(bucket, prefix)
    return any(
        _is_anonymous_get(s) and arn in _as_list(s.get("Resource"))
        for s in _as_list((policy or {}).get("Statement"))
    )


def read_policy(client: Minio, bucket: str) -> dict[str, Any] | None:
    try:
        text = client.get_bucket_policy(bucket)
    except S3Error as exc:
        if exc.code in ("NoSuchBucketPolicy", "NoSuchPolicy"):
            return None
        raise
    return json.loads(text) if text and text.strip() else None


def set_public_read(lake: Lake, prefix: str, public: bool) -> bool:
    """Grant or revoke anonymous read of `prefix` in the lake's bucket; True when the bucket
    policy was written."""
    client, bucket = lake.client, lake.bucket
    with advisory_lock(lake.settings, f"citydata:bucket-policy:{bucket}"):
        current = read_policy(client, bucket)
        if grants_public_read(current, bucket, prefix) == public:
            return False
        updated = with_public_read(current, bucket, prefix, public)
        if updated["Statement"]:
            client.set_bucket_policy(bucket, json.dumps(updated))
        else:
            client.delete_bucket_policy(bucket)
        return True


def is_public(client: Minio, bucket: str, prefix: str) -> bool:
    return grants_public_read(read_policy(client, bucket), bucket, prefix)


def public_url(settings: Settings, key: str) -> str:
    """Path-style URL anyone can GET when the key's prefix is public."""
    return f"{settings.s3.url}/{settings.s3.lake_bucket}/{key}"


def s3_uri(settings: Settings, key: str) -> str:
    return f"s3://{settings.s3.lake_bucket}/{key}"


def object_base(settings: Settings, private: bool) -> str:
    """What resource URLs start with: the public HTTP endpoint, or s3:// for private datasets."""
    return f"s3://{settings.s3.lake_bucket}/" if private else f"{settings.s3.url}/{settings.s3.lake_bucket}/"


def presigned_url(client: Minio, bucket: str, key: str, expires: timedelta = timedelta(hours=1)) -> str:
    """A time-limited GET URL (the only way to hand out a private dataset's files)."""
    return client.presigned_get_object(bucket, key, expires=expires)
