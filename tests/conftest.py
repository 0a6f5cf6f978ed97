"""Shared fixtures. Integration tests run against the real local stack (`citydata stack up`)."""

from __future__ import annotations

import uuid

import pytest

from citydata.settings import Settings, load_settings


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
