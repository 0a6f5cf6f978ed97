"""`citydata run ID --until clean` against real sources (an HTTP server, local files) and real S3."""

import io
import json
import os
import subprocess
import sys
import textwrap
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import citydata.kernels.encoding  # noqa: F401 - registers the cp1258-nfc codec
from citydata.clients import s3_client
from citydata.spec import load_spec
from citydata.storage.lake import Lake
from ingest.clean import clean_pull
from ingest.pull import pull

pytestmark = pytest.mark.integration

CSV = (
    "Mã bãi;Tên bãi;Quận;Phường;Sức chứa;Ngày cấp phép\n"
    "B01;Bãi xe Nguyễn Huệ;Quận 1;Phường Bến Nghé;1.200;05/03/2024\n"
    "B02;Bãi xe chợ Bến Thành;Quận 1;Phường Bến Thành;80;31/12/2023\n"
    "B03;Bãi xe thiếu cột;Quận 3\n"
    "B04;Bãi xe Lê Văn Sỹ;Quận 3;Phường Võ Thị Sáu;nhiều;01/01/2024\n"
    "B02;Bãi xe trùng mã;Quận 1;Phường Bến Thành;50;01/01/2024\n"
)


def spec_text(dataset_id: str, source: str) -> str:
    return textwrap.dedent(
        f"""
        id: {dataset_id}
        agency: {{id: so-gtvt-test, title: {{vi: "Sở Giao thông Vận tải (thử nghiệm)"}}}}
        title: {{vi: "Bãi giữ xe công cộng", en: "Public parking lots"}}
        description: {{vi: "Bãi giữ xe trên địa bàn thành phố (dữ liệu thử nghiệm)."}}
        dublin_core: {{creator: Sở GTVT, publisher: UBND TP.HCM, date: 2025-07-01}}
        synthetic: true
        source: {source}
        schema:
          primary_key: [ma_bai]
          columns:
            ma_bai: {{nullable: false}}
            suc_chua: {{type: integer, min: 0}}
            ngay_cap_phep: {{type: date}}
            quan: {{admin_unit: district}}
            phuong: {{admin_unit: ward}}
        cleaning: {{max_rejected_ratio: 0.9}}
        """
    )


class CountingHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("If-Modified-Since")))  # type: ignore[attr-defined]
        super().do_GET()


@pytest.fixture
def http_root(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(CountingHandler, directory=str(root)))
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore[attr-defined]
    server.shutdown()


def run_cli(specs_dir: Path, *args: str) -> tuple[int, list[dict]]:
    cli = Path(sys.executable).parent / "citydata"
    env = {**os.environ, "CITYDATA_SPECS_DIR": str(specs_dir)}
    proc = subprocess.run(
        [str(cli), "run", *args, "--json"], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.stdout.strip(), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def read_parquet(settings, key: str):
    body = s3_client(settings).get_object(settings.s3.lake_bucket, key).read()
    return pq.read_table(io.BytesIO(body))


def test_http_file_run_until_clean_then_unchanged_costs_one_request(stack_ready, tmp_path, http_root, unique):
    root, base_url, requests = http_root
    (root / "bai-giu-xe.csv").write_bytes(CSV.encode("utf-8"))
    specs = tmp_path / "specs"
    specs.mkdir()
    dataset_id = f"test-http-{unique}"
    (specs / f"{dataset_id}.yaml").write_text(
        spec_text(dataset_id, f"{{type: http_file, url: '{base_url}/bai-giu-xe.csv'}}"), encoding="utf-8"
    )
    code, [result] = run_cli(specs, dataset_id, "--until", "clean")
    assert code == 0, result
    assert result["ok"] and result["rows"] == 2 and result["rejected"] == 3
    assert len(requests) == 1

    lake = Lake(stack_ready)
    spec = load_spec(specs / f"{dataset_id}.yaml")
    state = lake.get_json(f"state/{dataset_id}/source.json")
    prefix = f"clean/so-gtvt-test/{dataset_id}/{state['last_pull']}/"
    manifest = lake.get_json(prefix + "_clean.json")
    clean = read_parquet(stack_ready, prefix + "data.parquet")
    assert clean.column("ma_bai").to_pylist() == ["B01", "B02"]
    assert clean.column("suc_chua").to_pylist() == [1200, 80]
    assert clean.column("ward_code").to_pylist()[0] is not None
    rejected = read_parquet(stack_ready, manifest["keys"]["rejected"]).to_pylist()
    by_line = {r["line"]: r for r in rejected}
    assert "expected 6 fields" in by_line[4]["reasons"] or "fields" in by_line[4]["reasons"]  # ragged row B03
    assert "suc_chua: 'nhiều' not a number" in by_line[5]["reasons"]
    duplicate = by_line[6]  # the duplicate's own line, not -1
    assert "duplicate primary key" in duplicate["reasons"] and "trùng mã" in duplicate["row"]
    raw_key = lake.get_json(f"raw/so-gtvt-test/{dataset_id}/{state['last_pull']}/_pull.json")["objects"][0][
        "key"
    ]
    assert lake.get_bytes(raw_key) == CSV.encode("utf-8")  # the source is kept, byte for byte

    code, [again] = run_cli(specs, dataset_id, "--until", "clean")
    assert code == 0 and again["detail"].startswith("source unchanged; already cleaned")
    assert len(requests) == 2 and requests[1][1] is not None  # one conditional request, answered 304
    assert spec.id == dataset_id


def test_unreadable_file_is_named_and_other_datasets_carry_on(stack_ready, tmp_path, unique):
    good_dir, bad_dir = tmp_path / "good", tmp_path / "bad"
    good_dir.mkdir()
    bad_dir.mkdir()
    (good_dir / "bai.csv").write_bytes(CSV.encode("cp1258-nfc"))  # as Windows writes Windows-1258
    (bad_dir / "bai.csv").write_bytes(b"\x00\x01\x02\xff" * 500)
    specs = tmp_path / "specs"
    specs.mkdir()
    for name, folder in (("good", good_dir), ("bad", bad_dir)):
        dataset_id = f"test-{name}-{unique}"
        source = f"{{type: local_file, path: '{folder}'}}"
        (specs / f"{dataset_id}.yaml").write_text(spec_text(dataset_id, source), encoding="utf-8")
    code, results = run_cli(specs, "--all", "--until", "clean")
    assert code == 1
    by_id = {r["dataset"]: r for r in results}
    assert by_id[f"test-good-{unique}"]["ok"] and by_id[f"test-good-{unique}"]["rows"] == 2
    bad = by_id[f"test-bad-{unique}"]
    assert not bad["ok"] and "bai.csv" in bad["detail"]


def test_replay_from_raw_zone_gives_the_same_clean_rows(stack_ready, tmp_path, unique):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "bai.csv").write_bytes(CSV.encode("utf-8-sig"))
    path = tmp_path / f"test-replay-{unique}.yaml"
    path.write_text(spec_text(f"test-replay-{unique}", f"{{type: local_file, path: '{folder}'}}"))
    spec = load_spec(path)
    lake = Lake(stack_ready)
    pulled = pull(spec, stack_ready, lake)
    first = clean_pull(spec, stack_ready, lake, pulled.pull_id)
    (folder / "bai.csv").unlink()  # the source is gone: the raw zone is enough
    again = clean_pull(spec, stack_ready, lake, pulled.pull_id, force=True)
    assert first.rows == again.rows == 2
    assert read_parquet(stack_ready, again.keys["data"]).equals(read_parquet(stack_ready, first.keys["data"]))
    assert clean_pull(spec, stack_ready, lake, pulled.pull_id).skipped
