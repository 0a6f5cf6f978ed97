"""Per-dataset assets, generated from the specs in `datasets/` (one asset graph per spec)."""
