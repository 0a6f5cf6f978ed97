"""Shared fixtures. Integration tests run against the real local stack (`citydata stack up`)."""

from __future__ import annotations

import uuid

import pytest

from citydata.settings import Settings, load_settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fault-injection tests run after every other test (stable order otherwise): each one restores
    the services it stopped, but a restore that fails then cannot take the rest of the suite down."""
    items.sort(key=lambda item: item.get_closest_marker("faults") is not None)


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
