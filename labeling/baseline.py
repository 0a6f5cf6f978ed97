"""Baseline models for pre-annotations: keyword rules and a small multinomial naive Bayes (numpy).

scikit-learn is not a project dependency, so naive Bayes is implemented here (~40 lines).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    words = _TOKEN.findall(unicodedata.normalize("NFC", str(text or "")).lower())
    return words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]  # Vietnamese: bigrams


class KeywordModel:
    """Scores each label by how many of its keywords occur; softmax-ish normalisation."""

    def __init__(self, keywords: dict[str, list[str]], labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.keywords = {k: [unicodedata.normalize("NFC", w).lower() for w in v] for k, v in keywords.items()}

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = np.full((len(texts), len(self.labels)), 1.0)
        for i, text in enumerate(texts):
            low = unicodedata.normalize("NFC", str(text or "")).lower()
            for j, label in enumerate(self.labels):
                out[i, j] += 3.0 * sum(w in low for w in self.keywords.get(label, []))
        return out / out.sum(axis=1, keepdims=True)


class NaiveBayes:
    """Multinomial naive Bayes with Laplace smoothing over word and bigram counts."""

    def __init__(self, labels: Sequence[str], alpha: float = 1.0) -> None:
        self.labels = list(labels)
        self.alpha = alpha
        self.vocab: dict[str, int] = {}
        self.log_prior = np.zeros(len(self.labels))
        self.log_lik = np.zeros((len(self.labels), 0))

    def fit(self, texts: Sequence[str], y: Sequence[str]) -> NaiveBayes:
        docs = [tokenize(t) for t in texts]
        for doc in docs:
            for w in doc:
                self.vocab.setdefault(w, len(self.vocab))
        counts = np.zeros((len(self.labels), len(self.vocab)))
        prior = np.zeros(len(self.labels))
        index = {lab: i for i, lab in enumerate(self.labels)}
        for doc, label in zip(docs, y, strict=True):
            k = index[label]
            prior[k] += 1
            for w in doc:
                counts[k, self.vocab[w]] += 1
        smoothed = counts + self.alpha
        self.log_lik = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))
        self.log_prior = np.log((prior + self.alpha) / (prior.sum() + self.alpha * len(self.labels)))
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        x = np.zeros((len(texts), len(self.vocab)))
        for i, t in enumerate(texts):
            for w in tokenize(t):
                j = self.vocab.get(w)
                if j is not None:
                    x[i, j] += 1
        joint = x @ self.log_lik.T + self.log_prior
        joint -= joint.max(axis=1, keepdims=True)
        p = np.exp(joint)
        return np.asarray(p / p.sum(axis=1, keepdims=True))


def least_confident(proba: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the k rows whose top class probability is lowest (most uncertain first)."""
    if len(proba) == 0:
        return np.array([], dtype=int)
    return np.argsort(proba.max(axis=1), kind="stable")[:k]
