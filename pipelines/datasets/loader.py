"""Load the dataset specs for the code location; a broken spec is logged, never fatal."""

import logging

from citydata.settings import load_settings
from citydata.spec import load_specs
from citydata.spec.model import DatasetSpec

log = logging.getLogger(__name__)


def specs_for_definitions() -> list[DatasetSpec]:
    loaded = load_specs(load_settings().specs_dir)
    for error in loaded.errors:
        log.error("skipping invalid dataset spec: %s", error)
    return list(loaded.specs.values())
