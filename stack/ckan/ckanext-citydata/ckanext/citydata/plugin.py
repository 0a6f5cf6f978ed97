"""CKAN plugin `citydata`: small fixes to CKAN 2.12 and its extensions, each written to go upstream.

- Background jobs that call DataStore actions with `ignore_auth` and no user (ckanext-xloader's
  row-by-row fallback: `datastore_create` and `datastore_delete` from its loader) make the
  `activity` plugin fail with `{'user_id': ['User not found']}` when the resource's
  `datastore_active` flag is saved. Such calls now act as the site user, as XLoader's own
  job code does elsewhere (`get_site_user`).
- The DataTables preview's search box and filtered download fold Vietnamese search text before
  ckanext.datatablesview rewrites it (search_text.py): its rewrite made every accented letter a
  wildcard. The routes are the view's own, registered first (this plugin comes first in
  `ckan.plugins`); the view's functions then run unchanged on the folded form.
- XLoader leaves alone the resources the platform publishes (they carry `citydata_role`; their
  DataStore table is loaded typed by the platform), so they can be labelled plainly 'CSV' and
  appear under CKAN's CSV format facet.
- Dataset search ranks exact accented matches first (search_rank.py, with the accent-keeping
  Solr fields the stack adds to CKAN's schema).
- Dataset search finds row values: the distinct values of a dataset's DataStore text columns
  (capped) are indexed with it (row_values.py).
- DataStore dumps (CSV/TSV download, the preview's filtered download) neutralise spreadsheet
  formulas in text cells, like the platform's CSV exports (dump_formulas.py).
- DCAT-AP 3: the RDF profile `citydata_dcat_ap` (dcat_profile.py, an entry point of this package)
  completes ckanext-dcat's output; its catalog settings `ckanext.citydata.catalog.*` are declared here.
- The portal's pages (templates/): a home page for the city (home/index.html: what the portal is,
  a search box, topics with their dataset counts, recent and new datasets; helpers in portal.py),
  and the dataset page's 'Additional info' in words instead of vocabulary URIs (display.py).
- The dataset quality score (computed by the platform per version): a badge with its breakdown and
  what to fix on the dataset page (templates/scheming/package/read.html), DQV measurements in DCAT
  (quality_score.py).
- The agency scoreboard at /chat-luong (CSV at /chat-luong.csv): agencies, datasets, scores,
  freshness and what to fix, sortable (scoreboard.py, templates/citydata/scoreboard.html).
"""

from __future__ import annotations

from typing import Any

import ckan.plugins as plugins
import ckan.plugins.toolkit as toolkit
from ckanext.citydata.dump_formulas import install as install_dump_escaping
from ckanext.citydata.row_values import with_row_values
from ckanext.citydata.search_rank import with_accented_ranking
from ckanext.citydata.search_text import fold_ajax_form, fold_download_params
from flask import Blueprint, request
from werkzeug.datastructures import ImmutableMultiDict


def _as_site_user(context: dict[str, Any]) -> None:
    if context.get("ignore_auth") and not context.get("user"):
        site_user = toolkit.get_action("get_site_user")({"ignore_auth": True}, {})
        context["user"] = site_user["name"]


