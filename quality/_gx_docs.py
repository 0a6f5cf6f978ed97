"""GX's Data Docs pages, offline and in Vietnamese: the view classes the site config names.

GX builds each page with a view class that the site config may name (`site_index_builder.view`,
`site_section_builders.<section>.view`). These subclasses of GX's own views change three things:

- the document is translated (`quality.docs_vi`) before it becomes HTML, for the Vietnamese site;
- templates come first from `quality/docs_templates/` (the script imports, the navigation bar
  without GX's logo from a public bucket, the headings, the footer without GX's newsletter link,
  the favicon at the right depth), then from GX with a few strict edits (`_EDITS`): the CDN
  stylesheet links of the page templates are replaced by the site's own copies, and the sidebar's
  words are Vietnamese. An edit that no longer matches GX's template raises, naming the template
  (a GX upgrade must not silently bring the CDNs back: `docs_assets.check_site` checks too);
- each page gets the relative path to its site's root (`citydata_root`), for the vendored files.

Imported only by `quality._gx` when a site is built (it imports Great Expectations).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from great_expectations import __version__ as gx_version
from great_expectations.render import RenderedContent
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader

from quality.docs_assets import page_assets
from quality.docs_vi import translate_document

TEMPLATES = Path(__file__).with_name("docs_templates")
_CDN_LINK = re.compile(r'[ \t]*<link [^>]*href="https?://[^"]*"[^>]*>[ \t]*\n')
_HEAD = "<style>{% include 'data_docs_default_styles.css' %}</style>"
_GX_LOGO = (
    "background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
    "full_logo_dark.png') 0 0 no-repeat;"
)
_PAGE_EDITS = [
    ("<html>", '<html lang="{{ citydata_lang }}">'),
    (_HEAD, "{% include 'citydata_styles.j2' %}\n    " + _HEAD),
]
# (old, new) pairs for every language, then the Vietnamese words of GX's own templates.
_EDITS: dict[str, list[tuple[str, str]]] = {
    "page.j2": _PAGE_EDITS,
    "index_page.j2": _PAGE_EDITS,
    "page_minimal.j2": _PAGE_EDITS,
    # GX's dark theme draws its logo from a public bucket behind the brand; the bar has no logo here
    "data_docs_default_styles.css": [(_GX_LOGO, "background: none;")],
    "table_of_contents.j2": [
        (
            "section['section_name'] == \"Overview\"",
            'section[\'section_name\'] in ("Overview", "Tổng quan")',
        ),
    ],
}
_EDITS_VI: dict[str, list[tuple[str, str]]] = {
    "page.j2": [("<title>Data documentation compiled by Great Expectations</title>",
                 "<title>Báo cáo chất lượng dữ liệu · {{ citydata_dataset }}</title>")],
    "index_page.j2": [("<title>Data Docs created by Great Expectations</title>",
                       "<title>Báo cáo chất lượng dữ liệu · {{ citydata_dataset }}</title>")],
    "page_action_card.j2": [("<strong>Actions</strong>", "<strong>Thao tác</strong>"),
                            ("Validation Filter:", "Lọc kết quả:"),
                            ('autocomplete="off" checked> Show All', 'autocomplete="off" checked> Tất cả'),
                            ('autocomplete="off"> Failed Only', 'autocomplete="off"> Chỉ mục không đạt')],
    "table_of_contents.j2": [("<strong>Table of Contents</strong>", "<strong>Mục lục</strong>")],
    "bootstrap_table.j2": [(">Clear Filters</button>", ">Xóa bộ lọc</button>")],
}  # fmt: skip


class TemplateChanged(RuntimeError):
    """GX's template no longer has the text an edit expects."""


