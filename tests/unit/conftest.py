"""Unit tests run the same whatever the caller's environment holds."""

import os

import pytest


@pytest.fixture(autouse=True)
def _no_citydata_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop the caller's CITYDATA_* variables (an exported S3 endpoint, a token...): a unit test
    that needs one sets it itself."""
    for name in [n for n in os.environ if n.startswith("CITYDATA_")]:
        monkeypatch.delenv(name)
