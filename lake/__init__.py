"""The data lake on S3 (through the minio SDK): zones, key layout, reads and writes."""
