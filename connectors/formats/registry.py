"""Discovers format readers in `connectors/formats/` and picks one for a file."""

from __future__ import annotations

from functools import cache
from pathlib import PurePosixPath

import connectors.formats
from citydata.plugins import discover
from connectors.formats.base import FormatError, FormatReader

_SKIP = {"base", "registry"}


@cache
def format_readers() -> dict[str, FormatReader]:
    return {cls.name: cls() for cls in discover(connectors.formats, FormatReader, skip=_SKIP)}


def reader_for(file_name: str, declared: str | None = None, media_type: str | None = None) -> FormatReader:
    """The reader named in the spec, else by file extension, else by media type."""
    readers = format_readers()
    if declared:
        if declared == "tsv" and "tsv" not in readers and "csv" in readers:
            return readers["csv"]
        if declared not in readers:
            raise FormatError(
                f"{file_name}: unknown format {declared!r} (known: {', '.join(sorted(readers))})"
            )
        return readers[declared]
    suffix = PurePosixPath(file_name.lower()).suffix
    for reader in readers.values():
        if suffix in reader.extensions:
            return reader
    if media_type:
        base = media_type.split(";", 1)[0].strip().lower()
        for reader in readers.values():
            if base in reader.media_types:
                return reader
    raise FormatError(f"{file_name}: cannot tell the format (extension {suffix or 'none'}); set format.name")
