"""docs/walkthrough.md, followed literally: its English section's commands take a fresh agency
workbook to a published dataset on the real stack, whose rows equal the workbook's (read back
with openpyxl) and which an unaccented search finds."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml

from citydata.clients import ckan_client
from citydata.settings import REPO_ROOT
from citydata.storage.lake import Lake
from tests.integration.cleanup import purge_agency

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).parent / "citydata")
WALKTHROUGH = REPO_ROOT / "docs" / "walkthrough.md"
HEADER = ["STT", "Mã bãi", "Tên bãi", "Phường", "Sức chứa (xe)", "Ngày mở"]
ROWS = [
    [1, "00101", "Bãi xe chợ Bến Thành", "Phường Bến Thành", 1200, "01/07/2025"],
    [2, "00102", "Bãi xe Nhà hát Thành phố", "Phường Sài Gòn", 80, "15/08/2024"],
    [3, "00103", "Bãi xe Vincom Thủ Đức", "Phường Thủ Đức", 95, "31/12/2022"],
    [4, "00104", "Bãi xe Tân Định", "Phường Tân Định", 60, "02/01/2023"],
]


def english_commands() -> list[str]:
    """The `citydata …` lines of the English section's bash blocks, in order."""
    english = WALKTHROUGH.read_text(encoding="utf-8").split("## English", 1)[1]
    blocks = re.findall(r"```bash\n(.*?)```", english, re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.startswith("citydata ")]


def agency_workbook(path: Path) -> None:
    """A report-shaped workbook: authority and title rows, a header, data, signatures."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bãi xe"
    ws.append(["ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"])
    ws.append(["DANH SÁCH BÃI GIỮ XE CÔNG CỘNG NĂM 2025"])
    ws.append([])
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    ws.append([])
    ws.append(["", "Người lập biểu", "", "", "Giám đốc"])
    wb.save(path)


def fill_in_todos(spec_path: Path, agency: str) -> None:
    """Step 3, as the walkthrough's Vietnamese example does it."""
    text = spec_path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert "TODO" in text and data["agency"]["id"] == "todo"
    data["agency"] = {"id": agency, "title": {"vi": "Sở Giao thông Vận tải (thử nghiệm)"}}
    data["description"] = {"vi": "Danh sách bãi giữ xe công cộng trên địa bàn Thành phố."}
    data["dublin_core"].update(creator="Sở Giao thông Vận tải", publisher="UBND Thành phố Hồ Chí Minh")
    data["dublin_core"]["date"] = dt.date(2025, 7, 1)
    data["license"] = "cc-by"
    first = text.splitlines()[0]  # the schema line stays for the editor
    spec_path.write_text(first + "\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def test_the_walkthrough_takes_a_fresh_file_to_a_published_dataset(stack_ready, unique, tmp_path):
    commands = english_commands()
    assert [c.split()[1] for c in commands] == ["new", "datasets", "preview", "run"]
    folder = tmp_path / "so-gtvt"
    folder.mkdir()
    dataset, agency = f"bai-giu-xe-{unique}", f"test-walk-{unique}"
    agency_workbook(folder / f"{dataset}.xlsx")
    env = {**os.environ, "HOME": str(tmp_path)}  # `~/so-gtvt/` is the test's folder
    lake = Lake(stack_ready)
    try:
        for command in commands:
            if command.split()[1] == "datasets":  # step 3 comes before the check
                fill_in_todos(folder / f"{dataset}.yaml", agency)
            args = command.replace("bai-giu-xe", dataset).replace("~", str(tmp_path)).split()[1:]
            if args[0] in ("preview", "run"):
                args.append("--json")
            proc = subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=900)
            assert proc.returncode == 0, f"{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            if args[0] == "preview":
                shown = json.loads(proc.stdout)
                assert [r["ma_bai"] for r in shown["first_rows"]] == [r[1] for r in ROWS]
            if args[0] == "run":
                [outcome] = json.loads(proc.stdout)
                assert outcome["ok"] and outcome["ckan_url"].endswith(f"/dataset/{dataset}"), outcome

        ckan = ckan_client(stack_ready, anonymous=True)
        package = ckan.action.package_show(id=dataset)
        assert package["title"] == "Danh sách bãi giữ xe công cộng năm 2025"
        assert package["organization"]["name"] == agency and package["license_id"] == "cc-by"
        table = next(r for r in package["resources"] if r.get("datastore_active"))
        records = ckan.action.datastore_search(resource_id=table["id"], sort="stt", limit=100)["records"]
        source = list(
            openpyxl.load_workbook(folder / f"{dataset}.xlsx").active.iter_rows(
                min_row=5, max_row=8, values_only=True
            )
        )
        assert [r["ma_bai"] for r in records] == [row[1] for row in source]  # codes keep their zeros
        assert [r["ten_bai"] for r in records] == [row[2] for row in source]
        assert [int(r["suc_chua_xe"]) for r in records] == [row[4] for row in source]
        assert [r["ngay_mo"][:10] for r in records] == [
            dt.datetime.strptime(str(row[5]), "%d/%m/%Y").date().isoformat() for row in source
        ]
        found = ckan.action.package_search(q="bai giu xe", fq=f"organization:{agency}")["results"]
        assert [p["name"] for p in found] == [dataset]
        by_ward = ckan.action.package_search(q="vincom thu duc", fq=f"organization:{agency}")["results"]
        assert [p["name"] for p in by_ward] == [dataset]
    finally:
        purge_agency(stack_ready, lake, agency, [dataset])
