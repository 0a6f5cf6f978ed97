"""Label-config templates, one module per task type.

A template module defines `TASK_TYPE`, `render(lab) -> str` (the Label Studio XML),
`check(lab) -> list[str]` (extra problems), `task_data(row, lab) -> dict` (the task's data from
one row), `extract(result) -> value` (an annotation's result list to a tidy value: a label string,
or a JSON list of spans/boxes) and `to_result(label, lab) -> list[dict]` (a label as a result list,
for predictions; empty when the template cannot pre-annotate). Optional: `from_value(value, lab) ->
(result, score) | None`, a ready-made pre-annotation held in a column (baseline kind `column`);
without it the value is taken as a label for `to_result`. Adding a task type means adding
one module here: modules are discovered by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def available() -> dict[str, ModuleType]:
    out = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        task_type = getattr(module, "TASK_TYPE", None)
        if task_type:
            out[task_type] = module
    return out


def get_template(task_type: str) -> ModuleType:
    templates = available()
    if task_type not in templates:
        raise ValueError(f"no label-config template for task type {task_type!r}; have {sorted(templates)}")
    return templates[task_type]
