"""The S3 drop-zone connector against the real local S3 (SeaweedFS): each upload is pulled once."""

import io

import pytest
from pydantic import ValidationError

from citydata.clients import s3_client
from connectors.base import ConnectorError, FetchContext
from connectors.registry import connector_for
from connectors.sources.s3_drop import S3DropConfig, S3DropConnector, unsafe_key_reason

pytestmark = pytest.mark.integration

CSV_A = "ma_bai,ten_bai,so_cho\nB01,Bãi xe Lê Lợi,120\n".encode()
CSV_B = "ma_bai,ten_bai,so_cho\nB02,Bãi xe Nguyễn Huệ,80\n".encode()


@pytest.fixture
def drop(stack_ready, unique):
    """A unique prefix in the drop bucket, emptied afterwards."""
    client = s3_client(stack_ready)
    bucket = stack_ready.s3.drop_bucket
    prefix = f"test-drop-{unique}/so-gtvt/parking/"

    def put(name: str, body: bytes, content_type: str = "text/csv") -> None:
        client.put_object(bucket, prefix + name, io.BytesIO(body), len(body), content_type=content_type)

    yield client, bucket, prefix, put
    _remove_tree(client, bucket, f"test-drop-{unique}/")


def _remove_tree(client, bucket: str, folder: str) -> None:
    """Objects, then the empty folder entries SeaweedFS keeps after deletes (deepest first)."""
    for obj in client.list_objects(bucket, prefix=folder, recursive=False):
        if obj.object_name == folder:
            continue  # SeaweedFS lists the folder itself
        if obj.is_dir:
            _remove_tree(client, bucket, obj.object_name)
        else:
            client.remove_object(bucket, obj.object_name)
    client.remove_object(bucket, folder)


def _connector(settings, tmp_path, **config):
    cfg = S3DropConfig(type="s3_drop", **config)
    return S3DropConnector(cfg, FetchContext(settings=settings, dataset_id="test-s3-drop", workdir=tmp_path))


def test_each_upload_is_pulled_once(stack_ready, drop, tmp_path):
    client, bucket, prefix, put = drop
    put("2025-06/bai-xe-q1.csv", CSV_A)
    put("bai-xe-q3.CSV", CSV_B)
    put("readme.txt", b"not a csv", content_type="text/plain")
    connector = _connector(stack_ready, tmp_path, prefix=prefix.rstrip("/"), pattern="*.csv")
    assert connector.bucket == stack_ready.s3.drop_bucket  # the default bucket
    assert connector_for(connector.config) is S3DropConnector

    first = connector.fetch({})
    assert not first.unchanged
    by_name = {o.name: o for o in first.objects}
    assert sorted(by_name) == ["2025-06/bai-xe-q1.csv", "bai-xe-q3.CSV"]  # pattern is case-insensitive
    q1 = by_name["2025-06/bai-xe-q1.csv"]
    assert q1.read_bytes() == CSV_A and q1.path is not None  # spooled to the workdir
    assert q1.source_uri == f"s3://{bucket}/{prefix}2025-06/bai-xe-q1.csv"
    assert q1.media_type == "text/csv"
    assert q1.headers["ETag"] and q1.headers["Last-Modified"]
    assert first.stats["new"] == 2 and first.stats["changed"] == 0

    second = connector.fetch(first.state)
    assert second.unchanged and second.objects == []
    assert second.state == first.state

    put("bai-xe-q5.csv", CSV_B)  # a new upload
    put("bai-xe-q3.CSV", CSV_A)  # an overwrite with new content
    third = connector.fetch(second.state)
    assert not third.unchanged
    assert sorted(o.name for o in third.objects) == ["bai-xe-q3.CSV", "bai-xe-q5.csv"]
    assert {o.name: o.read_bytes() for o in third.objects}["bai-xe-q3.CSV"] == CSV_A
    assert (third.stats["new"], third.stats["changed"], third.stats["unchanged"]) == (1, 1, 1)

    # Objects stay in the drop zone; a removed one just leaves the state.
    client.remove_object(bucket, prefix + "bai-xe-q5.csv")
    fourth = connector.fetch(third.state)
    assert fourth.unchanged and fourth.stats["gone"] == 1
    assert sorted(fourth.state["objects"]) == [prefix + "2025-06/bai-xe-q1.csv", prefix + "bai-xe-q3.CSV"]
    assert client.stat_object(bucket, prefix + "readme.txt").size == len(b"not a csv")


