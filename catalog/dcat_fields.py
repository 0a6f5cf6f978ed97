"""DCAT-AP 3 values of a catalog entry: vocabulary URIs and the fields that carry them (pure, no I/O).

ckanext-dcat's `euro_dcat_ap_3` profile serialises CKAN's package fields; the project's CKAN profile
`citydata_dcat_ap` (stack/ckan/ckanext-citydata/ckanext/citydata/dcat_profile.py) then completes the
graph from the `citydata_*` extras named here. What the spec knows goes in as vocabulary URIs:

    spec.license            distributions' `license`: EU licence authority URI (dataset: the same)
    spec.update_frequency   `frequency`: EU frequency authority URI
    dublin_core.language    `language`: EU language authority URIs (vi -> VIE)
    publication.themes      `theme`: EU data-theme URIs
    dublin_core.type        `dcat_type`: DCMI Type Vocabulary URI (Dataset -> dcmitype/Dataset)
    dublin_core.relation    qualified_relation `relation`: a URL, or a dataset id -> its catalog URL
    title.en, description.en, dublin_core.source, dublin_core.format     extras (see EXTRA_KEYS)
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from citydata.spec.model import DatasetSpec

EU = "http://publications.europa.eu/resource/authority/"
DCMITYPE = "http://purl.org/dc/dcmitype/"
LANGUAGES = {"vi": "VIE", "vie": "VIE", "en": "ENG", "eng": "ENG", "fr": "FRA", "zh": "ZHO", "ja": "JPN",
             "ko": "KOR", "km": "KHM"}  # fmt: skip

# CKAN 2.12's licence ids (citydata/spec/licenses.py) -> the EU licence authority table, which
# DCAT-AP 3 recommends for dct:license. CKAN's own `license_url`s are opendefinition.org pages, not
# licence identifiers. The `other-*` and `notspecified` ids name no licence document: no URI.
LICENSE_URIS: dict[str, str] = {
    "cc-by": f"{EU}licence/CC_BY_4_0",
    "cc-by-sa": f"{EU}licence/CC_BYSA_4_0",
    "cc-zero": f"{EU}licence/CC0",
    "cc-nc": f"{EU}licence/CC_BYNC_2_0",  # CKAN's register points at by-nc/2.0
    "odc-by": f"{EU}licence/ODC_BY",
    "odc-odbl": f"{EU}licence/ODC_BL",
    "odc-pddl": f"{EU}licence/ODC_PDDL",
    "gfdl": f"{EU}licence/GNU_FDL_1_3",
    "uk-ogl": f"{EU}licence/OGL_3_0",
}

DCMI_TYPES = ("Collection", "Dataset", "Event", "Image", "InteractiveResource", "MovingImage",
              "PhysicalObject", "Service", "Software", "Sound", "StillImage", "Text")  # fmt: skip

# Extras the CKAN profile reads (keep in step with ckanext/citydata/dcat_profile.py).
TITLE_EN_KEY = "citydata_title_en"
DESCRIPTION_EN_KEY = "citydata_description_en"
SOURCE_KEY = "citydata_dc_source"
FORMAT_KEY = "citydata_dc_format"
EXTRA_KEYS = (TITLE_EN_KEY, DESCRIPTION_EN_KEY, SOURCE_KEY, FORMAT_KEY)

SYNTHETIC_EN = "This dataset is synthetic: generated for testing, not real agency data."
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)


def license_uri(license_id: str) -> str | None:
    """A CKAN licence id -> its EU licence authority URI (None for `other-*` and `notspecified`)."""
    return LICENSE_URIS.get(license_id.strip().lower())


def frequency_uri(cron: str) -> str | None:
    """A cron expression -> the EU frequency authority URI it approximates (None when unclear)."""
    aliases = {"@hourly": "HOURLY", "@daily": "DAILY", "@weekly": "WEEKLY", "@monthly": "MONTHLY",
               "@yearly": "ANNUAL", "@annually": "ANNUAL"}  # fmt: skip
    if cron in aliases:
        return f"{EU}frequency/{aliases[cron]}"
    fields = cron.split()
    if len(fields) != 5:
        return None
    minute, hour, dom, month, dow = fields
    if hour == "*" or "/" in hour or "," in hour:
        code = "HOURLY" if minute.isdigit() and hour == "*" else "UPDATE_CONT"
    elif dom == "*" and month == "*" and dow == "*":
        code = "DAILY"
    elif dom == "*" and month == "*":
        code = "WEEKLY"
    elif month == "*":
        code = "MONTHLY"
    elif dom.isdigit() and "," not in month and "/" not in month:
        code = "ANNUAL"
    else:
        code = "IRREG"
    return f"{EU}frequency/{code}"


def language_uris(codes: Iterable[str]) -> list[str]:
    out = []
    for code in codes:
        key = code.strip().lower()
        out.append(f"{EU}language/{LANGUAGES[key]}" if key in LANGUAGES else code.strip())
    return list(dict.fromkeys(c for c in out if c))


def theme_uris(themes: Iterable[str]) -> list[str]:
    return [t if "://" in t else f"{EU}data-theme/{t.strip().upper()}" for t in themes if t.strip()]


def dcmi_type_uri(value: str) -> str | None:
    """A Dublin Core type (`Dataset`, `dataset`, or a URI) -> a URI; None when it is no DCMI type.

    DCAT-AP wants dct:type to be a concept (a URI), not the bare word."""
    value = value.strip()
    if _URL.match(value):
        return value
    found = {t.lower(): t for t in DCMI_TYPES}.get(value.replace(" ", "").lower())
    return DCMITYPE + found if found else None


def relation_uri(value: str, ckan_url: str) -> str:
    """A DC relation: a URL stays; anything else names a catalog dataset -> that dataset's page."""
    value = value.strip()
    if _URL.match(value):
        return value
    return f"{ckan_url.rstrip('/')}/dataset/{urllib.parse.quote(value, safe='')}"


def distribution_fields(url: str, license_id: str, rights: str | None) -> dict[str, Any]:
    """Every resource is a file: dcat:downloadURL and dcat:accessURL are its URL; the licence URI
    and the DC rights statement hold for each of them."""
    fields: dict[str, Any] = {"access_url": url, "download_url": url}
    if found := license_uri(license_id):
        fields["license"] = found
    if rights:
        fields["rights"] = rights
    return fields


def dcat_extras(spec: DatasetSpec) -> dict[str, str]:
    """The `citydata_*` extras the CKAN profile turns into @en literals and dct:source."""
    dc = spec.dublin_core
    description_en = spec.description.en
    if description_en and spec.synthetic:  # the English reader is told too (notes say it in both)
        description_en = f"{description_en.strip()} {SYNTHETIC_EN}"
    values = {
        TITLE_EN_KEY: spec.title.en,
        DESCRIPTION_EN_KEY: description_en,
        SOURCE_KEY: dc.source,
        FORMAT_KEY: dc.format,
    }
    return {k: v.strip() for k, v in values.items() if v and v.strip()}
