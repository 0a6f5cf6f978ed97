"""Draft dataset specs inferred from a data file or URL (`citydata new`).

``sample`` reads the first rows as the clean stage would, ``columns`` and ``layout`` judge them,
``infer`` assembles the spec and its comments, ``render`` writes the YAML, ``write`` checks and
writes the file.
"""

from pipelines.draft.sample import DraftError
from pipelines.draft.write import (
    DEFAULT_SAMPLE_ROWS,
    DraftExistsError,
    Written,
    draft_from,
    slug,
    source_name,
    target,
    write_draft,
)

__all__ = [
    "DEFAULT_SAMPLE_ROWS",
    "DraftError",
    "DraftExistsError",
    "Written",
    "draft_from",
    "slug",
    "source_name",
    "target",
    "write_draft",
]