class _EditedLoader(BaseLoader):
    """GX's templates with the edits above applied (each must match exactly once or more)."""

    def __init__(self, inner: BaseLoader, lang: str) -> None:
        self.inner = inner
        self.lang = lang

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = self.inner.get_source(environment, template)
        edits = _EDITS.get(template, []) + (_EDITS_VI.get(template, []) if self.lang == "vi" else [])
        if template in ("page.j2", "index_page.j2", "page_minimal.j2"):
            source, count = _CDN_LINK.subn("", source)
            if not count:
                raise TemplateChanged(f"GX {gx_version}: {template} has no CDN stylesheet links any more")
        for old, new in edits:
            if old not in source:
                raise TemplateChanged(f"GX {gx_version}: {template} no longer contains {old!r}")
            source = source.replace(old, new)
        return source, filename, uptodate


def _has_graph(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get("content_block_type") == "graph" or any(_has_graph(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_graph(v) for v in node)
    return False


def _depth(document: dict[str, Any]) -> int:
    """How many folders below the site's root GX writes this page (see GX's HtmlSiteStore)."""
    dots = str(document.get("expectation_suite_name") or "").count(".")
    kind = str(document.get("renderer_type") or "")
    if "ValidationResults" in kind or "ProfilingResults" in kind:
        return dots + 4  # validations/<suite>/<run name>/<run time>/<batch>.html
    if "ExpectationSuite" in kind:
        return dots + 1  # expectations/<suite>.html
    return 0  # index.html


def _name_site(node: Any, name: str) -> None:
    """The index heading says the dataset ('Data Docs | <site name>' otherwise)."""
    if isinstance(node, dict):
        params = node.get("params")
        if isinstance(params, dict) and "site_name" in params:
            params["site_name"] = name
        for value in node.values():
            _name_site(value, name)
    elif isinstance(node, list):
        for value in node:
            _name_site(value, name)


class _Localized:
    """What both views add to GX's: `lang` 'vi' or 'en'; `shared_static`: the site's static/ is its
    parent's (the English copy); `dataset`: the title the pages show; `switch`: a language link."""

    env: Environment
    _template: str
    _validate_document: Callable[[Any], None]

    def __init__(
        self,
        custom_styles_directory: str | None = None,
        custom_views_directory: str | None = None,
        *,
        lang: str = "vi",
        shared_static: bool = False,
        dataset: str = "",
        switch: bool = False,
    ) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)  # type: ignore[call-arg]
        self.lang, self.shared_static, self.dataset, self.switch = lang, shared_static, dataset, switch
        gx_templates = _EditedLoader(self.env.loader, lang)  # type: ignore[arg-type]
        self.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), gx_templates])

    def render(self, document: Any, template: Any = None, **kwargs: Any) -> str:
        self._validate_document(document)
        doc = document.to_json_dict() if isinstance(document, RenderedContent) else dict(document)
        if self.lang == "vi":
            translate_document(doc)
        if self.dataset:
            _name_site(doc, self.dataset)
        root = "../" * _depth(doc)
        site = root + ("../" if self.shared_static else "")  # where static/ is
        styles, scripts = page_assets(self.lang, _has_graph(doc))
        other = ("../" if self.shared_static else "en/") + "index.html"
        kwargs.update(
            citydata_lang=self.lang,
            citydata_dataset=self.dataset,
            citydata_root=root,
            citydata_static=site + "static/",
            citydata_styles=[site + s for s in styles],
            citydata_scripts=[site + s for s in scripts],
            citydata_switch=(root + other) if self.switch else "",
        )
        return self.env.get_template(template or self._template).render(doc, **kwargs)


class CitydataPageView(_Localized, DefaultJinjaPageView):
    pass


class CitydataIndexPageView(_Localized, DefaultJinjaIndexPageView):
    pass


def site_config(base_directory: str, lang: str, *, shared_static: bool, dataset: str, switch: bool) -> Any:
    """A GX site (SiteBuilder) whose pages use the views above; no how-to buttons or GX links."""
    options = {"lang": lang, "shared_static": shared_static, "dataset": dataset, "switch": switch}
    page = {"module_name": __name__, "class_name": CitydataPageView.__name__, **options}
    index = {"module_name": __name__, "class_name": CitydataIndexPageView.__name__, **options}
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": base_directory},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "view": index},
        "site_section_builders": {"expectations": {"view": page}, "validations": {"view": page}},
    }
