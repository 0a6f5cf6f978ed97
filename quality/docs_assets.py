"""The browser libraries Data Docs need, served from the docs' own folder instead of public CDNs.

Great Expectations' pages load jQuery, Bootstrap, bootstrap-table, a date picker, Font Awesome and
(for charts) Vega from cdn.jsdelivr.net, unpkg.com, cdnjs and others: on a network without the
internet they render blank. The same files come from the npm registry here, at the versions GX's
templates name (pinned: Vega's "@5" is resolved once, to the newest 5.x), each tarball checked
against its pinned `integrity` (SHA-512, as npm itself checks it) before anything is extracted.
Only the files the pages use, and each package's licence, are kept in a cache folder
(`data_docs.assets_dir`, default `~/.cache/citydata/data-docs-assets`, outside the repository);
`citydata stack up` fills it, and a build fills what is missing. Every site gets a copy under
`static/vendor/<package>@<version>/` beside its pages: the docs are read from S3, by anonymous
read of the version's prefix, so they must not depend on any other prefix (about 1.4 MB a site,
at most `keep_versions` sites a dataset; the Vega set, 0.8 MB more, only when a page draws a chart).

`check_site` is the guarantee: no page or stylesheet refers to another host, and every file a page
or stylesheet refers to is in the site.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests

from citydata.retry import RetryPolicy, TransientStatus, raise_for_transient_status, retry_call

VENDOR = "static/vendor/"


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    integrity: str  # the registry's `dist.integrity` (SRI, sha512)
    files: tuple[str, ...]  # paths inside the tarball's `package/` folder that the pages use
    licence: str = "LICENSE"  # package.json (its `license` field) where the tarball has no file
    graphs_only: bool = False  # only for pages that draw charts (Vega)

    @property
    def folder(self) -> str:
        return f"{self.name}@{self.version}"

    def tarball(self, registry: str) -> str:
        return f"{registry.rstrip('/')}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    def href(self, path: str) -> str:
        """Where `path` of this package is in a site, relative to the site's root."""
        return f"{VENDOR}{self.folder}/{path}"


PACKAGES = (
    NpmPackage("jquery", "3.7.1",
               "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
               ("dist/jquery.min.js",), "LICENSE.txt"),
    NpmPackage("popper.js", "1.12.9",
               "sha512-s0EEi9xiSCdqz9lV4IiVH5yIZnDX/U1t0tCjB+0jXx9jW8lrR7kOpVupiUg175ogqVoudpDXHF1p6dKATCHMeg==",
               ("dist/umd/popper.min.js",), "package.json"),
    NpmPackage("bootstrap", "4.3.1",
               "sha512-rXqOmH1VilAt2DyPzluTi2blhk17bO7ef+zLLPlWvG494pDxcM234pJ8wTc/6R40UWizAIIMgxjvxZg5kmsbag==",
               ("dist/css/bootstrap.min.css", "dist/js/bootstrap.min.js")),
    NpmPackage("bootstrap-table", "1.19.1",
               "sha512-WvV+l1AI/C+zThaKmfHmi/IuayVNB0qdFyEhFx1jyZhO0oLtNJNANkCR3rvJf6Dkh72dsLElxpE/bzK9seEQLA==",
               ("dist/bootstrap-table.min.css", "dist/bootstrap-table.min.js",
                "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
                "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
                "dist/locale/bootstrap-table-vi-VN.min.js")),
    NpmPackage("bootstrap-datepicker", "1.9.0",
               "sha512-9rYYbaVOheGYxjOr/+bJCmRPihfy+LkLSg4fIFMT9Od8WwWB/MB50w0JO1eBgKUMbb7PFHQD5uAfI3ArAxZRXA==",
               ("dist/css/bootstrap-datepicker.min.css", "dist/js/bootstrap-datepicker.min.js")),
    NpmPackage("@forevolve/bootstrap-dark", "1.1.0",
               "sha512-A3ucpEpxPoTVO490lZZCfjPXxv832l7mm1IxX3bXyxvgwnPGXDLyh7dWrphXKO8YBAu3EswbBEu3VSW8NRMW3A==",
               ("dist/css/bootstrap-prefers-dark.min.css",)),
    # GX links all.min.css; its pages use only solid icons (`fas`), so the core and solid styles do.
    NpmPackage("@fortawesome/fontawesome-free", "6.6.0",
               "sha512-60G28ke/sXdtS9KZCpZSHHkCbdsOGEhIUGlwq6yhY74UpTiToIh8np7A8yphhM4BWsvNFtIvLpi4co+h9Mr9Ow==",
               ("css/fontawesome.min.css", "css/solid.min.css", "webfonts/fa-solid-900.woff2",
                "webfonts/fa-solid-900.ttf"), "LICENSE.txt"),
    NpmPackage("vega", "5.33.1",
               "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==",
               ("build/vega.min.js",), "package.json", graphs_only=True),
    NpmPackage("vega-lite", "5.23.0",
               "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
               ("build/vega-lite.min.js",), graphs_only=True),
    NpmPackage("vega-embed", "6.29.0",
               "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
               ("build/vega-embed.min.js",), graphs_only=True),
)  # fmt: skip
_BY_NAME = {p.name: p for p in PACKAGES}
_STAMP = ".complete"

