"""The start-up benchmark reads its intervals from the run's own events, and refuses to guess."""

import pytest

from benchmarks.run_startup import startup_of


def _event(kind: str, ms: int) -> dict[str, str]:
    return {"__typename": kind, "timestamp": str(ms), "stepKey": ""}


EVENTS = [
    _event("AssetMaterializationPlannedEvent", 1_000),
    _event("RunEnqueuedEvent", 1_100),
    _event("RunStartingEvent", 2_600),
    _event("EngineEvent", 3_000),
    _event("RunStartEvent", 4_100),
    _event("ExecutionStepStartEvent", 4_300),
    _event("ExecutionStepStartEvent", 9_000),  # a later step does not count
]


def test_intervals_come_from_the_queue_the_worker_and_the_first_step():
    startup = startup_of("r1", "SUCCESS", EVENTS)
    assert (startup.queued_s, startup.launch_s, startup.executor_s) == pytest.approx((1.5, 1.5, 0.2))
    assert startup.startup_s == pytest.approx(1.7)


@pytest.mark.parametrize("missing", ["RunStartingEvent", "RunStartEvent", "ExecutionStepStartEvent"])
def test_a_run_without_an_event_gets_no_figure(missing):
    with pytest.raises(RuntimeError, match=missing):
        startup_of("r1", "FAILURE", [e for e in EVENTS if e["__typename"] != missing])
