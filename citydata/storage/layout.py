"""Object keys of the lake's zones. Every key part is checked: no traversal, no empty parts.

raw/<agency>/<dataset>/<pull_id>/<file>          bytes exactly as pulled, + _pull.json (ingest)
clean/<agency>/<dataset>/<pull_id>/data.parquet  cleaned, typed rows, + _clean.json (ingest)
quarantine/<agency>/<dataset>/<pull_id>/...      rows that failed, with the reason per row
state/<dataset>/source.json                      the last pull and the connector's incremental state
state/<dataset>/labeling.json                    the Label Studio project and every task key exported
reports/<agency>/<dataset>/...                   quality summaries and Data Docs (quality stage)
published/<agency>/<dataset>/...                 versions and the current pointer (lake stage;
                                                 keys in `citydata.storage.published`)
labels/<agency>/<dataset>/<timestamp>/...        imported annotations (labeling stage)
catalog/<agency>/<dataset>/entry.json              the spec and state as last published to CKAN (catalog
                                                 stage; `catalog rebuild` reads it)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import unquote

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeKeyError(ValueError):
    """A key part would escape its prefix or is not a plain name."""


def safe_part(part: str) -> str:
    if not part or part in {".", ".."} or "/" in part or "\\" in part or not _PART.match(part):
        raise UnsafeKeyError(f"unsafe object key part: {part!r}")
    return part


def check_key(key: str) -> str:
    """`key` unchanged if it is a relative key that stays inside its prefix, else UnsafeKeyError.

    Refused: empty keys, absolute paths (`/x`, `C:\\x`), `..` segments, also when %-encoded
    (`%2e%2e/`, `%2F`, double-encoded `%252e`), and NUL characters.
    """
    decoded = percent_decoded(key)
    if not key.strip("/"):
        raise UnsafeKeyError("empty path")
    if "\x00" in decoded:
        raise UnsafeKeyError(f"NUL character in {key!r}")
    if any(text.startswith(("/", "\\")) or _DRIVE.match(text) for text in (key, decoded)):
        raise UnsafeKeyError(f"absolute path not allowed: {key!r}")
    if ".." in decoded.replace("\\", "/").split("/"):
        raise UnsafeKeyError(f"path traversal not allowed: {key!r}")
    return key


def safe_relative(path: str) -> str:
    """A relative path of safe parts (file names inside a pull may contain folders)."""
    check_key(path)
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    return "/".join(safe_part(_sanitize(p)) for p in parts)


def percent_decoded(text: str, rounds: int = 3) -> str:
    """`text` with %-escapes undone, repeatedly (%252e -> %2e -> .), as a lenient server might."""
    for _ in range(rounds):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def _sanitize(name: str) -> str:
    """File names from sources may contain spaces or Vietnamese letters: keep them readable."""
    if name in {".", ".."}:
        raise UnsafeKeyError(f"path traversal not allowed: {name!r}")
    cleaned = re.sub(r"[^A-Za-z0-9._\-]+", "_", name).strip("_")
    return cleaned if cleaned and cleaned[0].isalnum() else f"f_{cleaned}"


def new_pull_id() -> str:
    """Sortable, unique enough for one dataset: UTC timestamp to the microsecond."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def zone_prefix(zone: str, agency: str, dataset: str, pull_id: str | None = None) -> str:
    base = f"{safe_part(zone)}/{safe_part(agency)}/{safe_part(dataset)}/"
    return base + (f"{safe_part(pull_id)}/" if pull_id else "")


def state_key(dataset: str, name: str = "source") -> str:
    return f"state/{safe_part(dataset)}/{safe_part(name)}.json"
