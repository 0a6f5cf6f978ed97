"""RDF profile `citydata_dcat_ap`: runs after ckanext-dcat's `euro_dcat_ap_3` and completes its graph
for DCAT-AP 3.0.0 (validated by the project's tests with pySHACL against SEMIC's shapes).

What `euro_dcat_ap_3` (ckanext-dcat 2.4.4) leaves out or writes in a way DCAT-AP 3 rejects:
- dcat:mediaType and dct:format as plain literals ("text/csv", "CSV"): IANA media-type and EU
  file-type URIs here, typed dct:MediaType / dct:MediaTypeOrExtent.
- dct:identifier as a URI when it looks like one (DCAT-AP: a literal).
- dct:type, dcat:theme and agents' dct:type without the skos:Concept (and its prefLabel) the
  shapes ask for; the DC type word "Dataset" itself.
- qualified attributions under dcat:qualifiedAttribution / dcat:Attribution / dcat:agent: PROV's
  prov:qualifiedAttribution / prov:Attribution / prov:agent, as DCAT and DCAT-AP define them.
- no dct:license on the dataset, and "UnknownIPR" stamped on every licence: the distributions'
  licence (an EU licence URI) goes on the dataset too, the placeholder type goes away.
- titles and descriptions without a language: @vi, plus @en from the `citydata_title_en` /
  `citydata_description_en` extras; DC source (`citydata_dc_source`, `citydata_dc_format`) as
  dct:source; DC contributors also as dct:contributor; relations also as dct:relation.
- Ho Chi Minh City as a GeoNames URI for dct:spatial.
- the catalog: dct:language "vi" (a literal), no publisher, untyped homepage; here VIE, a named
  publisher (ini `ckanext.citydata.catalog.*`), @vi/@en title and description, coverage, themes.
"""

from __future__ import annotations

import re
from typing import Any

import ckan.plugins.toolkit as toolkit
from ckanext.citydata import dcat_vocab as vocab
from ckanext.citydata import quality_score
from ckanext.dcat.profiles import DCAT, DCT, FOAF, RDF, RDFS, SKOS, RDFProfile
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.term import Node

PROV = Namespace("http://www.w3.org/ns/prov#")
UNKNOWN_IPR = URIRef("http://purl.org/adms/licencetype/UnknownIPR")
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[\w.+-]+$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)

# Extras written by the project (catalog/dcat_fields.py).
TITLE_EN_KEY = "citydata_title_en"
DESCRIPTION_EN_KEY = "citydata_description_en"
SOURCE_KEY = "citydata_dc_source"
FORMAT_KEY = "citydata_dc_format"

# The catalog's own description; each can be changed in the ini (`ckanext.citydata.catalog.<key>`).
CATALOG_DEFAULTS = {
    "title_en": "Ho Chi Minh City Open Data Portal",
    "description_en": "Open data of the departments, agencies, wards and communes of Ho Chi Minh City",
    "publisher_vi": "Ủy ban nhân dân Thành phố Hồ Chí Minh",
    "publisher_en": "Ho Chi Minh City People's Committee",
    "publisher_url": "",
    "publisher_email": "",
}


def _catalog_setting(key: str) -> str:
    return str(toolkit.config.get(f"ckanext.citydata.catalog.{key}") or CATALOG_DEFAULTS[key]).strip()


def _extras(dataset_dict: dict[str, Any]) -> dict[str, str]:
    return {e["key"]: e["value"] for e in dataset_dict.get("extras") or [] if e.get("key")}


