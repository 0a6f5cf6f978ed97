"""Vietnamese-aware cleaning of agency data on pyarrow arrays and tables (pure logic, no services).

Modules: ``encoding`` (bytes to NFC text, TCVN3/VNI), ``text`` (NFC, whitespace, null tokens,
formula injection), ``columns`` (snake_case names), ``dates``, ``numbers`` (vi/en locales),
``admin_units`` (pre/post 2025 province and ward codes), ``pii`` (CCCD/CMND, phones, e-mail),
``issues`` (the row-level :class:`Issue` every cleaner returns); ``table.clean_table`` runs text,
number and date cleaning over a table with columns in parallel.
"""

from citydata.kernels.encoding import (
    DecodedText,
    IncrementalDecoder,
    decode_bytes,
    detect_encoding,
    detect_legacy_vietnamese,
    fix_legacy_array,
    fix_legacy_vietnamese,
    iter_decode,
)
from cleaning.admin_units import AdminUnit, AdminUnitsResult, normalize_admin_units, resolve_admin_unit
from cleaning.columns import rename_columns, snake_case, snake_case_columns
from cleaning.dates import infer_day_first, parse_dates
from cleaning.issues import Issue, issues_to_table
from cleaning.numbers import locale_evidence, parse_numbers
from cleaning.pii import PiiFinding, PiiReport, apply_pii, mask_pii, scan_pii
from cleaning.table import clean_table
from cleaning.text import (
    Cleaned,
    clean_text_columns,
    escape_formulas,
    find_formula_injection,
    normalize_strings,
)

__all__ = [
    "AdminUnit",
    "AdminUnitsResult",
    "Cleaned",
    "DecodedText",
    "IncrementalDecoder",
    "Issue",
    "PiiFinding",
    "PiiReport",
    "apply_pii",
    "clean_table",
    "clean_text_columns",
    "decode_bytes",
    "detect_encoding",
    "detect_legacy_vietnamese",
    "escape_formulas",
    "find_formula_injection",
    "fix_legacy_array",
    "fix_legacy_vietnamese",
    "infer_day_first",
    "issues_to_table",
    "iter_decode",
    "locale_evidence",
    "mask_pii",
    "normalize_admin_units",
    "normalize_strings",
    "parse_dates",
    "parse_numbers",
    "rename_columns",
    "resolve_admin_unit",
    "scan_pii",
    "snake_case",
    "snake_case_columns",
]