@toolkit.chained_action
def datastore_create(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    _as_site_user(context)
    return original(context, data_dict)


@toolkit.chained_action
def datastore_delete(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    _as_site_user(context)
    return original(context, data_dict)


def _with_form(form: dict[str, list[str]]) -> None:
    request.form = ImmutableMultiDict([(k, v) for k, values in form.items() for v in values])  # type: ignore[misc]


def datatables_ajax(resource_view_id: str) -> Any:
    from ckanext.datatablesview import blueprint as datatables

    _with_form(fold_ajax_form(request.form.to_dict(flat=False)))
    return datatables.ajax(resource_view_id)


def datatables_filtered_download(resource_view_id: str) -> Any:
    import json

    from ckanext.datatablesview import blueprint as datatables

    form = request.form.to_dict(flat=False)
    form["params"] = [json.dumps(fold_download_params(json.loads(form["params"][0])))]
    _with_form(form)
    return datatables.filtered_download(resource_view_id)


def _scoreboard_rows() -> tuple[list[dict[str, Any]], str]:
    from datetime import UTC, datetime

    from ckanext.citydata import scoreboard

    lang = "en" if toolkit.h.lang() == "en" else "vi"
    search = lambda **data: toolkit.get_action("package_search")({}, data)  # noqa: E731 - the user's own view
    now, site = datetime.now(UTC), str(toolkit.config.get("ckan.site_url"))
    rows = [r for p in scoreboard.packages(search) if (r := scoreboard.dataset_row(p, now, site, lang))]
    by = request.args.get("sort", "score")
    return scoreboard.sort_rows(rows, by, request.args.get("order", "asc") == "desc"), lang


def scoreboard_page() -> Any:
    from ckanext.citydata import scoreboard

    rows, _ = _scoreboard_rows()
    extra = {"rows": rows, "agencies": scoreboard.agencies(rows), "sort": request.args.get("sort", "score"),
             "order": request.args.get("order", "asc")}  # fmt: skip
    return toolkit.render("citydata/scoreboard.html", extra_vars=extra)


def scoreboard_csv() -> Any:
    from ckanext.citydata import scoreboard
    from flask import Response

    rows, lang = _scoreboard_rows()
    return Response(
        scoreboard.csv_bytes(rows, lang),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="chat-luong-du-lieu.csv"'},
    )


try:  # XLoader is optional: without it there is nothing to keep away
    from ckanext.xloader.interfaces import IXloader
except ImportError:  # pragma: no cover
    IXloader = None


class CitydataPlugin(plugins.SingletonPlugin):
    plugins.implements(plugins.IActions)
    if IXloader is not None:
        plugins.implements(IXloader, inherit=True)
    plugins.implements(plugins.IBlueprint)
    plugins.implements(plugins.IPackageController, inherit=True)
    plugins.implements(plugins.IConfigDeclaration)
    plugins.implements(plugins.IConfigurer)
    plugins.implements(plugins.ITemplateHelpers)

    def update_config(self, config: Any) -> None:
        toolkit.add_template_directory(config, "templates")

    def get_helpers(self) -> dict[str, Any]:
        from ckanext.citydata import portal, quality_score
        from ckanext.citydata.display import info_rows
        from ckanext.citydata.labeling_quality import labeling_of

        def citydata_info_rows(pkg: dict[str, Any]) -> list[dict[str, Any]]:
            return info_rows(pkg, "en" if toolkit.h.lang() == "en" else "vi")

        def citydata_labeling(pkg: dict[str, Any]) -> dict[str, Any] | None:
            return labeling_of(pkg, "en" if toolkit.h.lang() == "en" else "vi")

        return {
            "citydata_info_rows": citydata_info_rows,
            "citydata_labeling": citydata_labeling,
            "citydata_quality_score": quality_score.score_of,
            "citydata_score_badge": quality_score.badge_class,
            "citydata_version_history": quality_score.version_history,
            "citydata_topics": portal.topics,
            "citydata_recent_datasets": portal.recent_datasets,
            "citydata_new_datasets": portal.new_datasets,
            "citydata_most_downloaded": portal.most_downloaded,
            "citydata_tracking_on": portal.tracking_on,
            "citydata_counts": portal.counts,
        }

    def declare_config_options(self, declaration: Any, key: Any) -> None:
        from ckanext.citydata.dcat_profile import CATALOG_DEFAULTS

        declaration.annotate("citydata: the DCAT catalog's own description (dcat_profile.py)")
        group = key.ckanext.citydata.catalog
        for name, default in CATALOG_DEFAULTS.items():
            declaration.declare(getattr(group, name), default)

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return with_row_values(pkg_dict)

    def before_dataset_search(self, search_params: dict[str, Any]) -> dict[str, Any]:
        return with_accented_ranking(search_params)

    def can_upload(self, resource_id: str) -> bool:
        """XLoader: not for the platform's own resources (already in the DataStore, typed)."""
        resource = toolkit.get_action("resource_show")({"ignore_auth": True}, {"id": resource_id})
        return not resource.get("citydata_role")

    def get_blueprint(self) -> Blueprint:
        install_dump_escaping()  # at start-up, once the DataStore's own blueprint is imported
        blueprint = Blueprint("citydata", __name__)
        blueprint.add_url_rule("/datatables/ajax/<resource_view_id>", view_func=datatables_ajax,
                               methods=["POST"])  # fmt: skip
        blueprint.add_url_rule("/datatables/filtered-download/<resource_view_id>",
                               view_func=datatables_filtered_download, methods=["POST"])  # fmt: skip
        blueprint.add_url_rule("/chat-luong", view_func=scoreboard_page)
        blueprint.add_url_rule("/chat-luong.csv", view_func=scoreboard_csv)
        return blueprint

    def get_actions(self) -> dict[str, Any]:
        return {"datastore_create": datastore_create, "datastore_delete": datastore_delete}
