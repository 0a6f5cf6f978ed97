"""Dataset specs: the typed model and the loader for `datasets/*.yaml`."""

from citydata.spec.loader import SpecError, load_spec, load_specs, resolve_spec
from citydata.spec.model import DatasetSpec

__all__ = ["DatasetSpec", "SpecError", "load_spec", "load_specs", "resolve_spec"]
