"""Shared fixtures. Integration tests run against the real local stack (`citydata stack up`)."""

from __future__ import annotations

import uuid

import pytest

import connectors  # noqa: F401  (registers the source types specs name, as the CLI and Dagster do)
from citydata.settings import Settings, load_settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fault-injection tests run after every other test (stable order otherwise): each one restores
    the services it stopped, but a restore that fails then cannot take the rest of the suite down.
    A test that empties CKAN's database runs last of all: CKAN's API tokens change with it, and the
    session's settings hold the old ones."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("faults") is not None,
            item.get_closest_marker("ckan_reset") is not None,
        )
    )


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def stack_ready(settings: Settings) -> Settings:
    """Fails (not skips) when the stack is down: the README's test command starts it."""
    from stack.manager import Stack

    unhealthy = [s.name for s in Stack().status() if not s.healthy]
    if unhealthy:
        pytest.fail(f"local stack not healthy: {', '.join(unhealthy)}; run `citydata stack up` first")
    return load_settings()


@pytest.fixture
def unique() -> str:
    """A short unique suffix so tests never collide with earlier runs or the main job."""
    return uuid.uuid4().hex[:10]


# --- Hypothesis profiles (tests/integration/test_fidelity_properties.py) -------------------------
# "citydata-ci" (default): a fixed seed, 300 examples (about 90 s), no deadline (examples go through
# the real stack), no example database in the working tree. "thorough": 10,000 examples (about
# 45 min), a fresh seed each run (failures print a reproduction blob); selected with
# CITYDATA_HYPOTHESIS=thorough or pytest's --hypothesis-profile thorough.
# CITYDATA_HYPOTHESIS_EXAMPLES=N sets the number of examples of either.
def _hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck
    from hypothesis import settings as profile

    count = os.environ.get("CITYDATA_HYPOTHESIS_EXAMPLES")
    ci = profile(
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=False,
        max_examples=int(count) if count else 300,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    profile.register_profile("citydata-ci", ci)
    thorough = int(count) if count else 10_000
    profile.register_profile("thorough", ci, derandomize=False, print_blob=True, max_examples=thorough)
    profile.load_profile(os.environ.get("CITYDATA_HYPOTHESIS", "citydata-ci"))


_hypothesis_profiles()
