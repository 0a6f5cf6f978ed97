"""DCAT-AP 3 on the real stack: a dataset whose spec declares every Dublin Core element is published
through the project's own path (pull, clean, publish), then CKAN's RDF (/dataset/<id>.ttl and
/catalog.ttl, ckanext-dcat's `euro_dcat_ap_3` plus the project's `citydata_dcat_ap` profile) is
parsed with rdflib and

- validated with pySHACL against SEMIC's DCAT-AP 3.0.0 shapes kept in catalog/dcat/shapes/
  (`inference="none"`, no ontology graph: every class a shape asks for must be in the data);
- queried for each Dublin Core element with the spec's value, the licence, download URLs, media
  types, sizes, languages and the catalog's own description.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from catalog.client import CatalogClient
from catalog.publish import publish
from citydata.settings import REPO_ROOT, Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from ingest.clean import clean_pull
from ingest.pull import pull
from tests.integration.cleanup import purge_agency

pytestmark = pytest.mark.integration

SHAPES = REPO_ROOT / "catalog" / "dcat" / "shapes" / "dcat-ap-SHACL.ttl"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
# Plain namespaces: rdflib's DefinedNamespace ones warn when pytest looks up unknown attributes.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
PROV = Namespace("http://www.w3.org/ns/prov#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HCMC = URIRef("https://sws.geonames.org/1566083/")
CSV_ROWS = "Mã bãi,Tên bãi,Sức chứa\nB01,Bãi xe Bến Thành,120\nB02,Bãi xe Tao Đàn,80\n"


def spec_for(unique: str, folder: Path) -> DatasetSpec:
    """Every Dublin Core element of Circular 24/2011/TT-BTTTT, with vi and en texts."""
    (folder / "bai-xe.csv").write_text(CSV_ROWS, encoding="utf-8")
    return DatasetSpec.model_validate(
        {
            "id": f"dcat-{unique}",
            "agency": {"id": f"test-dcat-{unique}",
                       "title": {"vi": "Sở Xây dựng (thử nghiệm)", "en": "Department of Construction (test)"},
                       "url": "https://soxaydung.example.gov.vn", "email": "sxd@example.gov.vn"},
            "title": {"vi": f"Bãi giữ xe công cộng {unique}", "en": f"Public parking lots {unique}"},
            "description": {"vi": "Danh sách bãi giữ xe công cộng trên địa bàn thành phố.",
                            "en": "Public parking lots in the city."},
            "dublin_core": {
                "creator": "Sở Xây dựng Thành phố Hồ Chí Minh",
                "publisher": "Ủy ban nhân dân Thành phố Hồ Chí Minh",
                "date": "2025-07-01",
                "identifier": f"HCM-SXD-BAIXE-{unique}",
                "language": ["vi", "en"],
                "source": "Hệ thống quản lý bãi giữ xe của Sở Xây dựng",
                "contributor": ["Trung tâm Quản lý Giao thông công cộng", "UBND phường Bến Thành"],
                "subject": ["giao thông tĩnh", "bãi giữ xe"],
                "coverage": "Thành phố Hồ Chí Minh",
                "type": "Dataset",
                "format": "XLSX",
                "relation": ["https://example.gov.vn/quy-dinh-bai-giu-xe", "phuong-xa-tphcm"],
                "rights": "Dữ liệu mở; ghi nguồn Sở Xây dựng khi sử dụng.",
            },
            "license": "cc-by",
            "update_frequency": "0 2 * * 1",
            "tags": ["bãi xe"],
            "source": {"type": "local_file", "path": str(folder / "bai-xe.csv")},
            "cleaning": {"pii": "keep"},
            "schema": {"primary_key": ["ma_bai"], "columns": {"suc_chua": {"type": "integer"}}},
            "publication": {
                "contact": {"name": "Phòng Dữ liệu", "email": "dulieu@example.gov.vn",
                            "url": "https://soxaydung.example.gov.vn/lien-he"},
                "temporal": {"start": "2024-01-01", "end": "2024-12-31"},
                "themes": ["TRAN"],
                "landing_page": "https://soxaydung.example.gov.vn/bai-giu-xe",
            },
        }
    )  # fmt: skip


class Published:
    def __init__(self, settings: Settings, spec: DatasetSpec, package: dict[str, Any]) -> None:
        self.settings, self.spec, self.package = settings, spec, package
        base = settings.ckan.url.rstrip("/")
        self.dataset = _turtle(f"{base}/dataset/{spec.id}.ttl")
        self.catalog = _turtle(f"{base}/catalog.ttl")  # the whole first page, every agency's entries
        versions = set(self.dataset.objects(None, DCAT.hasVersion))
        datasets = set(self.dataset.subjects(RDF.type, DCAT.Dataset))
        [self.ref] = list(datasets - set(_sources(self.dataset)) - versions)
        self.distributions = list(self.dataset.objects(self.ref, DCAT.distribution))


def _turtle(url: str) -> Graph:
    reply = requests.get(url, timeout=120)
    assert reply.status_code == 200, (url, reply.status_code)
    # Turtle is UTF-8 by definition; CKAN sends no charset, so requests' .text would guess Latin-1.
    return Graph().parse(data=reply.content.decode("utf-8"), format="turtle")


def _sources(g: Graph) -> Iterator[Any]:
    return g.objects(None, DCTERMS.source)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    from citydata.settings import load_settings
    from stack.manager import Stack

    needed = {"s3", "postgres", "redis", "solr", "ckan"}  # what publishing and CKAN's RDF use
    down = [s.name for s in Stack().status() if s.name in needed and not s.healthy]
    assert not down, f"local stack not healthy: {down}; run `citydata stack up`"
    settings = load_settings()
    unique = uuid.uuid4().hex[:10]
    spec = spec_for(unique, tmp_path_factory.mktemp("dcat"))
    lake = Lake(settings)
    source = Path(spec.source.path)  # type: ignore[attr-defined]
    try:
        client = CatalogClient(settings)
        for version in (1, 2):  # two versions: the second lists the first (dcat:hasVersion)
            if version == 2:
                rows = source.read_text(encoding="utf-8").splitlines()
                source.write_text("\n".join([*rows, rows[-1].replace("B02", "B03")]) + "\n", encoding="utf-8")
            pulled = pull(spec, settings, lake)
            assert pulled.pull_id
            clean_pull(spec, settings, lake, pulled.pull_id)
            reports = zone_prefix("reports", spec.agency.id, spec.id, pulled.pull_id)
            lake.put_json(reports + "summary.json", {"dataset": spec.id, "pull_id": pulled.pull_id,
                          "rows": 1 + version, "score": 100.0, "success": True, "blocking": False,
                          "promotable": True, "partial": False, "publish_key": None})  # fmt: skip
            lake.put_bytes(reports + "data_docs/index.html", b"<html>Data Docs</html>", "text/html")
            publish(spec, settings, lake, client)
        package = client.call("package_show", id=spec.id)
        assert package["version"] == "2" and len(package.get("has_version") or []) == 1, package
        yield Published(settings, spec, package)
    finally:
        purge_agency(settings, lake, spec.agency.id, [spec.id])


def _violations(data: Graph) -> tuple[bool, str]:
    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, _, text = validate(data, shacl_graph=shapes, inference="none")
    return bool(conforms), str(text)


# --- (a) SHACL ---------------------------------------------------------------------------------------
def test_dataset_rdf_conforms_to_dcat_ap_3_shapes(published):
    conforms, report = _violations(published.dataset)
    assert conforms, report


def test_catalog_rdf_conforms_to_dcat_ap_3_shapes(published):
    assert (None, DCAT.dataset, published.ref) in published.catalog  # our entry is on this page
    conforms, report = _violations(published.catalog)
    assert conforms, report


def test_shapes_reject_what_ckanext_dcat_writes_unfixed(published):
    """The validator bites: CKAN's own plain-literal media type and format fail the shapes."""
    broken = Graph()
    for triple in published.dataset:
        broken.add(triple)
    dist = published.distributions[0]
    broken.remove((dist, DCAT.mediaType, None))
    broken.add((dist, DCAT.mediaType, Literal("text/csv")))
    broken.remove((dist, DCTERMS["format"], None))
    broken.add((dist, DCTERMS["format"], Literal("CSV")))
    conforms, report = _violations(broken)
    assert not conforms and "mediaType" in report and "format" in report


