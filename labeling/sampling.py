"""Choosing which clean rows become tasks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from labeling.spec import LabelingSpec


def sample_rows(
    df: pd.DataFrame,
    lab: LabelingSpec,
    *,
    flagged_ids: set[str] | None = None,
    confidence: np.ndarray | None = None,
    n: int | None = None,
) -> pd.DataFrame:
    """Up to `n` (default sample_size) rows of `df` (which has a `_row_id` column), in a stable order."""
    n = lab.sample_size if n is None else n
    if n >= len(df) and lab.sampling.strategy != "quality_flagged":
        return df
    seed = lab.sampling.seed
    strategy = lab.sampling.strategy
    if strategy == "stratified" and lab.sampling.column in df.columns:
        col = df[lab.sampling.column].astype("string").fillna("<null>")
        shares = col.value_counts(normalize=True)
        quota = {k: max(1, round(v * n)) for k, v in shares.items()}
        parts = [
            g.sample(n=min(len(g), quota[str(k)]), random_state=seed) for k, g in df.groupby(col, sort=True)
        ]
        return pd.concat(parts).head(n)
    if strategy == "quality_flagged":
        if flagged_ids is not None:
            picked = df[df["_row_id"].isin(flagged_ids)]
            return picked.sample(n=min(n, len(picked)), random_state=seed) if len(picked) > n else picked
    if strategy == "least_confident" and confidence is not None and len(confidence) == len(df):
        order = np.argsort(confidence, kind="stable")[:n]
        return df.iloc[order]
    return df.sample(n=min(n, len(df)), random_state=seed)
