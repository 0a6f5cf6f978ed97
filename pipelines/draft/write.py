"""`citydata new`: read a sample of a file or URL, infer a spec, write it as commented YAML.

The file is written only once it loads (``load_spec``) and passes every stage's check
(``deep_check``): `citydata datasets check` accepts it as written. It is first written into a
scratch folder beside the target and then moved in place, so a failure leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citydata.settings import REPO_ROOT
from citydata.spec import SpecError, load_spec
from citydata.spec.model import SLUG_RE
from cleaning.columns import snake_case
from connectors.formats.base import FormatOptions
from pipelines.draft.infer import Draft, build_draft
from pipelines.draft.layout import layout_to_pin, same_reading
from pipelines.draft.render import render
from pipelines.draft.sample import DraftError, Sample, fetch, is_url, read_sample
from pipelines.spec_checks import deep_check

SCHEMA_FILE = REPO_ROOT / "datasets" / "spec.schema.json"
DEFAULT_SAMPLE_ROWS = 50_000


class DraftExistsError(DraftError):
    """The target spec file exists and replacing it was not asked for."""


@dataclass
class Written:
    path: Path
    draft: Draft
    text: str


def slug(text: str) -> str:
    """A dataset id from a name: "Bãi giữ xe (2025).csv" stem -> "bai-giu-xe-2025"."""
    value = re.sub(r"-+", "-", snake_case(text, digit_prefix="").replace("_", "-"))[:100].strip("-")
    return value if SLUG_RE.match(value) else "dataset"


def source_name(source: str) -> str:
    """The file name of a path or URL, without query or fragment."""
    return Path(re.split(r"[?#]", source)[0].rstrip("/")).name


def check_id(dataset_id: str) -> str:
    if not SLUG_RE.match(dataset_id) or "--" in dataset_id:
        raise ValueError(
            f"--id {dataset_id!r}: use lowercase letters, digits and single hyphens, e.g. bai-giu-xe"
        )
    return dataset_id


def target(source: str, dataset_id: str | None, out: Path | None, specs_dir: Path) -> tuple[str, Path]:
    """(id, spec path): the id defaults to the slug of the file name (or of --out's name); the spec
    must be named ``<id>.yaml``, as the loader requires."""
    if out is not None and out.is_dir():
        out = out / f"{dataset_id or slug(Path(source_name(source)).stem)}.yaml"
    if dataset_id is None:
        dataset_id = slug(out.stem) if out is not None else slug(Path(source_name(source)).stem)
    check_id(dataset_id)
    path = out if out is not None else specs_dir / f"{dataset_id}.yaml"
    if path.suffix not in (".yaml", ".yml") or path.stem != dataset_id:
        raise ValueError(f"--out {path}: a spec file must be named {dataset_id}.yaml (its id)")
    return dataset_id, path


def _source_section(source: str, spec_dir: Path) -> dict[str, Any]:
    if is_url(source):
        return {"type": "http_file", "url": source}
    # relative to the spec's folder, as the loader resolves it (citydata.spec.fields.rebase_paths)
    return {"type": "local_file", "path": os.path.relpath(Path(source).expanduser().resolve(), spec_dir)}


def _pinned(raw: Any, sample: Sample, sample_rows: int) -> dict[str, int] | None:
    """The layout to pin, if reading the file again with it gives the same table (else detection)."""
    pinned = layout_to_pin(sample)
    if pinned is None:
        return None
    given: dict[str, Any] = dict(pinned)
    if sample.format == "csv":
        given.update(encoding=sample.info.encoding, delimiter=sample.info.delimiter)
    again = read_sample(raw, sample_rows, FormatOptions(**given))
    return pinned if same_reading(sample, again) else None


def draft_from(
    source: str,
    dataset_id: str,
    path: Path,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    today: dt.date | None = None,
) -> tuple[Draft, str]:
    """The draft of ``source`` for a spec at ``path``, and its YAML text (nothing is written)."""
    spec_dir = path.absolute().parent
    with tempfile.TemporaryDirectory(prefix="citydata-new-") as tmp:
        raw = fetch(source, Path(tmp))
        sample = read_sample(raw, sample_rows)
        pinned = _pinned(raw, sample, sample_rows)
    draft = build_draft(
        sample, dataset_id, _source_section(source, spec_dir), pinned, today or dt.date.today()
    )
    schema_ref = os.path.relpath(SCHEMA_FILE, spec_dir)
    return draft, render(draft, schema_ref)


def _checked(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` only if it loads and passes the stages' checks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".citydata-new-", dir=path.parent))
    try:
        trial = scratch / path.name
        trial.write_text(text, encoding="utf-8")
        try:
            spec = load_spec(trial)
        except SpecError as exc:
            raise DraftError(f"{path}: the draft does not validate (a bug in `citydata new`): {exc}") from exc
        problems = deep_check(spec)
        if problems:
            raise DraftError(f"{path}: the draft does not pass the checks: {'; '.join(problems)}")
        os.replace(trial, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write_draft(
    source: str,
    dataset_id: str,
    path: Path,
    force: bool = False,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    today: dt.date | None = None,
) -> Written:
    """Infer the spec of ``source`` and write it to ``path``; DraftError (nothing written) if not."""
    if path.exists() and not force:
        raise DraftExistsError(f"{path}: exists; use --force to replace it")
    draft, text = draft_from(source, dataset_id, path, sample_rows, today)
    _checked(text, path)
    draft.summary["path"] = str(path)
    return Written(path, draft, text)
