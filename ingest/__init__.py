"""The ingest stages: `pull` (source → raw zone) and `clean` (raw zone → typed Parquet in the clean zone)."""