# --- (b) Dublin Core elements, each with the spec's value --------------------------------------------
def _names(g: Graph, subject: Any, predicate: Any) -> set[str]:
    return {str(n) for agent in g.objects(subject, predicate) for n in g.objects(agent, FOAF.name)}


def test_titles_and_descriptions_in_vietnamese_and_english(published):
    g, ref, spec = published.dataset, published.ref, published.spec
    titles = set(g.objects(ref, DCTERMS.title))
    assert {Literal(spec.title.vi, lang="vi"), Literal(spec.title.en, lang="en")} <= titles
    descriptions = {(d.language, str(d)) for d in g.objects(ref, DCTERMS.description)}
    assert ("en", spec.description.en) in descriptions
    assert any(lang == "vi" and text.startswith(spec.description.vi) for lang, text in descriptions)
    for dist in published.distributions:
        assert all(t.language == "vi" for t in g.objects(dist, DCTERMS.title))


def test_creator_publisher_contributors_are_named_agents(published):
    g, ref, dc = published.dataset, published.ref, published.spec.dublin_core
    assert _names(g, ref, DCTERMS.creator) == {dc.creator}
    assert _names(g, ref, DCTERMS.publisher) == {dc.publisher}
    for agent in [*g.objects(ref, DCTERMS.creator), *g.objects(ref, DCTERMS.publisher)]:
        assert (agent, RDF.type, FOAF.Agent) in g
    assert _names(g, ref, DCTERMS.contributor) == set(dc.contributor)
    via_prov = {str(n) for a in g.objects(ref, PROV.qualifiedAttribution)
                for agent in g.objects(a, PROV.agent) for n in g.objects(agent, FOAF.name)}  # fmt: skip
    assert via_prov == set(dc.contributor)


