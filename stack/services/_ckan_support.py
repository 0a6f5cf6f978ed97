"""SQL and small helpers of the CKAN service (`stack/services/ckan.py`)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

# The DataStore's full-text search configuration (see ckan.overrides.ini), idempotent. The database
# default is what CKAN's `zfulltext` trigger and the bulk load's `to_tsvector(text)` use; CKAN's
# queries name it (ckan.datastore.default_fts_lang), so rows and queries are folded alike.
DATASTORE_TEXT_SEARCH = """
CREATE EXTENSION IF NOT EXISTS unaccent;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'citydata_vi') THEN
    CREATE TEXT SEARCH CONFIGURATION public.citydata_vi (COPY = pg_catalog.simple);
    ALTER TEXT SEARCH CONFIGURATION public.citydata_vi
      ALTER MAPPING FOR hword, hword_part, word, asciiword, asciihword, hword_asciipart
      WITH public.unaccent, pg_catalog.simple;
  END IF;
END $$;
ALTER DATABASE ckan_datastore SET default_text_search_config = 'public.citydata_vi';
"""


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def private_write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
