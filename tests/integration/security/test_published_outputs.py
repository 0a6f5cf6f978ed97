"""What leaves the platform: personal data masked or dropped, spreadsheet formulas neutralised.

"Published output" is everything an anonymous user or an annotator can read: every resource of the
CKAN entry (Parquet, CSV, dictionary, quality summary and Data Docs, versions), every object under
the dataset's published lake prefix, the DataStore rows and its CSV dump, the CKAN metadata, and
the Label Studio tasks.
"""

from __future__ import annotations

import csv
import io
import json
import re

import ckanapi
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import requests

from citydata.clients import ckan_client
from citydata.storage.published import dataset_prefix

pytestmark = pytest.mark.integration

_SEPARATORS = re.compile(r"[ .\-]")


def _text(body: bytes) -> str:
    """Bytes as searchable text; Parquet (compressed, dictionary-encoded) as CSV of its rows."""
    if body[:4] == b"PAR1":
        table = pq.read_table(io.BytesIO(body))
        out = io.BytesIO()
        pacsv.write_csv(table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema])), out)
        return out.getvalue().decode()
    return body.decode("utf-8", errors="replace")


def _leaks(text: str, values: list[str]) -> list[str]:
    """PII values found as written or with spaces/dots/dashes removed (`0912 345 678`)."""
    squeezed = _SEPARATORS.sub("", text)
    return [v for v in values if v in text or _SEPARATORS.sub("", v) in squeezed]


def _published_outputs(ex) -> dict[str, str]:
    settings, spec = ex.settings, ex.spec
    anonymous = ckan_client(settings, anonymous=True)
    pkg = anonymous.action.package_show(id=spec.id)
    outputs = {"CKAN metadata": json.dumps(pkg, ensure_ascii=False)}
    for res in pkg["resources"]:
        name = f"CKAN resource {res.get('citydata_role') or res['name']}"
        reply = requests.get(res["url"], timeout=60)
        assert reply.status_code == 200, f"{name}: {res['url']} -> {reply.status_code}"
        outputs[name] = _text(reply.content)
        if res.get("datastore_active"):
            rows = anonymous.action.datastore_search(resource_id=res["id"], limit=1000)["records"]
            outputs[f"DataStore rows of {name}"] = json.dumps(rows, ensure_ascii=False)
            dump = requests.get(f"{settings.ckan.url}/datastore/dump/{res['id']}", timeout=60)
            assert dump.status_code == 200
            outputs[f"DataStore dump of {name}"] = dump.text
    for key in ex.lake.keys(dataset_prefix(spec.agency.id, spec.id)):
        outputs[f"lake {key}"] = _text(ex.lake.get_bytes(key))
    from labeling.client import LabelStudio

    tasks = list(LabelStudio(settings).sdk.tasks.list(project=ex.project_id, page_size=100))
    assert tasks, "the run created no Label Studio tasks"
    outputs["Label Studio tasks"] = json.dumps([t.data for t in tasks], ensure_ascii=False)
    return outputs


def test_pii_is_masked_or_dropped_in_every_published_output(exercised):
    pii = list(exercised.pii_values)
    # The check can fail: the private raw zone holds the bytes as pulled, with every value.
    [raw_key] = [k for k in exercised.lake.keys(f"raw/{exercised.spec.agency.id}/") if k.endswith(".csv")]
    assert _leaks(exercised.lake.get_bytes(raw_key).decode(), pii) == pii

    outputs = _published_outputs(exercised)
    roles = " ".join(outputs)
    assert "parquet" in roles and "csv" in roles and "DataStore rows" in roles, roles
    leaks = {name: found for name, text in outputs.items() if (found := _leaks(text, pii))}
    assert not leaks, leaks

    # Masked, not emptied: the last digits and the e-mail domain stay; the dropped column is gone.
    csv_text = next(t for n, t in outputs.items() if n == "CKAN resource csv")
    rows = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert len(rows) == 4 and "so_dien_thoai" not in rows[0]
    assert rows[0]["cccd"].endswith("234") and set(rows[0]["cccd"][:-3]) == {"*"}
    assert rows[0]["email"] == "a***@example.com"
    assert "*" in rows[0]["ghi_chu"] and rows[0]["ghi_chu"].startswith("Gọi ")