# In the order GX's templates load them (page.j2, index_page.j2, js_script_imports.j2).
STYLES = (
    ("bootstrap-table", "dist/bootstrap-table.min.css"),
    ("bootstrap", "dist/css/bootstrap.min.css"),
    ("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
    ("bootstrap-datepicker", "dist/css/bootstrap-datepicker.min.css"),
    ("@forevolve/bootstrap-dark", "dist/css/bootstrap-prefers-dark.min.css"),
    ("@fortawesome/fontawesome-free", "css/fontawesome.min.css"),
    ("@fortawesome/fontawesome-free", "css/solid.min.css"),
)
SCRIPTS = (
    ("vega", "build/vega.min.js"),
    ("vega-lite", "build/vega-lite.min.js"),
    ("vega-embed", "build/vega-embed.min.js"),
    ("jquery", "dist/jquery.min.js"),
    ("popper.js", "dist/umd/popper.min.js"),
    ("bootstrap", "dist/js/bootstrap.min.js"),
    ("bootstrap-table", "dist/bootstrap-table.min.js"),
    ("bootstrap-table", "dist/locale/bootstrap-table-vi-VN.min.js"),  # Vietnamese pages only
    ("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"),
    ("bootstrap-datepicker", "dist/js/bootstrap-datepicker.min.js"),
)


def href(package: str, path: str) -> str:
    """A vendored file's path relative to a site's root (`static/vendor/jquery@3.7.1/...`)."""
    found = _BY_NAME[package]
    if path not in found.files:
        raise KeyError(f"{package}: {path} is not one of the vendored files")
    return found.href(path)


def page_assets(lang: str, graphs: bool) -> tuple[list[str], list[str]]:
    """The stylesheets and scripts of one page, relative to the site's root."""
    styles = [href(name, path) for name, path in STYLES]
    scripts = [
        href(name, path)
        for name, path in SCRIPTS
        if (graphs or not _BY_NAME[name].graphs_only) and (lang == "vi" or "/locale/" not in path)
    ]
    return styles, scripts


def fingerprint() -> str:
    """Changes when a pinned package or file changes (the stack re-fetches then)."""
    text = "\n".join(f"{p.folder} {p.integrity} {' '.join(p.files)}" for p in PACKAGES)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class AssetError(RuntimeError):
    """A package could not be fetched, or did not match its pinned integrity."""


def _check_integrity(package: NpmPackage, data: bytes) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    got = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if got != expected:
        raise AssetError(f"{package.folder}: the tarball's {algorithm} is {got}, pinned {expected}")


def _download(package: NpmPackage, registry: str, policy: RetryPolicy) -> bytes:
    url = package.tarball(registry)

    def get() -> bytes:
        response = requests.get(url, timeout=60)
        raise_for_transient_status(response)
        response.raise_for_status()
        return response.content

    try:
        return retry_call(policy, get, name=f"npm {package.folder}")
    except (requests.RequestException, TransientStatus) as exc:
        raise AssetError(
            f"{package.folder}: cannot fetch {url} ({exc}); set CITYDATA_DATA_DOCS__NPM_REGISTRY to a "
            "reachable npm registry or mirror, or fill CITYDATA_DATA_DOCS__ASSETS_DIR from a machine that can"
        ) from exc


def _complete(package: NpmPackage, target: Path) -> bool:
    stamp = target / _STAMP
    return stamp.is_file() and stamp.read_text() == package.integrity


def _extract(package: NpmPackage, data: bytes, target: Path) -> None:
    """The package's listed files into `target`, through a private folder renamed at the end (two
    processes filling an empty cache at once both end with a complete folder)."""
    wanted = {f"package/{f}": f for f in (*package.files, package.licence)}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                rel = wanted.pop(member.name, None)
                if rel is None or not member.isfile():
                    continue
                out = tmp / rel  # names come from our own list, never from the archive
                out.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None
                out.write_bytes(source.read())
        if wanted:
            raise AssetError(f"{package.folder}: not in the tarball: {', '.join(sorted(wanted.values()))}")
        (tmp / _STAMP).write_text(package.integrity)
        if target.exists() and not _complete(package, target):
            shutil.rmtree(target)  # an older or broken copy
        try:
            tmp.rename(target)
        except OSError:
            if not _complete(package, target):  # not another process's complete copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_assets(
    cache_dir: Path, registry: str, policy: RetryPolicy, packages: Sequence[NpmPackage] = PACKAGES
) -> list[str]:
    """Fetch, check and extract every package missing from `cache_dir`; the ones fetched."""
    fetched = []
    for package in packages:
        target = cache_dir / package.folder
        if _complete(package, target):
            continue
        data = _download(package, registry, policy)
        _check_integrity(package, data)
        _extract(package, data, target)
        fetched.append(package.folder)
    return fetched


