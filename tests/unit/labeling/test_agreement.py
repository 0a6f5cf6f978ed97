"""Agreement and consensus against hand-computed cases."""

import math

import pytest

from labeling.agreement import (
    cohen_kappa,
    fleiss_kappa,
    majority_vote,
    per_label_agreement,
    span_f1,
    span_overlap,
    summarize,
)


def test_cohen_kappa_hand_computed():
    # 10 items: agree on 7 (4 x A, 3 x B). a: 6 A / 4 B; b: 5 A / 5 B.
    a = ["A", "A", "A", "A", "A", "A", "B", "B", "B", "B"]
    b = ["A", "A", "A", "A", "B", "B", "B", "B", "B", "A"]
    # p_o = 0.7 ... wait: agreements are items 0-3 (A) and 6-8 (B) = 7 -> 0.7
    # p_e = (6*5 + 4*5) / 100 = 0.5 ; kappa = (0.7 - 0.5) / 0.5 = 0.4
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_perfect_and_degenerate():
    assert cohen_kappa(["x", "y"], ["x", "y"]) == 1.0
    assert cohen_kappa(["x", "x"], ["x", "x"]) == 1.0
    assert math.isnan(cohen_kappa([], []))


def test_fleiss_kappa_wikipedia_example():
    # The worked example from Fleiss (1971) as on Wikipedia: 10 items, 14 raters, 5 categories.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    counts = [{j: v for j, v in enumerate(row) if v} for row in table]
    assert fleiss_kappa(counts) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_needs_equal_raters():
    with pytest.raises(ValueError):
        fleiss_kappa([{"a": 2}, {"a": 3}])


def test_per_label_agreement_two_raters():
    ratings = {1: {"x": "A", "y": "A"}, 2: {"x": "A", "y": "B"}, 3: {"x": "B", "y": "B"}}
    # A: 2a/(2a+b+c) = 2/(2+1) ; B likewise
    assert per_label_agreement(ratings) == pytest.approx({"A": 2 / 3, "B": 2 / 3})


def test_majority_vote_and_ties():
    out = {c.item: c for c in majority_vote({1: {"a": "X", "b": "X", "c": "Y"}, 2: {"a": "X", "b": "Y"}})}
    assert out[1].label == "X" and out[1].votes == 2 and not out[1].tie
    assert out[2].label is None and out[2].tie and out[2].candidates == ["X", "Y"]


def test_span_overlap_and_f1():
    a = [(0, 4, "LOC"), (10, 12, "ORG")]
    b = [(0, 2, "LOC"), (10, 12, "ORG")]
    # positions: a = {0..3 LOC, 10..11 ORG} (6), b = {0,1 LOC, 10,11 ORG} (4); overlap 4, union 6
    assert span_overlap(a, b) == pytest.approx(4 / 6)
    assert span_f1(a, b) == pytest.approx(0.5)
    assert span_overlap([], []) == 1.0


def test_summarize_two_and_three_raters():
    two = {1: {"u1": "A", "u2": "A"}, 2: {"u1": "B", "u2": "B"}, 3: {"u1": "A", "u2": "B"}, 4: {"u1": "B"}}
    s = summarize(two)
    # items 1-3: p_o = 2/3; u1 A,B,A ; u2 A,B,B -> p_e = (2*1 + 1*2)/9 = 4/9 ; kappa = (2/9)/(5/9) = 0.4
    assert s["cohen_kappa"] == pytest.approx(0.4)
    assert s["items_with_overlap"] == 3
    three = {1: {"a": "A", "b": "A", "c": "A"}, 2: {"a": "B", "b": "B", "c": "A"}}
    s3 = summarize(three)
    assert s3["fleiss_raters_per_item"] == 3 and "cohen_kappa" not in s3
    # P1 = 1, P2 = (4+1-3)/6 = 1/3 ; p_A = 4/6, p_B = 2/6 -> Pe = 5/9 ; kappa = (2/3 - 5/9)/(4/9) = 0.25
    assert s3["fleiss_kappa"] == pytest.approx(0.25)
