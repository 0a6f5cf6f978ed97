"""Active learning earns its place: on a labeled synthetic task, choosing the least-confident rows
(what `citydata label next` pushes) reaches the target accuracy with fewer labels than choosing
rows at random, under the same seeds and the same model (labeling.baseline)."""

from __future__ import annotations

import numpy as np

from labeling.baseline import NaiveBayes, least_confident

LABELS = ["giao_thong", "moi_truong", "trat_tu_do_thi"]
# Words that say the category, and words every citizen report has.
CUES = {
    "giao_thong": ["kẹt xe", "đèn giao thông", "ổ gà", "xe máy", "lấn làn", "đường ngập"],
    "moi_truong": ["rác thải", "mùi hôi", "khói bụi", "nước thải", "tiếng ồn", "cây đổ"],
    "trat_tu_do_thi": ["lấn chiếm vỉa hè", "xây dựng trái phép", "bảng quảng cáo", "hàng rong", "đậu xe"],
}
COMMON = ["phường", "người dân", "phản ánh", "khu vực", "đề nghị", "xử lý", "gần", "chợ", "trường học", "hẻm"]
SEEDS = range(6)
START, BATCH, ROUNDS = 6, 6, 40
TARGET = 0.9


def reports(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """Reports of a known category: a few common words and one cue; a third of them ambiguous
    (a cue of another category too, or none), which is where labels are worth the most."""
    texts, y = [], []
    for _ in range(n):
        label = LABELS[rng.integers(len(LABELS))]
        words = list(rng.choice(COMMON, size=4, replace=False))
        kind = rng.random()
        if kind < 0.7:
            words.append(str(rng.choice(CUES[label])))
        elif kind < 0.9:  # two categories named: the true one stated twice
            other = LABELS[(LABELS.index(label) + 1 + rng.integers(2)) % 3]
            words += [
                str(rng.choice(CUES[label])),
                str(rng.choice(CUES[label])),
                str(rng.choice(CUES[other])),
            ]
        else:  # only one rare cue among many common words
            words += [*rng.choice(COMMON, size=3), str(rng.choice(CUES[label][-2:]))]
        rng.shuffle(words)
        texts.append(" ".join(words))
        y.append(label)
    return texts, y


def labels_to_reach_target(seed: int, strategy: str) -> int:
    """Labels an annotator gives before the model's accuracy on held-out reports reaches TARGET."""
    rng = np.random.default_rng(seed)
    pool, truth = reports(rng, 1200)
    test, test_truth = reports(rng, 600)
    order = np.random.default_rng(seed + 1000).permutation(len(pool))
    labeled = list(order[:START])  # both strategies start from the same random rows
    for _ in range(ROUNDS):
        model = NaiveBayes(LABELS).fit([pool[i] for i in labeled], [truth[i] for i in labeled])
        predicted = np.array(LABELS)[model.predict_proba(test).argmax(axis=1)]
        if (predicted == np.array(test_truth)).mean() >= TARGET:
            return len(labeled)
        rest = np.setdiff1d(np.arange(len(pool)), labeled)
        if strategy == "least_confident":
            picked = rest[least_confident(model.predict_proba([pool[i] for i in rest]), BATCH)]
        else:
            picked = np.random.default_rng(seed + len(labeled)).choice(rest, size=BATCH, replace=False)
        labeled += list(picked)
    return len(labeled) + BATCH  # not reached: more than the loop gave


def test_least_confident_reaches_the_target_with_fewer_labels_than_random():
    active = [labels_to_reach_target(s, "least_confident") for s in SEEDS]
    random = [labels_to_reach_target(s, "random") for s in SEEDS]
    print(f"\nlabels to {TARGET:.0%} accuracy: least-confident {active}, random {random}")
    assert max(active) <= START + ROUNDS * BATCH, "active learning never reached the target"
    assert np.mean(active) < 0.8 * np.mean(random)  # at least a fifth fewer labels on average
    assert sum(a < r for a, r in zip(active, random, strict=True)) >= len(SEEDS) - 1
