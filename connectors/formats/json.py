"""JSON documents and JSON Lines to all-string Arrow tables.

Records are objects; nested objects are flattened to dotted columns (``{"dia_chi": {"phuong": "Bến
Nghé"}}`` -> ``dia_chi.phuong``), lists are kept as JSON text, numbers exactly as written,
``true``/``false`` as those words, null as null. Each cell's kind says what it was in the JSON
(``CellKind.NUMBER``, ``STRING``, ``BOOLEAN``, ``OTHER`` for lists and objects), so a number is
never re-read through a locale and a string code never becomes a number. Records with different
keys give the union of columns (first-seen order; absent keys are null). A record that is not an
object (a bare string, number or list) becomes a single ``value`` column.

* ``JsonReader`` (.json): the records are the top-level list, the list (or object) at
  ``options.records_path`` (dotted, list indexes allowed: ``"data.items"``, ``"result.0.rows"``),
  or a single top-level object as one row. The document is parsed in memory, so it is size-limited
  (``max_bytes``); row numbers (``first_line``) are record ordinals (1-based), since minified JSON
  has every record on line 1.
* ``JsonLinesReader`` (.jsonl, .ndjson): streamed line by line in two passes (columns, then rows),
  so memory stays bounded and every batch has the same columns. Kinds a source declared for the
  object (``COLUMN_KINDS_HEADER``: the SQL source's dates, decimals, text) override the JSON ones.
  A bad line becomes a ``RejectedRow`` with its file line; blank lines are skipped; line numbers
  are real file lines.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from typing import Any

from connectors.base import RawObject
from connectors.formats._common import (
    MAX_DOCUMENT_BYTES,
    BatchBuilder,
    JsonNumber,
    load_json_document,
    parse_json,
    raw_size,
    record_keys,
    record_row,
    row_cells,
)
from connectors.formats.base import (
    COLUMN_KINDS_HEADER,
    DECLARED_KINDS,
    CellKind,
    FormatError,
    FormatOptions,
    FormatReader,
    ReadBatch,
    ReadInfo,
)

__all__ = ["JsonLinesReader", "JsonReader", "select_records"]


def select_records(document: Any, records_path: str | None, file_name: str) -> list[Any]:
    """The records of a parsed document: a list as is, an object as one record."""
    target = document
    if records_path:
        walked: list[str] = []
        for part in records_path.split("."):
            if isinstance(target, dict):
                if part not in target:
                    keys = ", ".join(list(target)[:20]) or "none"
                    where = ".".join(walked) or "the top level"
                    raise FormatError(
                        f"{file_name}: records_path {records_path!r}: no key {part!r} at {where} "
                        f"(keys: {keys})"
                    )
                target = target[part]
            elif (
                isinstance(target, list)
                and part.lstrip("-").isdigit()
                and -len(target) <= int(part) < len(target)
            ):
                target = target[int(part)]
            else:
                raise FormatError(
                    f"{file_name}: records_path {records_path!r}: cannot take {part!r} from a "
                    f"{_kind(target)} at {'.'.join(walked) or 'the top level'}"
                )
            walked.append(part)
    if isinstance(target, list):
        return target
    if isinstance(target, dict):
        return [target]
    where = f"records_path {records_path!r}" if records_path else "the top level"
    raise FormatError(f"{file_name}: {where} is a {_kind(target)}, expected a list of records or an object")


def _is_index(part: str, length: int) -> bool:
    return part.lstrip("-").isdigit() and -length <= int(part) < length


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    return "number" if isinstance(value, JsonNumber) else "string"


class JsonReader(FormatReader):
    name = "json"
    extensions = (".json",)
    media_types = ("application/json", "text/json")

    def __init__(self, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self.max_bytes = max_bytes

    def read(self, raw: RawObject, options: FormatOptions, info: ReadInfo) -> Iterator[ReadBatch]:
        document = load_json_document(raw, options.encoding, self.max_bytes, info)
        records = select_records(document, options.records_path, raw.name)
        del document
        try:
            columns = list(record_keys(records, {}))
        except RecursionError:
            raise FormatError(f"{raw.name}: JSON nested too deeply") from None
        info.header_labels = columns
        index = {name: i for i, name in enumerate(columns)}
        builder = BatchBuilder(columns, options.batch_rows)
        for ordinal, record in enumerate(records, start=1):
            yield from builder.add(ordinal, *row_cells(record_row(record), index))
        yield from builder.finish(1)


class JsonLinesReader(FormatReader):
    name = "jsonl"
    extensions = (".jsonl", ".ndjson")
    media_types = (
        "application/x-ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
    )

    def read(self, raw: RawObject, options: FormatOptions, info: ReadInfo) -> Iterator[ReadBatch]:
        if raw_size(raw) == 0:
            raise FormatError(f"{raw.name}: empty file")
        encoding = _resolve_encoding(raw, options.encoding)
        columns: dict[str, None] = {}
        good = bad = 0
        first_error = ""
        for line, text in _lines(raw, encoding):
            record, error = _parse_line(text, encoding)
            if error is not None:
                bad += 1
                first_error = first_error or f"line {line}: {error}"
                continue
            good += 1
            try:
                record_keys([record], columns)
            except RecursionError:
                raise FormatError(f"{raw.name}: line {line}: JSON nested too deeply") from None
        if not good and not bad:
            raise FormatError(f"{raw.name}: empty file (no JSON lines)")
        if not good:
            raise FormatError(
                f"{raw.name}: none of the {bad} non-blank lines is a JSON value ({first_error}); "
                "is it a JSON document rather than JSON Lines?"
            )
        names = list(columns)
        info.encoding = encoding
        info.header_labels = names
        index = {name: i for i, name in enumerate(names)}
        declared = [(index[name], kind) for name, kind in _declared_kinds(raw).items() if name in index]
        builder = BatchBuilder(names, options.batch_rows)
        first = 0
        for line, text in _lines(raw, encoding):
            first = first or line
            record, error = _parse_line(text, encoding)
            if error is not None:
                raw_text = text if isinstance(text, str) else text.decode(encoding, "replace")
                yield from builder.reject(line, error, raw_text.rstrip("\r\n"))
                continue
            texts, kinds = row_cells(record_row(record), index)
            for at, kind in declared:
                if texts[at] is not None:
                    kinds[at] = kind
            yield from builder.add(line, texts, kinds)
        yield from builder.finish(first or 1)


def _declared_kinds(raw: RawObject) -> dict[str, CellKind]:
    """The column kinds the source declared for this object (see COLUMN_KINDS_HEADER)."""
    text = raw.headers.get(COLUMN_KINDS_HEADER)
    if not text:
        return {}
    try:
        declared = json.loads(text)
    except json.JSONDecodeError:
        return {}
    if not isinstance(declared, dict):
        return {}
    return {str(k): DECLARED_KINDS[v] for k, v in declared.items() if v in DECLARED_KINDS}


def _parse_line(text: str | bytes, encoding: str) -> tuple[Any, str | None]:
    """(record, None) or (None, reason); bytes mean the line could not be decoded."""
    if isinstance(text, bytes):
        return None, f"line is not valid {encoding} text"
    try:
        return parse_json(text), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at column {exc.colno}: {exc.msg}"
    except RecursionError:
        return None, "JSON nested too deeply"


def _resolve_encoding(raw: RawObject, encoding: str | None) -> str:
    """The given encoding (checked), else UTF-32/16 by BOM, else UTF-8 (RFC 8259)."""
    if encoding:
        try:
            return codecs.lookup(encoding).name
        except LookupError:
            raise FormatError(f"{raw.name}: unknown encoding {encoding!r}") from None
    with raw.open() as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _lines(raw: RawObject, encoding: str) -> Iterator[tuple[int, str | bytes]]:
    """(line number, text) for every non-blank line; undecodable lines come back as bytes."""
    with raw.open() as fh:
        if '\n{}"'.encode(encoding) == b'\n{}"':
            for number, data in enumerate(fh, start=1):
                if number == 1 and data.startswith(codecs.BOM_UTF8):
                    data = data[len(codecs.BOM_UTF8) :]
                if not data.strip():
                    continue
                try:
                    yield number, data.decode(encoding).rstrip("\r\n")
                except UnicodeDecodeError:
                    yield number, data
            return
        # UTF-16/32: bytes cannot be split on b"\n"; decode the stream (a bad byte fails the file)
        text = io.TextIOWrapper(fh, encoding=encoding, newline="")
        try:
            for number, line in enumerate(text, start=1):
                line = line.removeprefix("\ufeff") if number == 1 else line
                if line.strip():
                    yield number, line.rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"{raw.name}: not valid {encoding} text (byte {exc.start} of a chunk)"
            ) from None
        finally:
            text.detach()