def test_formula_cells_are_neutralised_in_csv_downloads(exercised):
    anonymous = ckan_client(exercised.settings, anonymous=True)
    pkg = anonymous.action.package_show(id=exercised.spec.id)
    [res] = [r for r in pkg["resources"] if r.get("citydata_role") == "csv"]
    # The URL CKAN lists for the CSV, and CKAN's own download route for the resource.
    via_ckan = requests.get(
        f"{exercised.settings.ckan.url}/dataset/{pkg['id']}/resource/{res['id']}/download", timeout=60
    )
    direct = requests.get(res["url"], timeout=60)
    assert direct.status_code == 200 and via_ckan.status_code == 200
    assert via_ckan.content == direct.content
    rows = list(csv.DictReader(io.StringIO(direct.content.decode("utf-8-sig"))))
    assert [r["cong_thuc"] for r in rows] == ["'" + cell for cell in exercised.formula_cells]
    assert [r["so_tien"] for r in rows] == ["-5", "12", "-1", "0"]  # numbers stay numbers
    assert not any(v.startswith("'") for r in rows for k, v in r.items() if k != "cong_thuc")
    # The lake keeps the value itself; only the spreadsheet download is escaped.
    parquet = next(r for r in pkg["resources"] if r.get("citydata_role") == "parquet-00000")
    table = pq.read_table(io.BytesIO(requests.get(parquet["url"], timeout=60).content))
    assert table.column("cong_thuc").to_pylist() == list(exercised.formula_cells)


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_formula_cells_are_neutralised_in_the_datastore_dump(exercised, fmt):
    """The DataStore's own download (and the preview's filtered download, which uses it) escapes
    text cells a spreadsheet would evaluate, as the platform's CSV does; numbers stay numbers and
    the DataStore's rows keep the values themselves."""
    anonymous = ckan_client(exercised.settings, anonymous=True)
    pkg = anonymous.action.package_show(id=exercised.spec.id)
    [table] = [r for r in pkg["resources"] if r.get("datastore_active")]
    dump = requests.get(
        f"{exercised.settings.ckan.url}/datastore/dump/{table['id']}", params={"format": fmt}, timeout=60
    )
    assert dump.status_code == 200
    dialect = "excel" if fmt == "csv" else "excel-tab"
    rows = list(csv.DictReader(io.StringIO(dump.content.decode("utf-8-sig")), dialect=dialect))
    by_key = sorted(rows, key=lambda r: int(r["_id"]))
    assert [r["cong_thuc"] for r in by_key] == ["'" + cell for cell in exercised.formula_cells]
    assert [r["so_tien"] for r in by_key] == ["-5", "12", "-1", "0"]
    records = anonymous.action.datastore_search(resource_id=table["id"], sort="_id")["records"]
    assert [r["cong_thuc"] for r in records] == list(exercised.formula_cells)


@pytest.mark.parametrize(
    "sql",
    [
        'DELETE FROM "{table}"',
        'UPDATE "{table}" SET so_tien = 0',
        'DROP TABLE "{table}"',
        'SELECT * INTO copied FROM "{table}"',
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT * FROM pg_authid",
    ],
)
def test_datastore_sql_search_reads_only(exercised, sql):
    """`datastore_search_sql` runs as the DataStore's read-only role: writes, file reads and the
    role catalog are refused, whoever asks (here: an anonymous user)."""
    anonymous = ckan_client(exercised.settings, anonymous=True)
    pkg = anonymous.action.package_show(id=exercised.spec.id)
    [table] = [r for r in pkg["resources"] if r.get("datastore_active")]
    with pytest.raises((ckanapi.ValidationError, ckanapi.NotAuthorized, ckanapi.CKANAPIError)):
        anonymous.action.datastore_search_sql(sql=sql.format(table=table["id"]))
    count = anonymous.action.datastore_search_sql(sql=f'SELECT count(*) AS n FROM "{table["id"]}"')
    assert int(count["records"][0]["n"]) == len(exercised.formula_cells)
