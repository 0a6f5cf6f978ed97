"""The peer benchmark gives a verdict only when every side completed and loaded every row."""

from benchmarks.peer_comparison import comparison, problems
from benchmarks.xloader_peer import Run


def _ours(rows: int = 1000, loaded: int = 1000, seconds: float = 2.0) -> Run:
    notes = {"rows": rows, "rejected": 5, "datastore_rows": loaded, "expectations": 12}
    return Run(seconds, {"pull": 1.0}, notes)


FLOOR = [Run(1.0, notes={"rows": 1005})]


def _verdicts(lines: list[tuple[str, str, str]]) -> list[str]:
    return [note for _, _, note in lines if "target" in note]


def test_both_sides_complete_with_every_row_gives_verdicts():
    peer = [Run(30.0, {"job": 30.0}, {"rows": 990})]
    lines = comparison(FLOOR, [_ours()], None, peer, ragged=10, expected_peer_rows=990)
    assert problems([_ours()], peer, 990) == []
    verdicts = _verdicts(lines)
    assert "(target <= 4: met)" in verdicts[0] and "(target >= 10: met)" in verdicts[1]


def test_a_failed_peer_gives_no_verdict_and_says_why():
    peer = [Run(3.0, {"job": 3.0}, {"rows": 0, "error": "error: Row 201 has more values"})]
    verdicts = _verdicts(comparison(FLOOR, [_ours()], None, peer, ragged=10, expected_peer_rows=990))
    assert all("no verdict: (c) run 1 did not complete: error: Row 201" in v for v in verdicts)
    assert not any(": met)" in v or "MISSED" in v for v in verdicts)


def test_a_partial_load_on_either_side_gives_no_verdict():
    peer = [Run(30.0, {"job": 30.0}, {"rows": 990})]
    preview_only = _ours(rows=1000, loaded=100)
    found = problems([preview_only], peer, 990)
    assert found == ["(b) run 1: the DataStore holds 100 of its 1000 published rows"]
    assert problems([_ours()], [Run(30.0, {}, {"rows": 500})], 990) == [
        "(c) run 1: 500 rows in the DataStore, 990 lines in its file"
    ]
    verdicts = _verdicts(comparison(FLOOR, [preview_only], None, peer, ragged=10, expected_peer_rows=990))
    assert verdicts and all("no verdict" in v for v in verdicts)
