"""The licence ids a spec may name: CKAN 2.12's default licence list.

Source: ckan/model/license.py of CKAN 2.12.0 (`LicenseRegister.__init__`, the list used when
`licenses_group_url` is not set, as on the local stack), in CKAN's order. Kept here as data
because the spec layer must not import CKAN; `tests/integration/test_spec_licences.py` compares
it with the live catalog's `license_list` action, so a CKAN configured with another list fails
there first.
"""

from __future__ import annotations

CKAN_LICENSES: dict[str, str] = {
    "notspecified": "License not specified",
    "odc-pddl": "Open Data Commons Public Domain Dedication and License (PDDL)",
    "odc-odbl": "Open Data Commons Open Database License (ODbL)",
    "odc-by": "Open Data Commons Attribution License",
    "cc-zero": "Creative Commons CCZero",
    "cc-by": "Creative Commons Attribution",
    "cc-by-sa": "Creative Commons Attribution Share-Alike",
    "gfdl": "GNU Free Documentation License",
    "other-open": "Other (Open)",
    "other-pd": "Other (Public Domain)",
    "other-at": "Other (Attribution)",
    "uk-ogl": "UK Open Government Licence (OGL)",
    "cc-nc": "Creative Commons Non-Commercial (Any)",
    "other-nc": "Other (Non-Commercial)",
    "other-closed": "Other (Not Open)",
}

LICENSE_IDS: tuple[str, ...] = tuple(CKAN_LICENSES)

# The ids CKAN 2.12 marks as open (`od_conformance: approved` in `license_list`, the Open
# Definition); the same test compares them with the live catalog.
OPEN_LICENSES: frozenset[str] = frozenset(
    {"odc-pddl", "odc-odbl", "odc-by", "cc-zero", "cc-by", "cc-by-sa", "gfdl", "other-open", "other-pd",
     "other-at", "uk-ogl"}
)  # fmt: skip


def check_license(value: str) -> str:
    """The id itself when CKAN knows it; else a ValueError naming the closest and every allowed id."""
    if value in CKAN_LICENSES:
        return value
    import difflib

    close = difflib.get_close_matches(value.lower(), LICENSE_IDS, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(f"unknown licence {value!r}; {hint}CKAN's licence ids: {', '.join(LICENSE_IDS)}")
