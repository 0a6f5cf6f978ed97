"""Inter-annotator agreement and consensus: pure functions, no I/O.

`ratings` everywhere is {item: {annotator: label}}. Labels are hashable (strings).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

Ratings = Mapping[Any, Mapping[Any, Any]]


def cohen_kappa(a: list[Hashable], b: list[Hashable]) -> float:
    """Cohen's kappa for two raters over the same items (lists aligned by item)."""
    if len(a) != len(b):
        raise ValueError("both raters must rate the same items")
    n = len(a)
    if n == 0:
        return float("nan")
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if p_e == 1.0:
        return 1.0 if p_o == 1.0 else 0.0
    return (p_o - p_e) / (1 - p_e)


def fleiss_kappa(counts: Sequence[Mapping[Any, int]]) -> float:
    """Fleiss' kappa; each element is one item's {label: number of raters}, same total per item."""
    if not counts:
        return float("nan")
    totals = {sum(c.values()) for c in counts}
    if len(totals) != 1:
        raise ValueError(f"every item needs the same number of ratings, got {sorted(totals)}")
    n = totals.pop()
    if n < 2:
        raise ValueError("Fleiss' kappa needs at least two ratings per item")
    items = len(counts)
    labels = set().union(*counts)
    p_j = {k: sum(c.get(k, 0) for c in counts) / (items * n) for k in labels}
    p_i = [(sum(v * v for v in c.values()) - n) / (n * (n - 1)) for c in counts]
    p_bar = sum(p_i) / items
    p_e = sum(p * p for p in p_j.values())
    if p_e == 1.0:
        return 1.0 if p_bar == 1.0 else 0.0
    return (p_bar - p_e) / (1 - p_e)


def per_label_agreement(ratings: Ratings) -> dict[Hashable, float]:
    """Specific agreement per label: of the rater pairs in which one rater chose the label, the share
    in which the other chose it too (2a / (2a + b + c) for two raters)."""
    agree: Counter[Hashable] = Counter()
    possible: Counter[Hashable] = Counter()
    for by_rater in ratings.values():
        n = len(by_rater)
        if n < 2:
            continue
        for label, n_j in Counter(by_rater.values()).items():
            agree[label] += n_j * (n_j - 1)
            possible[label] += n_j * (n - 1)
    return {k: agree[k] / possible[k] for k in possible if possible[k]}


def pairwise_cohen(ratings: Ratings) -> dict[tuple[Hashable, Hashable], tuple[float, int]]:
    """Cohen's kappa for every pair of annotators over the items both rated: {(a, b): (kappa, items)}."""
    annotators = sorted({r for by in ratings.values() for r in by}, key=str)
    out = {}
    for a, b in combinations(annotators, 2):
        shared = [by for by in ratings.values() if a in by and b in by]
        if shared:
            out[(a, b)] = (cohen_kappa([s[a] for s in shared], [s[b] for s in shared]), len(shared))
    return out


Span = tuple[int, int, str]


def span_overlap(a: Iterable[Span], b: Iterable[Span]) -> float:
    """Character-level agreement of two annotators' spans: Jaccard of the labelled (position, label)
    sets. 1.0 when both marked nothing."""
    sa = {(i, lab) for s, e, lab in a for i in range(s, e)}
    sb = {(i, lab) for s, e, lab in b for i in range(s, e)}
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def span_f1(a: Iterable[Span], b: Iterable[Span]) -> float:
    """Exact-match F1 of two span sets (start, end and label all equal)."""
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return 2 * len(sa & sb) / (len(sa) + len(sb))


def mean_span_overlap(spans: Mapping[Any, Mapping[Any, Iterable[Span]]]) -> float:
    """Mean pairwise span overlap over items with two or more annotators."""
    scores = []
    for by in spans.values():
        lists = {k: list(v) for k, v in by.items()}
        for x, y in combinations(sorted(lists, key=str), 2):
            scores.append(span_overlap(lists[x], lists[y]))
    return sum(scores) / len(scores) if scores else float("nan")


@dataclass
class Consensus:
    item: Hashable
    label: Hashable | None  # None on a tie
    votes: int
    annotators: int
    tie: bool = False
    candidates: list[Hashable] = field(default_factory=list)


def majority_vote(ratings: Ratings) -> list[Consensus]:
    """Majority label per item; a tie gives label None, tie=True and the tied candidates."""
    out = []
    for item, by in ratings.items():
        counts = Counter(by.values()).most_common()
        if not counts:
            continue
        top = counts[0][1]
        tied = sorted((k for k, v in counts if v == top), key=str)
        tie = len(tied) > 1
        out.append(Consensus(item, None if tie else tied[0], top, len(by), tie, tied))
    return out


def summarize(ratings: Ratings) -> dict[str, Any]:
    """All categorical agreement figures for one project, JSON-friendly."""
    multi = {i: by for i, by in ratings.items() if len(by) >= 2}
    pairs = pairwise_cohen(multi)
    annotators = sorted({str(r) for by in ratings.values() for r in by})
    out: dict[str, Any] = {
        "items": len(ratings),
        "items_with_overlap": len(multi),
        "annotators": annotators,
        "pairwise_cohen_kappa": {f"{a}|{b}": {"kappa": k, "items": n} for (a, b), (k, n) in pairs.items()},
        "per_label_agreement": {str(k): v for k, v in per_label_agreement(multi).items()},
    }
    if len(pairs) == 1:
        out["cohen_kappa"] = next(iter(pairs.values()))[0]
    sizes = Counter(len(by) for by in multi.values())
    if sizes:
        n, _ = max(sizes.items(), key=lambda kv: (kv[1], kv[0]))
        same = [Counter(by.values()) for by in multi.values() if len(by) == n]
        out["fleiss_kappa"] = fleiss_kappa(same)
        out["fleiss_items"] = len(same)
        out["fleiss_raters_per_item"] = n
    return out
