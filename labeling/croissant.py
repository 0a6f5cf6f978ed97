"""A labeled dataset version described in Croissant 1.0 (MLCommons) JSON-LD: `croissant.json` in the
version folder (`published/<agency>/<id>-labels/v<N>/`), public with the version.

`croissant_jsonld` is pure (no I/O, no mlcroissant): the dataset's metadata, one FileObject per
published file (public HTTP URL, encodingFormat, sha256 from the version's manifest), the record set
`records` whose fields extract each column of the Parquet file (the CSV when the version has several
Parquet parts), and the record set `label_statistics` with inline data: per label, how often it was
given in the published rows and its agreement between annotators (from the pull's agreement.json;
null where not computed, e.g. boxes). The same figures are in `description`.

`validate` loads the JSON-LD with mlcroissant (imported there: about 1.3 s) and raises
`CroissantInvalid` with its errors. `write_croissant` writes the file only when its bytes differ.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from citydata.storage.lake import Lake

CROISSANT_FILE = "croissant.json"
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
PARQUET_ENCODING = "application/x-parquet"  # what mlcroissant reads as Parquet
CSV_ENCODING = "text/csv"
RECORDS = "records"
STATISTICS = "label_statistics"
# The Croissant 1.0 context, as mlcroissant writes it (mlcroissant._src.core.rdf.make_context()).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


class CroissantInvalid(ValueError):
    """mlcroissant rejects the JSON-LD; the message lists its errors."""


def data_type(arrow_type: str, is_url: bool = False) -> str:
    """The Croissant dataType of a column from its Arrow type (as the manifest's schema spells it)."""
    t = arrow_type.lower()
    if is_url:
        return "sc:URL"
    if t in ("bool", "boolean"):
        return "sc:Boolean"
    if t.startswith(("int", "uint")):
        return "sc:Integer"
    if t in ("float", "double", "halffloat") or t.startswith(("float", "decimal")):
        return "sc:Float"
    if t.startswith("date"):
        return "sc:Date"
    if t.startswith("timestamp"):
        return "sc:DateTime"
    return "sc:Text"


def _sha256(digest: str) -> str:
    return digest.split(":", 1)[1] if ":" in digest else digest


def _file_object(
    file_id: str, name: str, url: str, encoding: str, entry: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "@type": "cr:FileObject",
        "@id": file_id,
        "name": name,
        "contentUrl": url,
        "contentSize": f"{int(entry['size'])} B",
        "encodingFormat": encoding,
        "sha256": _sha256(str(entry["sha256"])),
    }


def _description(base: str, counts: Mapping[str, int], per_label: Mapping[str, float | None]) -> str:
    lines = [
        f"- {label}: {n} (agreement {'n/a' if per_label.get(label) is None else per_label[label]})"
        for label, n in counts.items()
    ]
    return base + ("\n\nLabel distribution / phân bố nhãn:\n" + "\n".join(lines) if lines else "")


def croissant_jsonld(
    *,
    name: str,
    title: str,
    description: str,
    license_url: str,
    url: str,
    creator: str,
    publisher: str,
    date_published: str,
    version: int,
    manifest: Mapping[str, Any],
    object_url: Callable[[str], str],
    url_columns: Sequence[str] = (),
    label_column: str = "label",
    counts: Mapping[str, int] | None = None,
    per_label_agreement: Mapping[str, float] | None = None,
    agreement: Mapping[str, Any] | None = None,
    keywords: Sequence[str] = (),
    cite_as: str | None = None,
) -> dict[str, Any]:
    """Croissant 1.0 JSON-LD of one published version (see the module docstring)."""
    counts = dict(counts or {})
    agreeing = dict(per_label_agreement or {})
    per_label: dict[str, float | None] = {k: agreeing.get(k) for k in counts}
    parts = list(manifest.get("parts", []))
    files = manifest.get("files", {})
    distribution = [
        _file_object(
            f"parquet-{i:05d}",
            p["name"] if "name" in p else p["key"].rsplit("/", 1)[-1],
            object_url(p["key"]),
            PARQUET_ENCODING,
            p,
        )
        for i, p in enumerate(parts)
    ]
    if "csv" in files:
        csv_file = files["csv"]
        distribution.append(
            _file_object(
                "csv", csv_file["key"].rsplit("/", 1)[-1], object_url(csv_file["key"]), CSV_ENCODING, csv_file
            )
        )
    if len(parts) == 1:
        source_id = "parquet-00000"
    elif "csv" in files:
        source_id = "csv"  # one file for the whole table (several Parquet parts would need a FileSet)
    else:
        raise ValueError(
            f"{name}: {len(parts)} Parquet parts and no CSV: no single file to read records from"
        )
    columns = {c.get("column"): c for c in manifest.get("columns", [])}
    fields = []
    for column, arrow_type in manifest.get("schema", []):
        info = columns.get(column, {})
        field: dict[str, Any] = {
            "@type": "cr:Field",
            "@id": f"{RECORDS}/{column}",
            "name": column,
            "description": info.get("description") or info.get("label") or column,
            "dataType": data_type(str(arrow_type), column in url_columns),
            "source": {"fileObject": {"@id": source_id}, "extract": {"column": column}},
        }
        fields.append(field)
    statistics = {
        "@type": "cr:RecordSet",
        "@id": STATISTICS,
        "name": STATISTICS,
        "description": f"Per label: times given in `{label_column}` of the published rows, and the "
        "agreement between annotators on that label (null: not computed for this task type).",
        "key": {"@id": f"{STATISTICS}/label"},
        "field": [
            {
                "@type": "cr:Field",
                "@id": f"{STATISTICS}/label",
                "name": "label",
                "dataType": "sc:Text",
                "description": "Label id.",
            },
            {
                "@type": "cr:Field",
                "@id": f"{STATISTICS}/count",
                "name": "count",
                "dataType": "sc:Integer",
                "description": "Times given in the published rows.",
            },
            {
                "@type": "cr:Field",
                "@id": f"{STATISTICS}/agreement",
                "name": "agreement",
                "dataType": "sc:Float",
                "description": "Agreement between annotators on this label.",
            },
        ],
        "data": [
            {
                f"{STATISTICS}/label": label,
                f"{STATISTICS}/count": n,
                f"{STATISTICS}/agreement": per_label[label],
            }
            for label, n in counts.items()
        ],
    }
    out: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": name,
        "alternateName": title,
        "description": _description(description, counts, per_label),
        "license": license_url,
        "url": url,
        "creator": {"@type": "sc:Organization", "name": creator},
        "publisher": {"@type": "sc:Organization", "name": publisher},
        "datePublished": date_published,
        "version": f"{int(version)}.0.0",
        "inLanguage": ["vi", "en"],
        "keywords": list(keywords),
        "distribution": distribution,
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "@id": RECORDS,
                "name": RECORDS,
                "description": f"One record per labeled item; `{label_column}` is the consensus label.",
                "field": fields,
            },
            statistics,
        ],
    }
    if cite_as:
        out["citeAs"] = cite_as
    if agreement:
        out["cr:labelAgreement"] = {"@type": "@json", "@value": dict(agreement)}
    return out