class CitydataDCATAPProfile(RDFProfile):
    """Completes `euro_dcat_ap_3`'s graph for DCAT-AP 3 (list it after that profile)."""

    # --- helpers --------------------------------------------------------------------------
    def _replace(self, subject: Node, predicate: URIRef, old: Node, new: Node) -> None:
        self.g.remove((subject, predicate, old))
        self.g.add((subject, predicate, new))

    def _tag_language(self, subject: Node, predicate: URIRef, lang: str = "vi") -> None:
        """Plain literals (no language, no datatype) of `predicate` get a language tag."""
        for value in list(self.g.objects(subject, predicate)):
            if isinstance(value, Literal) and not value.language and value.datatype is None:
                self._replace(subject, predicate, value, Literal(str(value), lang=lang))

    def _add_en(self, subject: Node, predicate: URIRef, text: str | None) -> None:
        if text:
            self.g.add((subject, predicate, Literal(text, lang="en")))

    def _concept(self, uri: URIRef) -> None:
        """Types `uri` skos:Concept with its labels (DCAT-AP's ConceptShape needs a prefLabel)."""
        self.g.add((uri, RDF.type, SKOS.Concept))
        if (uri, SKOS.prefLabel, None) in self.g:
            return
        if str(uri) in vocab.CONCEPT_LABELS:
            vi, en = vocab.CONCEPT_LABELS[str(uri)]
            self.g.add((uri, SKOS.prefLabel, Literal(vi, lang="vi")))
            self.g.add((uri, SKOS.prefLabel, Literal(en, lang="en")))
        else:
            self.g.add((uri, SKOS.prefLabel, Literal(str(uri).rstrip("/").rsplit("/", 1)[-1])))

    def _as_concepts(self, subject: Node, predicate: URIRef) -> None:
        for value in list(self.g.objects(subject, predicate)):
            if isinstance(value, URIRef):
                self._concept(value)

    def _hcmc(self, subject: Node) -> None:
        """A dct:spatial blank node naming Ho Chi Minh City becomes its GeoNames URI."""
        for place in list(self.g.objects(subject, DCT.spatial)):
            names = [str(n) for n in self.g.objects(place, SKOS.prefLabel)]
            if not isinstance(place, BNode) or not any(n.strip().lower() in vocab.HCMC_NAMES for n in names):
                continue
            uri = URIRef(vocab.HCMC_URI)
            for predicate, value in list(self.g.predicate_objects(place)):
                self.g.remove((place, predicate, value))
                self.g.add((uri, predicate, value))
            self._replace(subject, DCT.spatial, place, uri)
        for place in self.g.objects(subject, DCT.spatial):
            self._tag_language(place, SKOS.prefLabel)

    # --- dataset --------------------------------------------------------------------------
    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        g, extras = self.g, _extras(dataset_dict)
        self._tag_language(dataset_ref, DCT.title)
        self._tag_language(dataset_ref, DCT.description)
        self._add_en(dataset_ref, DCT.title, extras.get(TITLE_EN_KEY))
        self._add_en(dataset_ref, DCT.description, extras.get(DESCRIPTION_EN_KEY))

        for value in list(g.objects(dataset_ref, DCT.identifier)):
            if isinstance(value, URIRef):  # DCAT-AP: dct:identifier is a literal
                self._replace(dataset_ref, DCT.identifier, value, Literal(str(value)))

        for value in list(g.objects(dataset_ref, DCT.type)):
            if isinstance(value, Literal):  # a bare DC type word (older entries): the DCMI concept
                known = {t.split("/")[-1].lower(): t for t in vocab.CONCEPT_LABELS if "/dcmitype/" in t}
                if str(value).strip().lower() in known:
                    self._replace(dataset_ref, DCT.type, value, URIRef(known[str(value).strip().lower()]))
                else:
                    g.remove((dataset_ref, DCT.type, value))
        self._as_concepts(dataset_ref, DCT.type)
        self._as_concepts(dataset_ref, DCAT.theme)
        for predicate in (DCT.publisher, DCT.creator):
            for agent in g.objects(dataset_ref, predicate):
                self._as_concepts(agent, DCT.type)

        for value in list(g.objects(dataset_ref, DCT.language)):
            if isinstance(value, Literal) and str(value).lower() in vocab.LANGUAGE_URIS:
                uri = URIRef(vocab.LANGUAGE_URIS[str(value).lower()])
                self._replace(dataset_ref, DCT.language, value, uri)
                g.add((uri, RDF.type, DCT.LinguisticSystem))

        self._attributions(dataset_ref)
        for relationship in list(g.objects(dataset_ref, DCAT.qualifiedRelation)):
            for related in g.objects(relationship, DCT.relation):
                if isinstance(related, URIRef):
                    g.add((dataset_ref, DCT.relation, related))
        self._hcmc(dataset_ref)
        self._source(dataset_ref, extras)
        self._distributions(dataset_dict, dataset_ref)
        self._versions(dataset_dict, dataset_ref)
        if detail := quality_score.score_of(dataset_dict):
            quality_score.add_measurements(g, dataset_ref, detail, str(toolkit.config.get("ckan.site_url")))

    def _versions(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        """Older versions (dcat:hasVersion, their manifests in the lake) are datasets in DCAT-AP 3:
        typed and titled as such, in Vietnamese, with the version number from their folder. The
        current and the older versions are members of one dcat:DatasetSeries (`<dataset>#series`),
        whose dcat:last is the current version."""
        title = dataset_dict.get("title") or dataset_dict.get("name") or ""
        if str(dataset_dict.get("version") or "").isdigit():
            series = URIRef(f"{dataset_ref}#series")
            self.g.add((series, RDF.type, DCAT.DatasetSeries))
            self.g.add((series, DCT.title, Literal(f"{title} (các phiên bản)", lang="vi")))
            text = "Chuỗi các phiên bản đã công bố của bộ dữ liệu; phiên bản mới nhất là dcat:last."
            self.g.add((series, DCT.description, Literal(text, lang="vi")))
            self.g.add((series, DCAT.last, dataset_ref))
            self.g.add((dataset_ref, DCAT.inSeries, series))
            for version in self.g.objects(dataset_ref, DCAT.hasVersion):
                if isinstance(version, URIRef):
                    self.g.add((version, DCAT.inSeries, series))
        for version in list(self.g.objects(dataset_ref, DCAT.hasVersion)):
            if not isinstance(version, URIRef):
                continue
            found = re.search(r"/v(\d+)/", str(version))
            number = found.group(1) if found else "?"
            self.g.add((version, RDF.type, DCAT.Dataset))
            self.g.add((version, DCT.title, Literal(f"{title} (phiên bản {number})", lang="vi")))
            text = f"Phiên bản {number} trước đây của bộ dữ liệu; liên kết tới tệp mô tả của phiên bản."
            self.g.add((version, DCT.description, Literal(text, lang="vi")))
            self.g.add((version, DCAT.version, Literal(number)))

    def _attributions(self, dataset_ref: URIRef) -> None:
        """dcat:qualifiedAttribution -> prov:qualifiedAttribution (and dct:contributor for the agent)."""
        g = self.g
        for attribution in list(g.objects(dataset_ref, DCAT.qualifiedAttribution)):
            g.remove((dataset_ref, DCAT.qualifiedAttribution, attribution))
            g.add((dataset_ref, PROV.qualifiedAttribution, attribution))
            if (attribution, RDF.type, DCAT.Attribution) in g:
                self._replace(attribution, RDF.type, DCAT.Attribution, PROV.Attribution)
            for agent in list(g.objects(attribution, DCAT.agent)):
                g.remove((attribution, DCAT.agent, agent))
                g.add((attribution, PROV.agent, agent))
                g.add((dataset_ref, DCT.contributor, agent))
            for role in g.objects(attribution, DCAT.hadRole):
                if isinstance(role, URIRef):
                    g.add((role, RDF.type, DCAT.Role))

    def _source(self, dataset_ref: URIRef, extras: dict[str, str]) -> None:
        """DC source: the dataset this one derives from (dct:source, a dcat:Dataset in DCAT-AP)."""
        text = extras.get(SOURCE_KEY)
        if not text:
            return
        g = self.g
        source: Node = URIRef(text) if _URL.match(text) else BNode()
        g.add((dataset_ref, DCT.source, source))
        g.add((source, RDF.type, DCAT.Dataset))
        g.add((source, DCT.title, Literal(text, lang="vi")))
        g.add((source, DCT.description, Literal(f"Nguồn của dữ liệu: {text}", lang="vi")))
        g.add((source, DCT.description, Literal(f"Where the data comes from: {text}", lang="en")))
        if original := extras.get(FORMAT_KEY):
            uri = vocab.file_type_uri(original)
            if uri:
                g.add((source, DCT["format"], URIRef(uri)))
                g.add((URIRef(uri), RDF.type, DCT.MediaTypeOrExtent))
            else:
                g.add((source, DCT["format"], Literal(original)))

    def _distributions(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        g = self.g
        licences: set[Node] = set()
        distributions = list(g.objects(dataset_ref, DCAT.distribution))
        for dist in distributions:
            self._tag_language(dist, DCT.title)
            self._tag_language(dist, DCT.description)
            for value in list(g.objects(dist, DCAT.mediaType)):
                if isinstance(value, Literal) and _MEDIA_TYPE.match(str(value).strip()):
                    uri = URIRef(vocab.IANA_MEDIA_TYPES + str(value).strip().lower())
                    self._replace(dist, DCAT.mediaType, value, uri)
                    g.add((uri, RDF.type, DCT.MediaType))
            for value in list(g.objects(dist, DCT["format"])):
                if isinstance(value, Literal) and (found := vocab.file_type_uri(str(value))):
                    self._replace(dist, DCT["format"], value, URIRef(found))
                    g.add((URIRef(found), RDF.type, DCT.MediaTypeOrExtent))
            for url in g.objects(dist, DCAT.accessURL):
                g.add((url, RDF.type, RDFS.Resource))
            for licence in g.objects(dist, DCT.license):
                # ckanext-dcat stamps UnknownIPR on every licence ("TODO: add an actual field").
                g.remove((licence, DCT.type, UNKNOWN_IPR))
                g.add((licence, RDF.type, DCT.LicenseDocument))
                licences.add(licence)
        if not licences and _URL.match(str(dataset_dict.get("license_url") or "")):
            licences.add(URIRef(dataset_dict["license_url"]))  # entries not published by citydata
            for dist in distributions:
                g.add((dist, DCT.license, URIRef(dataset_dict["license_url"])))
        if len(licences) == 1:  # one licence for every distribution: the dataset's licence
            licence = licences.pop()
            g.add((dataset_ref, DCT.license, licence))
            g.add((licence, RDF.type, DCT.LicenseDocument))

    # --- catalog --------------------------------------------------------------------------
    def graph_from_catalog(self, catalog_dict: dict[str, Any] | None, catalog_ref: URIRef) -> None:
        g = self.g
        self._tag_language(catalog_ref, DCT.title)
        self._tag_language(catalog_ref, DCT.description)
        self._add_en(catalog_ref, DCT.title, _catalog_setting("title_en"))
        self._add_en(catalog_ref, DCT.description, _catalog_setting("description_en"))
        for value in list(g.objects(catalog_ref, DCT.language)):
            g.remove((catalog_ref, DCT.language, value))  # CKAN's locale ("vi") as a literal
        g.add((catalog_ref, DCT.language, URIRef(vocab.VIE)))
        g.add((URIRef(vocab.VIE), RDF.type, DCT.LinguisticSystem))
        for homepage in g.objects(catalog_ref, FOAF.homepage):
            g.add((homepage, RDF.type, FOAF.Document))

        if (catalog_ref, DCT.publisher, None) not in g:
            publisher = BNode()
            g.add((catalog_ref, DCT.publisher, publisher))
            g.add((publisher, RDF.type, FOAF.Agent))
            g.add((publisher, FOAF.name, Literal(_catalog_setting("publisher_vi"), lang="vi")))
            g.add((publisher, FOAF.name, Literal(_catalog_setting("publisher_en"), lang="en")))
            g.add((publisher, DCT.type, URIRef(vocab.LOCAL_AUTHORITY)))
            self._concept(URIRef(vocab.LOCAL_AUTHORITY))
            if url := _catalog_setting("publisher_url"):
                g.add((publisher, FOAF.homepage, URIRef(url)))
            if email := _catalog_setting("publisher_email"):
                g.add((publisher, FOAF.mbox, URIRef(f"mailto:{email.removeprefix('mailto:')}")))

        hcmc = URIRef(vocab.HCMC_URI)
        g.add((catalog_ref, DCT.spatial, hcmc))
        g.add((hcmc, RDF.type, DCT.Location))
        g.add((hcmc, SKOS.prefLabel, Literal("Thành phố Hồ Chí Minh", lang="vi")))
        scheme = URIRef(vocab.DATA_THEME_SCHEME)
        g.add((catalog_ref, DCAT.themeTaxonomy, scheme))
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        g.add((scheme, DCT.title, Literal("Data theme", lang="en")))
        g.add((scheme, DCT.title, Literal("Chủ đề dữ liệu", lang="vi")))
