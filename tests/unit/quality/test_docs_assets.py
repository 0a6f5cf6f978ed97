"""Data Docs without public CDNs (quality.docs_assets, quality._gx_docs): tarballs are checked
against their pinned integrity; a built site refers only to its own files, which it holds; the
pages are in Vietnamese with an English copy. No network: the package cache is made up here."""

import base64
import hashlib
import http.server
import io
import re
import tarfile
import threading
from pathlib import Path

import pandas as pd
import pytest

from citydata.retry import RetryPolicy
from quality import docs_assets
from quality.docs_assets import PACKAGES, AssetError, NpmPackage, check_site, finish_site


def _tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_a_tarball_is_extracted_only_when_it_matches_its_pinned_integrity(tmp_path):
    data = _tarball({"dist/x.min.js": b"x()", "LICENSE": b"MIT", "../../evil": b"no"})
    good = NpmPackage("x", "1.0.0", _sri(data), ("dist/x.min.js",))
    docs_assets._check_integrity(good, data)
    docs_assets._extract(good, data, tmp_path / "x@1.0.0")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "x@1.0.0/.complete", "x@1.0.0/LICENSE", "x@1.0.0/dist/x.min.js",
    ]  # fmt: skip
    tampered = NpmPackage("x", "1.0.0", _sri(data + b"!"), ("dist/x.min.js",))
    with pytest.raises(AssetError, match="pinned"):
        docs_assets._check_integrity(tampered, data)
    missing = NpmPackage("x", "1.0.0", _sri(data), ("dist/y.min.js",))
    with pytest.raises(AssetError, match=r"dist/y\.min\.js"):
        docs_assets._extract(missing, data, tmp_path / "y")


def test_a_registry_mirror_fills_the_cache_once_and_a_tampered_tarball_leaves_nothing(tmp_path):
    good = _tarball({"dist/x.min.js": b"x()", "LICENSE": b"MIT"})
    served = {"/x/-/x-1.0.0.tgz": good, "/y/-/y-1.0.0.tgz": good + b"tampered"}
    asked: list[str] = []

    class Mirror(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            body = served.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    registry = f"http://127.0.0.1:{server.server_address[1]}/"
    x = NpmPackage("x", "1.0.0", _sri(good), ("dist/x.min.js",))
    y = NpmPackage("y", "1.0.0", _sri(good), ("dist/x.min.js",))  # pinned to what y should be
    once = RetryPolicy(attempts=1)
    try:
        assert docs_assets.ensure_assets(tmp_path, registry, once, [x]) == ["x@1.0.0"]
        assert docs_assets.ensure_assets(tmp_path, registry, once, [x]) == []  # cached
        assert asked == ["/x/-/x-1.0.0.tgz"]
        with pytest.raises(AssetError, match="pinned"):
            docs_assets.ensure_assets(tmp_path, registry, once, [y])
        assert sorted(p.name for p in tmp_path.iterdir()) == ["x@1.0.0"]
    finally:
        server.shutdown()


def test_pins_are_exact_versions_with_sha512_and_scoped_tarball_urls():
    for p in PACKAGES:
        assert re.fullmatch(r"\d+\.\d+\.\d+", p.version) and p.integrity.startswith("sha512-"), p
    fa = next(p for p in PACKAGES if p.name == "@fortawesome/fontawesome-free")
    assert fa.tarball("https://registry.npmjs.org/") == (
        "https://registry.npmjs.org/@fortawesome/fontawesome-free/-/fontawesome-free-6.6.0.tgz"
    )


def test_check_site_names_other_hosts_and_missing_files(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "a.css").write_text("b{background:url(../img/b.png)} i{src:url(data:font/x,1)}")
    (tmp_path / "index.html").write_text(
        '<link rel="stylesheet" href="static/a.css"><script src="https://cdn.example/x.js"></script>'
        '<a href="#top">t</a><img src="//img.example/y.png"><a href="missing.html">m</a>'
    )
    assert check_site(tmp_path) == [
        "index.html: refers to another host: https://cdn.example/x.js",
        "index.html: refers to another host: //img.example/y.png",
        "index.html: missing file: missing.html",
        "static/a.css: missing file: ../img/b.png",
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Data Docs built by GX for a failing suite, with a made-up package cache."""
    from quality import _gx

    cache = tmp_path_factory.mktemp("assets")
    for p in PACKAGES:
        for rel in (*p.files, p.licence):
            (cache / p.folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (cache / p.folder / rel).write_text(f"/* {p.folder} {rel} */")
    frame = pd.DataFrame({"ma": ["01", "01", None], "phuong": ["Phường Thủ Đức", "Bến Thành", "x"]})

    def suite() -> list:
        return [
            _gx.instantiate("expect_column_values_to_not_be_null", {"column": "ma"}, "error", {}),
            _gx.instantiate("expect_column_values_to_be_unique", {"column": "ma"}, "error", {}),
            _gx.instantiate("expect_table_row_count_to_be_between", {"min_value": 1}, "warn", {}),
        ]

    result = _gx.validate_frame(frame, "phuong-xa", suite())
    site = _gx.build_docs_site(tmp_path_factory.mktemp("gx"), "phuong-xa", suite(), result, "pull-1",
                               titles=("Phường, xã", "Wards"))  # fmt: skip
    finish_site(site, cache)
    return site


def test_built_site_refers_to_no_other_host_and_holds_every_file_it_uses(site):
    assert check_site(site) == []
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert len(pages) == 6 and "index.html" in pages and "en/index.html" in pages  # index, suite, result x2
    text = "".join(p.read_text() for p in site.rglob("*.html"))
    assert not re.search(r"https?://", text.replace("http://www.w3.org/2000/svg", ""))
    assert (site / "static/vendor/jquery@3.7.1/dist/jquery.min.js").is_file()
    assert (site / "static/vendor/jquery@3.7.1/LICENSE.txt").is_file()
    assert not list(site.glob("static/fonts/*")) and not (site / "en/static").exists()  # GX's unused 4 MB
    assert not list(site.rglob("vega*.js"))  # no chart on these pages


def test_pages_are_vietnamese_with_an_english_copy(site):
    (vi_page,) = site.glob("validations/phuong-xa/pull-1/*/pull-1.html")
    (en_page,) = site.glob("en/validations/phuong-xa/pull-1/*/pull-1.html")
    vi, en = vi_page.read_text(), en_page.read_text()
    assert '<html lang="vi">' in vi and '<html lang="en">' in en
    for words in ("Kết quả kiểm tra chất lượng", "Tổng quan", "Thống kê", "Số kiểm tra không đạt",
                  "Không đạt", "Giá trị không được để trống.", "Giá trị ghi nhận", "Mục lục"):  # fmt: skip
        assert words in vi, words
    assert "Expectation Validation Result" in en and "values must never be null." in en
    assert "Expectation Validation Result" not in vi and "must never be null" not in vi
    assert 'href="../../../../static/vendor/bootstrap@4.3.1/dist/css/bootstrap.min.css"' in vi
    assert 'href="../../../../../static/vendor/bootstrap@4.3.1/dist/css/bootstrap.min.css"' in en
    assert "bootstrap-table-vi-VN.min.js" in (site / "index.html").read_text()
    assert "Phường, xã" in vi and "Wards" in en