def validate(jsonld: Mapping[str, Any]) -> list[str]:
    """mlcroissant's warnings; raises CroissantInvalid on errors."""
    import mlcroissant as mlc

    try:
        dataset = mlc.Dataset(jsonld=json.loads(json.dumps(jsonld)))
    except mlc.ValidationError as exc:
        raise CroissantInvalid(f"Croissant JSON-LD of {jsonld.get('name')} is invalid: {exc}") from exc
    issues = dataset.metadata.ctx.issues
    if issues.errors:
        raise CroissantInvalid(
            f"Croissant JSON-LD of {jsonld.get('name')} is invalid: {sorted(issues.errors)}"
        )
    return sorted(issues.warnings)


def encode(jsonld: Mapping[str, Any]) -> bytes:
    return (json.dumps(jsonld, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()


def write_croissant(lake: Lake, key: str, jsonld: Mapping[str, Any]) -> bool:
    """Write the file when its bytes differ from the stored ones; True when written."""
    body = encode(jsonld)
    if lake.exists(key) and lake.get_bytes(key) == body:
        return False
    lake.client.put_object(lake.bucket, key, io.BytesIO(body), len(body), content_type="application/ld+json")
    return True


def label_statistics(jsonld: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The label distribution a Croissant description carries (its `label_statistics` record set):
    [{label, count, agreement}], in its order; [] when it has none."""
    for record_set in jsonld.get("recordSet") or []:
        if record_set.get("@id") == STATISTICS:
            return [
                {
                    "label": row.get(f"{STATISTICS}/label"),
                    "count": row.get(f"{STATISTICS}/count"),
                    "agreement": row.get(f"{STATISTICS}/agreement"),
                }
                for row in record_set.get("data") or []
            ]
    return []
