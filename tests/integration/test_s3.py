"""S3 object storage (SeaweedFS locally) through the minio SDK."""

import io
import urllib.error
import urllib.request

import pytest
from minio import Minio
from minio.error import S3Error

from citydata.clients import s3_client

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


def test_wrong_key_is_refused(stack_ready):
    wrong = Minio(
        stack_ready.s3.endpoint, access_key="notthekey", secret_key="notthesecret12345", secure=False
    )
    with pytest.raises(S3Error) as err:
        wrong.list_buckets()
    assert err.value.code in {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"}


def test_anonymous_write_and_list_are_refused(stack_ready, unique):
    url = f"{stack_ready.s3.url}/{stack_ready.s3.lake_bucket}/tests/{unique}/anon.txt"
    put = urllib.request.Request(url, data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(put, timeout=5)
    assert err.value.code in (401, 403)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{stack_ready.s3.url}/{stack_ready.s3.lake_bucket}?list-type=2", timeout=5)
    assert err.value.code in (401, 403)


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
