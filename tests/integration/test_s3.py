"""S3 object storage (SeaweedFS locally) through the minio SDK."""

import io
import urllib.error
import urllib.request

import pytest
from minio import Minio
from minio.error import S3Error

from citydata.clients import s3_client
from citydata.storage.lake import Lake
from citydata.storage.published import dataset_prefix
from lake.access import set_public_read

pytestmark = pytest.mark.integration


def test_put_get_list_with_generated_keys(stack_ready, unique):
    client = s3_client(stack_ready)
    bucket = stack_ready.s3.lake_bucket
    body = "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh\n".encode()
    key = f"tests/{unique}/hello.txt"
    client.put_object(bucket, key, io.BytesIO(body), len(body), content_type="text/plain; charset=utf-8")
    try:
        assert client.get_object(bucket, key).read() == body
        listed = [
            o.object_name for o in client.list_objects(bucket, prefix=f"tests/{unique}/", recursive=True)
        ]
        assert listed == [key]
    finally:
        client.remove_object(bucket, key)
    # Recursive: SeaweedFS (unlike MinIO) may keep an empty "directory" entry after a delete.
    assert list(client.list_objects(bucket, prefix=f"tests/{unique}/", recursive=True)) == []


def test_platform_buckets_exist(stack_ready):
    names = {b.name for b in s3_client(stack_ready).list_buckets()}
    assert set(stack_ready.s3.buckets) <= names


def test_wrong_key_is_refused(stack_ready, unique):
    right = stack_ready.s3
    bucket, key = right.lake_bucket, f"tests/{unique}/wrong-key.txt"
    unknown = Minio(right.endpoint, access_key="notthekey", secret_key="notthesecret12345", secure=False)
    wrong_secret = Minio(
        right.endpoint,
        access_key=right.access_key.get_secret_value(),
        secret_key="wrong-" + right.secret_key.get_secret_value(),
        secure=False,
    )
    for client, code in ((unknown, "InvalidAccessKeyId"), (wrong_secret, "SignatureDoesNotMatch")):
        with pytest.raises(S3Error) as err:
            client.list_buckets()
        assert err.value.code == code
        with pytest.raises(S3Error) as err:
            client.put_object(bucket, key, io.BytesIO(b"x"), 1)
        assert err.value.code == code
    with pytest.raises(S3Error) as err:
        s3_client(stack_ready).stat_object(bucket, key)
    assert err.value.code == "NoSuchKey"


def _raw(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_anonymous_write_and_list_are_refused(stack_ready, unique):
    base = f"{stack_ready.s3.url}/{stack_ready.s3.lake_bucket}"
    url = f"{base}/tests/{unique}/anon.txt"
    assert _raw("PUT", url, b"x") in (401, 403)
    # A forged header is no better than none.
    forged = {"Authorization": "AWS4-HMAC-SHA256 Credential=admin/20250101/us-east-1/s3/aws4_request, "
              "SignedHeaders=host, Signature=" + "0" * 64}  # fmt: skip
    assert _raw("PUT", url, b"x", forged) in (400, 401, 403)  # SeaweedFS: 400, no x-amz-date
    assert _raw("GET", f"{base}?list-type=2") in (401, 403)
    for bucket in stack_ready.s3.buckets:
        assert _raw("PUT", f"{stack_ready.s3.url}/{bucket}/tests/{unique}/anon.txt", b"x") in (401, 403), (
            bucket
        )
    assert _raw("PUT", f"{stack_ready.s3.url}/anonymous-bucket-{unique}") in (401, 403)
    client = s3_client(stack_ready)
    assert f"anonymous-bucket-{unique}" not in {b.name for b in client.list_buckets()}
    for bucket in stack_ready.s3.buckets:
        assert list(client.list_objects(bucket, prefix=f"tests/{unique}/", recursive=True)) == [], bucket


def test_public_read_prefix_is_read_only_for_anonymous_users(stack_ready, unique):
    """The lake's per-dataset read policy grants GET, never PUT, DELETE or a listing."""
    client = s3_client(stack_ready)
    bucket = stack_ready.s3.lake_bucket
    prefix = dataset_prefix(f"test-s3-{unique}", "public-read")
    key = prefix + "v1/data.csv"
    client.put_object(bucket, key, io.BytesIO(b"a,b\n1,2\n"), 8)
    url = f"{stack_ready.s3.url}/{bucket}/{key}"
    try:
        assert _raw("GET", url) == 403
        set_public_read(Lake(stack_ready, client), prefix, True)
        assert _raw("GET", url) == 200  # the policy is in force
        assert _raw("PUT", url, b"overwritten") in (401, 403)
        assert _raw("PUT", f"{stack_ready.s3.url}/{bucket}/{prefix}v1/new.csv", b"new") in (401, 403)
        assert _raw("DELETE", url) in (401, 403)
        assert _raw("GET", f"{stack_ready.s3.url}/{bucket}?list-type=2&prefix={prefix}") in (401, 403)
        assert client.get_object(bucket, key).read() == b"a,b\n1,2\n"
        assert [o.object_name for o in client.list_objects(bucket, prefix=prefix, recursive=True)] == [key]
    finally:
        set_public_read(Lake(stack_ready, client), prefix, False)
        client.remove_object(bucket, key)


def test_presigned_url_gives_temporary_read_access(stack_ready, unique):
    from datetime import timedelta

    client = s3_client(stack_ready)
    bucket, key = stack_ready.s3.lake_bucket, f"tests/{unique}/presigned.csv"
    client.put_object(bucket, key, io.BytesIO(b"a,b\n1,2\n"), 8)
    try:
        url = client.presigned_get_object(bucket, key, expires=timedelta(minutes=5))
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert resp.read() == b"a,b\n1,2\n"
    finally:
        client.remove_object(bucket, key)