def test_date_identifier_language_type(published):
    g, ref, dc = published.dataset, published.ref, published.spec.dublin_core
    assert set(g.objects(ref, DCTERMS.issued)) == {Literal("2025-07-01", datatype=XSD.date)}
    assert set(g.objects(ref, DCTERMS.identifier)) == {Literal(dc.identifier)}
    assert set(g.objects(ref, DCTERMS.language)) == {URIRef(f"{EU}language/VIE"), URIRef(f"{EU}language/ENG")}
    assert set(g.objects(ref, DCTERMS.type)) == {URIRef("http://purl.org/dc/dcmitype/Dataset")}


def test_source_and_original_format(published):
    g, ref, dc = published.dataset, published.ref, published.spec.dublin_core
    [source] = list(g.objects(ref, DCTERMS.source))
    assert (source, RDF.type, DCAT.Dataset) in g
    assert Literal(dc.source, lang="vi") in set(g.objects(source, DCTERMS.title))
    assert set(g.objects(source, DCTERMS["format"])) == {URIRef(f"{EU}file-type/XLSX")}
    [provenance] = list(g.objects(ref, DCTERMS.provenance))
    label = str(next(g.objects(provenance, RDFS.label)))
    assert dc.source in label and "định dạng gốc: XLSX" in label


def test_subject_coverage_relation_rights(published):
    g, ref, dc = published.dataset, published.ref, published.spec.dublin_core
    assert set(dc.subject) <= {str(k) for k in g.objects(ref, DCAT.keyword)}
    assert set(g.objects(ref, DCTERMS.spatial)) == {HCMC}
    assert Literal(dc.coverage, lang="vi") in set(g.objects(HCMC, SKOS.prefLabel))
    related = {str(r) for r in g.objects(ref, DCTERMS.relation)}
    ckan = published.settings.ckan.url.rstrip("/")
    assert related == {"https://example.gov.vn/quy-dinh-bai-giu-xe", f"{ckan}/dataset/phuong-xa-tphcm"}
    for dist in published.distributions:
        labels = {str(lbl) for r in g.objects(dist, DCTERMS.rights) for lbl in g.objects(r, RDFS.label)}
        assert labels == {dc.rights}, dist


# --- DCAT-AP: licence, distributions, frequency, temporal, themes, contact ----------------------------
def test_licence_uri_on_dataset_and_every_distribution(published):
    g, licence = published.dataset, URIRef(f"{EU}licence/CC_BY_4_0")
    assert set(g.objects(published.ref, DCTERMS.license)) == {licence}
    assert published.distributions
    for dist in published.distributions:
        assert set(g.objects(dist, DCTERMS.license)) == {licence}, dist
    assert (licence, RDF.type, DCTERMS.LicenseDocument) in g


