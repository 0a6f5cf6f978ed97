"""The executor of every job, chosen by CITYDATA_DAGSTER__EXECUTOR."""

from __future__ import annotations

import importlib

import dagster as dg

from citydata.settings import Settings


def _extra(module: str, attribute: str, extra: str) -> dg.ExecutorDefinition:
    try:
        found: dg.ExecutorDefinition = getattr(importlib.import_module(module), attribute)
    except ImportError as exc:
        raise ImportError(
            f"CITYDATA_DAGSTER__EXECUTOR needs {module}: install citydata with the `{extra}` extra"
        ) from exc
    return found


def chosen_executor(settings: Settings) -> dg.ExecutorDefinition:
    """The executor the settings choose (CITYDATA_DAGSTER__EXECUTOR). The multiprocess executor
    costs seconds per step on two cores; in-process is the local default."""
    chosen = settings.dagster.executor
    if chosen == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": 2})
    if chosen == "celery":  # steps go to Celery workers on other machines (broker from the settings)
        return _extra("dagster_celery", "celery_executor", "celery").configured(
            {
                "broker": {"env": "CITYDATA_DAGSTER__CELERY_BROKER_URL"},
                "backend": {"env": "CITYDATA_DAGSTER__CELERY_BACKEND_URL"},
            }
        )
    if chosen == "k8s":  # each step a Kubernetes job (the run launcher starts the run as one)
        return _extra("dagster_k8s", "k8s_job_executor", "k8s")
    return dg.in_process_executor
