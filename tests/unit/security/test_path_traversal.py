"""Path traversal: every place a name from a spec, a source or a catalog becomes a key or a path."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from citydata.cli.get import CKAN_NAME
from citydata.data import DataIntegrityError, _published_key
from citydata.spec.model import DatasetSpec
from citydata.storage.layout import (
    UnsafeKeyError,
    check_key,
    safe_part,
    safe_relative,
    state_key,
    zone_prefix,
)
from connectors.sources.s3_drop import S3DropConfig, unsafe_key_reason

TRAVERSALS = [
    "../etc",
    "..",
    "a/../../b",
    "/etc/passwd",
    "\\windows\\system32",
    "C:\\x",
    "%2e%2e/secret",
    "%2E%2E%2Fsecret",
    "a/%2e%2e/%2e%2e/b",
    "%252e%252e/b",  # double-encoded
    "%2fetc/passwd",
    "..\\..\\x",
]
SAFE_KEYS = ["data.csv", "2025/07/data.csv", "a..b/c.csv", "so-gtvt/bai giu xe.csv", "x%20y.csv"]


def _spec(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "bai-giu-xe",
        "agency": {"id": "so-gtvt", "title": {"vi": "Sở GTVT"}},
        "title": {"vi": "Bãi giữ xe"},
        "description": {"vi": "Bãi giữ xe công cộng"},
        "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
        "source": {"type": "local_file", "path": "/dev/null"},
    }
    data.update(changes)
    return data


def test_the_valid_spec_loads():
    assert DatasetSpec.model_validate(_spec()).id == "bai-giu-xe"


@pytest.mark.parametrize("bad", [*TRAVERSALS, "bai-giu-xe/..", "x y", "bai.giu"])
def test_spec_ids_with_paths_are_rejected(bad):
    with pytest.raises(ValidationError, match=r"\bid\b"):
        DatasetSpec.model_validate(_spec(id=bad))


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_agency_ids_with_paths_are_rejected(bad):
    with pytest.raises(ValidationError, match=r"agency\.id"):
        DatasetSpec.model_validate(_spec(agency={"id": bad, "title": {"vi": "x"}}))


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_lake_key_builders_refuse_traversal(bad):
    with pytest.raises(UnsafeKeyError):
        zone_prefix("raw", bad, "bai-giu-xe")
    with pytest.raises(UnsafeKeyError):
        zone_prefix("raw", "so-gtvt", "bai-giu-xe", bad)
    with pytest.raises(UnsafeKeyError):
        state_key(bad)
    with pytest.raises(UnsafeKeyError):
        safe_part(bad)
    with pytest.raises(UnsafeKeyError):
        check_key(bad)
    with pytest.raises(UnsafeKeyError):
        safe_relative(bad)


@pytest.mark.parametrize("key", SAFE_KEYS)
def test_lake_keeps_ordinary_relative_names(key):
    assert check_key(key) == key
    relative = safe_relative(key)
    assert ".." not in relative.split("/") and not relative.startswith("/")


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_drop_zone_prefixes_and_keys_with_traversal_are_refused(bad):
    assert unsafe_key_reason(bad) is not None
    if "2e" in bad.lower() or ".." in bad:  # a traversal is refused deeper in the key too
        assert unsafe_key_reason(f"so-gtvt/{bad}") is not None
    with pytest.raises(ValidationError, match="prefix"):
        S3DropConfig.model_validate({"type": "s3_drop", "prefix": bad})


@pytest.mark.parametrize("key", SAFE_KEYS)
def test_drop_zone_accepts_ordinary_keys(key):
    assert unsafe_key_reason(key) is None
    assert S3DropConfig.model_validate({"type": "s3_drop", "prefix": key}).prefix.startswith(key)


@pytest.mark.parametrize("bad", [*TRAVERSALS, "published/../raw/x", "published/%2e%2e/raw/x", "raw/a/b"])
def test_keys_read_from_a_catalog_manifest_must_stay_in_the_published_zone(bad):
    with pytest.raises(DataIntegrityError):
        _published_key(bad)
    assert _published_key("published/so-gtvt/bai-giu-xe/v2/part-00000.parquet")


@pytest.mark.parametrize("bad", ["../../etc/cron.d/x", "/etc/x", "..", "a/b", "x"])
def test_get_refuses_a_catalog_name_that_is_a_path(bad):
    assert not CKAN_NAME.fullmatch(bad)
    assert CKAN_NAME.fullmatch("bai-giu-xe") and CKAN_NAME.fullmatch("foreign_portal_name")