def test_distributions_have_download_url_media_type_format_and_size(published):
    g = published.dataset
    by_url = {URIRef(r["url"]): r for r in published.package["resources"]}
    for dist in published.distributions:
        [url] = list(g.objects(dist, DCAT.downloadURL))
        resource = by_url[url]
        assert set(g.objects(dist, DCAT.accessURL)) == {url}
        assert set(g.objects(dist, DCAT.mediaType)) == {URIRef(IANA + resource["mimetype"])}
        [fmt] = list(g.objects(dist, DCTERMS["format"]))
        assert str(fmt).startswith(f"{EU}file-type/") and (fmt, RDF.type, DCTERMS.MediaTypeOrExtent) in g
        if resource.get("size"):
            assert set(g.objects(dist, DCAT.byteSize)) == {
                Literal(int(resource["size"]), datatype=XSD.nonNegativeInteger)}  # fmt: skip
    sized = [d for d in published.distributions if (d, DCAT.byteSize, None) in g]
    assert len(sized) >= 3  # Parquet, CSV, data dictionary
    formats = {
        str(f).rsplit("/", 1)[-1] for d in published.distributions for f in g.objects(d, DCTERMS["format"])
    }
    assert {"PARQUET", "CSV", "JSON", "HTML"} <= formats


def test_frequency_temporal_theme_contact(published):
    g, ref = published.dataset, published.ref
    assert set(g.objects(ref, DCTERMS.accrualPeriodicity)) == {URIRef(f"{EU}frequency/WEEKLY")}
    [period] = list(g.objects(ref, DCTERMS.temporal))
    assert set(g.objects(period, DCAT.startDate)) == {Literal("2024-01-01", datatype=XSD.date)}
    assert set(g.objects(period, DCAT.endDate)) == {Literal("2024-12-31", datatype=XSD.date)}
    theme = URIRef(f"{EU}data-theme/TRAN")
    assert set(g.objects(ref, DCAT.theme)) == {theme} and (theme, RDF.type, SKOS.Concept) in g
    [contact] = list(g.objects(ref, DCAT.contactPoint))
    assert set(g.objects(contact, VCARD.hasEmail)) == {URIRef("mailto:dulieu@example.gov.vn")}
    assert {str(n) for n in g.objects(contact, VCARD.fn)} == {"Phòng Dữ liệu"}


def test_older_versions_are_titled_datasets(published):
    [older] = list(published.dataset.objects(published.ref, DCAT.hasVersion))
    assert (older, RDF.type, DCAT.Dataset) in published.dataset
    assert str(older).endswith("/v1/_manifest.json")
    assert {str(t) for t in published.dataset.objects(older, DCTERMS.title)} == {
        f"{published.package['title']} (phiên bản 1)"
    }


def test_versions_form_a_dataset_series_listed_on_the_dataset_page(published):
    g = published.dataset
    [series] = list(g.objects(published.ref, DCAT.inSeries))
    [older] = list(g.objects(published.ref, DCAT.hasVersion))
    assert (series, RDF.type, DCAT.DatasetSeries) in g and (older, DCAT.inSeries, series) in g
    assert g.value(series, DCAT.last) == published.ref
    assert any(t.language == "vi" for t in g.objects(series, DCTERMS.title))
    # the history on the page: both versions, their row counts, no schema change, downloads
    base = published.settings.ckan.url.rstrip("/")
    page = requests.get(f"{base}/dataset/{published.spec.id}", timeout=60).text
    assert "Lịch sử phiên bản" in page
    assert '<tr data-version="2">' in page and '<tr data-version="1">' in page
    assert "không đổi" in page and "phiên bản đầu tiên" in page
    history = {e["key"]: e["value"] for e in published.package["extras"]}["citydata_version_history"]
    for version in json.loads(history):
        for url in [*version["downloads"]["parquet"], version["downloads"]["csv"]]:
            assert f'href="{url}"' in page
            assert requests.head(url, timeout=30).status_code == 200  # older versions stay downloadable


def test_catalog_title_publisher_language_in_vietnamese(published):
    g = published.catalog
    [catalog] = list(g.subjects(RDF.type, DCAT.Catalog))
    assert Literal("Cổng dữ liệu mở Thành phố Hồ Chí Minh", lang="vi") in set(
        g.objects(catalog, DCTERMS.title)
    )
    assert any(d.language == "vi" for d in g.objects(catalog, DCTERMS.description))
    assert set(g.objects(catalog, DCTERMS.language)) == {URIRef(f"{EU}language/VIE")}
    assert _names(g, catalog, DCTERMS.publisher) >= {"Ủy ban nhân dân Thành phố Hồ Chí Minh"}
    [publisher] = list(g.objects(catalog, DCTERMS.publisher))
    assert Literal("Ủy ban nhân dân Thành phố Hồ Chí Minh", lang="vi") in set(g.objects(publisher, FOAF.name))
