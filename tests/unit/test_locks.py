from citydata.locks import LockUnavailable, lock_key, lock_url
from citydata.settings import Settings


def test_lock_keys_are_stable_across_processes_and_releases():
    """Every process on every host, and the next release, must compute the same key for a name:
    a changed hash would let an old and a new worker write one dataset at the same time."""
    assert lock_key("citydata:dataset:phuong-xa-tphcm") == -4853625856435634056
    assert -(2**63) <= lock_key("x") < 2**63


def test_locks_use_dagsters_database_unless_told_otherwise(tmp_path, monkeypatch):
    import pytest

    settings = Settings(_env_file=tmp_path / "none.env")  # type: ignore[call-arg]
    with pytest.raises(LockUnavailable, match="CITYDATA_LOCKS__POSTGRES_URL"):
        lock_url(settings)
    monkeypatch.setenv("CITYDATA_DAGSTER__POSTGRES_URL", "postgresql://d@db/dagster")
    assert lock_url(Settings(_env_file=tmp_path / "none.env")) == "postgresql://d@db/dagster"  # type: ignore[call-arg]
    monkeypatch.setenv("CITYDATA_LOCKS__POSTGRES_URL", "postgresql://l@db/locks")
    assert lock_url(Settings(_env_file=tmp_path / "none.env")) == "postgresql://l@db/locks"  # type: ignore[call-arg]