def test_empty_prefix_is_unchanged(stack_ready, drop, tmp_path):
    _, _, prefix, _ = drop
    result = _connector(stack_ready, tmp_path, prefix=prefix + "nothing-here/").fetch({})
    assert result.unchanged and result.objects == [] and result.state == {"objects": {}}


def test_missing_bucket_is_a_clear_error(stack_ready, tmp_path, unique):
    with pytest.raises(ConnectorError, match=f"s3://no-such-bucket-{unique}/"):
        _connector(stack_ready, tmp_path, bucket=f"no-such-bucket-{unique}").fetch({})


@pytest.mark.parametrize(
    "key", ["so-gtvt/../../etc/passwd", "../x.csv", "/etc/x.csv", "a\\..\\b.csv", "C:\\x.csv", "a/..", ""]
)
def test_traversal_and_absolute_keys_are_unsafe(key):
    assert unsafe_key_reason(key)


@pytest.mark.parametrize("key", ["so-gtvt/parking/a.csv", "a..b/c..csv", "x/.hidden.csv"])
def test_ordinary_keys_are_safe(key):
    assert unsafe_key_reason(key) is None


def test_traversal_keys_are_rejected(stack_ready, drop, tmp_path):
    """S3 servers differ: MinIO and SeaweedFS refuse '..' keys, AWS S3 stores them. The connector
    checks every listed key; the server here cannot hold one, so the prefix check stands in."""
    client, bucket, prefix, _ = drop
    with pytest.raises(ValueError):
        client.put_object(bucket, prefix + "x/../evil.csv", io.BytesIO(b"x"), 1)
    with pytest.raises(ValidationError, match="path traversal"):
        S3DropConfig(type="s3_drop", prefix="so-gtvt/../so-tnmt/")
    with pytest.raises(ValidationError, match="absolute path"):
        S3DropConfig(type="s3_drop", prefix="/so-gtvt/")
    with pytest.raises(ValidationError, match="without '/'"):
        S3DropConfig(type="s3_drop", pattern="../*.csv")


def test_key_pair_and_env_references(stack_ready, tmp_path, monkeypatch):
    with pytest.raises(ValidationError):
        S3DropConfig(type="s3_drop", access_key="AKIA-literal", secret_key="env:X")
    with pytest.raises(ValidationError, match="both"):
        S3DropConfig(type="s3_drop", access_key="env:X")
    monkeypatch.delenv("CITYDATA_TEST_MISSING_KEY", raising=False)
    connector = _connector(
        stack_ready,
        tmp_path,
        access_key="env:CITYDATA_TEST_MISSING_KEY",
        secret_key="env:CITYDATA_TEST_MISSING_KEY",
    )
    with pytest.raises(ConnectorError, match="CITYDATA_TEST_MISSING_KEY"):
        connector.fetch({})


def test_endpoint_override_with_env_keys(stack_ready, drop, tmp_path, monkeypatch):
    """Another S3 server (here the same one, reached as an override) with keys from the environment."""
    _, _, prefix, put = drop
    put("bai-xe-q7.csv", CSV_A)
    monkeypatch.setenv("CITYDATA_TEST_DROP_AK", stack_ready.s3.access_key.get_secret_value())
    monkeypatch.setenv("CITYDATA_TEST_DROP_SK", stack_ready.s3.secret_key.get_secret_value())
    connector = _connector(
        stack_ready,
        tmp_path,
        bucket=stack_ready.s3.drop_bucket,
        prefix=prefix,
        endpoint=stack_ready.s3.url,
        region=stack_ready.s3.region,
        access_key="env:CITYDATA_TEST_DROP_AK",
        secret_key="env:CITYDATA_TEST_DROP_SK",
    )
    result = connector.fetch({})
    assert [o.read_bytes() for o in result.objects] == [CSV_A]