def copy_into_site(site: Path, cache_dir: Path, *, graphs: bool) -> int:
    """Copy the vendored files (and licences) into `site/static/vendor/`; the bytes copied."""
    size = 0
    for package in PACKAGES:
        if package.graphs_only and not graphs:
            continue
        for rel in (*package.files, package.licence):
            source = cache_dir / package.folder / rel
            target = site / package.href(rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            size += target.stat().st_size
    return size


# --- the guarantee ------------------------------------------------------------------------------
class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data") and value:
                self.found.append((tag, name, value.strip()))
            elif name == "style" and value:
                self.found += [(tag, "style", url) for url in css_references(value)]

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:  # stylesheets written into the page
            self.found += [("style", "url", url) for url in css_references(data)]


_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


def html_references(text: str) -> list[tuple[str, str, str]]:
    """(tag, attribute, value) of every src/href/... in a page."""
    parser = _References()
    parser.feed(text)
    return parser.found


def css_references(text: str) -> list[str]:
    return [m.group(1).strip() for m in _CSS_URL.finditer(text)]


def _local_target(base: Path, value: str) -> Path | None:
    """The file a relative reference points to, or None for in-page anchors and data: URIs."""
    parts = urlsplit(value)
    if value.startswith("#") or parts.scheme in ("data", "javascript", "mailto") or not parts.path:
        return None
    return (base / unquote(parts.path)).resolve()


def _references(site: Path) -> list[tuple[str, str]]:
    """(page or stylesheet relative to the site, reference) for every page and stylesheet."""
    out = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".css") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        values = [v for _, _, v in html_references(text)] if path.suffix == ".html" else css_references(text)
        out += [(path.relative_to(site).as_posix(), v) for v in values]
    return out


def check_site(site: Path) -> list[str]:
    """What breaks the offline guarantee: references to another host, and missing local files."""
    site = site.resolve()
    problems: list[str] = []
    for rel, value in _references(site):
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") or value.startswith("//"):
            problems.append(f"{rel}: refers to another host: {value}")
            continue
        if parts.scheme and parts.scheme not in ("data", "javascript", "mailto"):
            problems.append(f"{rel}: unexpected URL scheme: {value}")
            continue
        target = _local_target((site / rel).parent, value)
        if target is None:
            continue
        if not target.is_relative_to(site):
            problems.append(f"{rel}: refers outside the site: {value}")
        elif not target.is_file():
            problems.append(f"{rel}: missing file: {value}")
    return problems


def finish_site(site: Path, cache_dir: Path) -> int:
    """Add the vendored files a built site's pages use, drop GX's unused static files (fonts,
    tutorial images: ~4 MB), and check the result; the site's size in bytes."""
    site = site.resolve()
    graphs = any("/vega@" in value for _, value in _references(site))
    copy_into_site(site, cache_dir, graphs=graphs)
    used = {t for rel, v in _references(site) if (t := _local_target((site / rel).parent, v)) is not None}
    vendor = site / VENDOR
    for path in sorted(site.rglob("*")):
        in_static = "static" in path.relative_to(site).parts[:2] and not path.is_relative_to(vendor)
        if in_static and path.is_file() and path.resolve() not in used:
            path.unlink()
    for folder in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()
    problems = check_site(site)
    if problems:
        raise AssetError(f"Data Docs in {site} would not render offline: " + "; ".join(problems[:10]))
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
