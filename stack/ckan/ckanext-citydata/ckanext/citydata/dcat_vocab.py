"""Vocabulary data the DCAT-AP profile needs: labels of the concepts it names, file types, places.

Plain data (no CKAN imports). URIs from the EU Publications Office authority tables
(http://publications.europa.eu/resource/authority/...), the DCMI Type Vocabulary, the ADMS publisher
types, IANA media types and GeoNames.
"""

from __future__ import annotations

EU = "http://publications.europa.eu/resource/authority/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
VIE = f"{EU}language/VIE"
ENG = f"{EU}language/ENG"
LANGUAGE_URIS = {"vi": VIE, "vie": VIE, "en": ENG, "eng": ENG}
DATA_THEME_SCHEME = f"{EU}data-theme"
LOCAL_AUTHORITY = "http://purl.org/adms/publishertype/LocalAuthority"

# Ho Chi Minh City on GeoNames; the names agencies write for it.
HCMC_URI = "https://sws.geonames.org/1566083/"
HCMC_NAMES = frozenset(
    {"thành phố hồ chí minh", "tp. hồ chí minh", "tp hồ chí minh", "tp.hcm", "tp. hcm", "tphcm",
     "hồ chí minh", "ho chi minh city", "thanh pho ho chi minh"}
)  # fmt: skip

# CKAN resource format labels -> EU file-type authority codes (dct:format wants the concept).
FILE_TYPES = {
    "CSV": "CSV", "TSV": "TSV", "JSON": "JSON", "GEOJSON": "GEOJSON", "JSON-LD": "JSON_LD",
    "JSONLD": "JSON_LD", "XML": "XML", "HTML": "HTML", "PDF": "PDF", "XLSX": "XLSX", "XLS": "XLS",
    "ODS": "ODS", "ZIP": "ZIP", "PARQUET": "PARQUET", "TXT": "TXT", "TEXT": "TXT", "JPEG": "JPEG",
    "JPG": "JPEG", "PNG": "PNG", "SHP": "SHP", "KML": "KML", "RDF": "RDF_XML", "TTL": "RDF_TURTLE",
    "TURTLE": "RDF_TURTLE", "DOCX": "DOCX", "DOC": "DOC",
}  # fmt: skip

# skos:prefLabel of the concepts the profile types as skos:Concept (DCAT-AP's ConceptShape asks
# for one): (vi, en).
CONCEPT_LABELS: dict[str, tuple[str, str]] = {
    f"{EU}data-theme/AGRI": ("Nông nghiệp, thủy sản, lâm nghiệp và thực phẩm",
                             "Agriculture, fisheries, forestry and food"),
    f"{EU}data-theme/ECON": ("Kinh tế và tài chính", "Economy and finance"),
    f"{EU}data-theme/EDUC": ("Giáo dục, văn hóa và thể thao", "Education, culture and sport"),
    f"{EU}data-theme/ENER": ("Năng lượng", "Energy"),
    f"{EU}data-theme/ENVI": ("Môi trường", "Environment"),
    f"{EU}data-theme/GOVE": ("Chính phủ và khu vực công", "Government and public sector"),
    f"{EU}data-theme/HEAL": ("Y tế", "Health"),
    f"{EU}data-theme/INTR": ("Vấn đề quốc tế", "International issues"),
    f"{EU}data-theme/JUST": ("Tư pháp, hệ thống pháp luật và an toàn công cộng",
                             "Justice, legal system and public safety"),
    f"{EU}data-theme/OP_DATPRO": ("Dữ liệu tạm thời", "Provisional data"),
    f"{EU}data-theme/REGI": ("Vùng và đô thị", "Regions and cities"),
    f"{EU}data-theme/SOCI": ("Dân số và xã hội", "Population and society"),
    f"{EU}data-theme/TECH": ("Khoa học và công nghệ", "Science and technology"),
    f"{EU}data-theme/TRAN": ("Giao thông vận tải", "Transport"),
    LOCAL_AUTHORITY: ("Chính quyền địa phương", "Local authority"),
    "http://purl.org/adms/publishertype/NationalAuthority": ("Cơ quan trung ương", "National authority"),
    "http://purl.org/adms/publishertype/Company": ("Doanh nghiệp", "Company"),
    "http://purl.org/adms/publishertype/Academia-ScientificOrganisation": (
        "Cơ sở học thuật, tổ chức khoa học", "Academia/Scientific organisation"),
    "http://purl.org/adms/publishertype/NonGovernmentalOrganisation": (
        "Tổ chức phi chính phủ", "Non-governmental organisation"),
    "http://purl.org/dc/dcmitype/Dataset": ("Tập dữ liệu", "Dataset"),
    "http://purl.org/dc/dcmitype/Collection": ("Bộ sưu tập", "Collection"),
    "http://purl.org/dc/dcmitype/Image": ("Hình ảnh", "Image"),
    "http://purl.org/dc/dcmitype/StillImage": ("Ảnh tĩnh", "Still image"),
    "http://purl.org/dc/dcmitype/Text": ("Văn bản", "Text"),
    "http://purl.org/dc/dcmitype/Software": ("Phần mềm", "Software"),
    "http://purl.org/dc/dcmitype/Service": ("Dịch vụ", "Service"),
    "http://purl.org/dc/dcmitype/Sound": ("Âm thanh", "Sound"),
    "http://purl.org/dc/dcmitype/MovingImage": ("Hình ảnh động", "Moving image"),
    "http://purl.org/dc/dcmitype/Event": ("Sự kiện", "Event"),
    "http://purl.org/dc/dcmitype/InteractiveResource": ("Tài nguyên tương tác", "Interactive resource"),
    "http://purl.org/dc/dcmitype/PhysicalObject": ("Vật thể", "Physical object"),
}  # fmt: skip


def file_type_uri(label: str) -> str | None:
    """`CSV` -> the EU file-type URI (None for a label not in the table)."""
    code = FILE_TYPES.get(label.strip().upper())
    return f"{EU}file-type/{code}" if code else None


def concept_labels(uri: str) -> tuple[str, str | None]:
    """(vi, en) labels of a concept; a URI not in the table is labelled by its last segment."""
    if uri in CONCEPT_LABELS:
        return CONCEPT_LABELS[uri]
    return uri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or uri, None
