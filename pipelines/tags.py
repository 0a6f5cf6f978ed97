"""Run tags the CLI and the pipelines share (no Dagster import, so the CLI starts fast)."""

PROCESS_TAG = "citydata/process"  # `citydata run` tags its runs with its own process (<host>-<pid>-<start>)
