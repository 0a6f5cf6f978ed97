"""Read the first rows of a file the way the clean stage would: same readers, same typing.

The source is a local path or an http(s) URL (downloaded once into a scratch folder with the
project's HTTP session). At most ``sample_rows`` data rows are read and cleaned, so a 2 GB file
costs its first batch, not a full pass; ``Sample.complete`` says whether the whole file was read
(only then is its footer known: readers find it at the end).
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import requests

from citydata.kernels.encoding import detect_encoding
from citydata.spec.model import DatasetSpec
from connectors.base import RawObject, file_object, spool_chunks
from connectors.formats.base import FormatError, FormatOptions, ReadBatch, ReadInfo
from connectors.formats.registry import reader_for
from ingest.column_types import ColumnPlan, LeadingZeroError
from ingest.transform import BatchCleaner, SchemaMismatchError

MAX_BATCH = 200_000  # FormatOptions' default batch: never more rows in memory at once
_HEAD_BYTES = 65_536


class DraftError(ValueError):
    """The source cannot be drafted from; the message names the file or URL and why."""


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def fetch(source: str, workdir: Path, timeout_s: float = 60) -> RawObject:
    """The source as a raw object: a local file as it is, a URL downloaded into ``workdir``."""
    if not is_url(source):
        path = Path(source).expanduser()
        if not path.exists():
            raise DraftError(f"{source}: no such file")
        if not path.is_file():
            raise DraftError(f"{source}: not a file (give one data file)")
        try:
            return file_object(path.name, path, source_uri=path.resolve().as_uri())
        except OSError as exc:
            raise DraftError(f"{source}: cannot read the file: {exc.strerror or exc}") from exc
    from connectors.http import session
    from connectors.sources.http_file import file_name

    try:
        resp = session(attempts=3).get(source, stream=True, timeout=timeout_s)
    except requests.RequestException as exc:
        raise DraftError(f"{source}: download failed: {exc}") from exc
    with resp:
        if resp.status_code != 200:
            raise DraftError(f"{source}: download failed: HTTP {resp.status_code} {resp.reason}")
        return spool_chunks(file_name(source, resp), resp.iter_content(chunk_size=1 << 20), workdir,
                            source_uri=source, media_type=resp.headers.get("Content-Type"))  # fmt: skip


def inference_spec() -> DatasetSpec:
    """A spec without hints: every column is typed from the data, nothing is masked or dropped
    (the draft must see the values to judge them), no row is de-duplicated."""
    return DatasetSpec.model_validate(
        {
            "id": "draft",
            "agency": {"id": "draft", "title": {"vi": "draft"}},
            "title": {"vi": "draft"},
            "description": {"vi": "draft"},
            "dublin_core": {"creator": "draft", "publisher": "draft", "date": "2000-01-01"},
            "source": {"type": "local_file", "path": "/dev/null"},
            "cleaning": {"pii": "keep", "deduplicate": False, "max_rejected_ratio": 1.0},
        }
    )


@dataclass
class Sample:
    """What reading and cleaning the first rows told."""

    name: str  # file name
    format: str  # reader name: csv, xlsx...
    info: ReadInfo
    table: pa.Table  # the cleaned (typed) rows
    plans: list[ColumnPlan]  # per column: name, label, type, identifier, locale
    rows_read: int  # data rows read (clean + rejected)
    rows_rejected: int  # rows with a cell that failed its inferred type, or unparseable rows
    complete: bool  # the whole file was read: the footer is known
    sheets: list[str] = field(default_factory=list)
    pii: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> kind -> cells
    encoding_confidence: float | None = None  # CSV only: how sure the encoding detection is
    extension_known: bool = True  # the file name's extension names the format


def _trimmed(batches: Iterator[ReadBatch], limit: int, state: dict[str, Any]) -> Iterator[ReadBatch]:
    """The batches up to ``limit`` rows; ``state['complete']`` is False when rows were left."""
    total = 0
    for batch in batches:
        if total >= limit:
            state["complete"] = False
            return
        n = batch.table.num_rows
        if total + n > limit:
            keep = limit - total
            lines = batch.line_numbers()[:keep]
            kinds = {k: v.slice(0, keep) for k, v in batch.kinds.items()}
            yield ReadBatch(batch.table.slice(0, keep), batch.first_line, batch.rejected, batch.sheet,
                            lines, kinds)  # fmt: skip
            state["complete"] = False
            return
        total += n
        yield batch
    state["complete"] = True


def read_sample(raw: RawObject, sample_rows: int, options: FormatOptions | None = None) -> Sample:
    """Read and clean at most ``sample_rows`` rows of ``raw``; DraftError naming the file if unreadable."""
    name = raw.name
    try:
        reader = reader_for(name, None, raw.media_type)
    except FormatError as exc:
        raise DraftError(f"{exc} (formats: csv, tsv, xlsx, xls, json, jsonl, geojson, parquet)") from exc
    extension_known = True
    try:
        reader_for(name)
    except FormatError:
        extension_known = False  # chosen by the media type: the spec must say format.name
    batch_rows = max(1_000, min(sample_rows, MAX_BATCH))
    base = options or FormatOptions()
    options = base.model_copy(update={"batch_rows": batch_rows})
    info = ReadInfo()
    state: dict[str, Any] = {"complete": True}
    goods: list[pa.Table] = []
    rows_read = rejected = 0
    pii: dict[str, dict[str, int]] = {}
    sheets: list[str] = []
    try:
        # readers are generators: closing one stops a prefetch thread or an open workbook early
        read = cast(Generator[ReadBatch, None, None], reader.read(raw, options, info))
        with closing(read) as batches:
            head = list(itertools.islice(batches, 1))
            if head and head[0].table.num_rows == 0:  # a header without rows, or an empty first sheet
                head += itertools.islice(batches, 1)
            if not any(b.table.num_rows for b in head):
                raise DraftError(f"{name}: no data rows under the header: nothing to infer columns from")
            cleaner = BatchCleaner(inference_spec(), info.header_labels or head[0].table.column_names)
            chained = _trimmed(itertools.chain(head, batches), sample_rows, state)
            for batch, out in cleaner.clean_all(chained):
                rows_read += batch.table.num_rows + len(batch.rejected)
                rejected += len(batch.rejected) + out.rejected.num_rows
                goods.append(out.good)
                if batch.sheet is not None and batch.sheet not in sheets:
                    sheets.append(batch.sheet)
                for column, kinds in out.pii.items():
                    for kind, count in kinds.items():
                        pii.setdefault(column, {})[kind] = pii.get(column, {}).get(kind, 0) + count
    except (FormatError, SchemaMismatchError, LeadingZeroError, pa.ArrowInvalid, UnicodeDecodeError) as exc:
        text = str(exc)
        raise DraftError(text if text.startswith(name) else f"{name}: {text}") from exc
    except OSError as exc:
        raise DraftError(f"{name}: cannot read the file: {exc.strerror or exc}") from exc
    table = pa.concat_tables(goods) if goods else pa.table({})
    if table.num_rows == 0:
        raise DraftError(f"{name}: none of the {rows_read} rows read could be cleaned")
    confidence = None
    if reader.name == "csv":
        with raw.open() as fh:
            confidence = detect_encoding(fh.read(_HEAD_BYTES))[2]
    return Sample(name, reader.name, info, table, cleaner.columns, rows_read, rejected, state["complete"],
                  sheets, pii, confidence, extension_known)  # fmt: skip
