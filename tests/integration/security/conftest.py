"""One dataset with personal data and spreadsheet formulas, run for real through Dagster: pull, clean
(PII masked / dropped), quality gate, lake, CKAN catalog + DataStore, Label Studio tasks.

Shared by the security tests (PII in every output, formula injection, secrets in logs). Removed
from CKAN, S3 and Label Studio afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from tests.integration.cleanup import purge_agency

HEADER = "ma,ho_ten,cccd,so_dien_thoai,email,ghi_chu,cong_thuc,so_tien"
ROWS = [
    "PA001,Nguyễn Văn An,079201001234,0901234567,an.nguyen@example.com,"
    '"Gọi 0912 345 678 hoặc chi.le@example.net","=HYPERLINK(""http://x"",""y"")",-5',
    "PA002,Trần Thị Bình,079301005678,0987654321,binh.tran@example.org,Đường ngập nước sau mưa,+cmd,12",
    "PA003,Lê Văn Cường,001099012345,+84 938 111 222,cuong.le@example.vn,CCCD 079088123456 bị mất,-1+1,-1",
    "PA004,Phạm Thị Dung,079199004321,0355667788,dung.pham@example.com,Rác chưa được thu gom,@SUM(1;2),0",
]
# Every raw personal value of ROWS: none may appear in anything published.
PII_VALUES = [
    "079201001234", "079301005678", "001099012345", "079199004321", "079088123456",
    "0901234567", "0987654321", "938111222", "0355667788", "0912345678",
    "an.nguyen@example.com", "binh.tran@example.org", "cuong.le@example.vn", "dung.pham@example.com",
    "chi.le@example.net", "an.nguyen", "binh.tran", "cuong.le", "dung.pham", "chi.le",
]  # fmt: skip
FORMULA_CELLS = ['=HYPERLINK("http://x","y")', "+cmd", "-1+1", "@SUM(1;2)"]


@dataclass
class Exercised:
    """The dataset after a real Dagster run, and what the run reported."""

    settings: Settings
    spec: DatasetSpec
    result: dict[str, Any]
    lake: Lake
    pii_values: tuple[str, ...] = tuple(PII_VALUES)
    formula_cells: tuple[str, ...] = tuple(FORMULA_CELLS)

    @property
    def project_id(self) -> int:
        return int(self.result["label_studio_project"])


def _spec(unique: str, folder: Path) -> DatasetSpec:
    source = folder / "phan-anh.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return DatasetSpec.model_validate(
        {
            "id": f"sec-phan-anh-{unique}",
            "agency": {"id": f"test-sec-{unique}", "title": {"vi": "Sở TT&TT (thử nghiệm bảo mật)"}},
            "title": {"vi": f"Phản ánh có dữ liệu cá nhân {unique}"},
            "description": {"vi": "Bộ dữ liệu thử nghiệm: số CCCD, điện thoại, email phải được che."},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "synthetic": True,
            "source": {"type": "local_file", "path": str(source)},
            "cleaning": {"pii": "mask"},
            "schema": {
                "primary_key": ["ma"],
                "columns": {
                    "ma": {"nullable": False},
                    "ho_ten": {},
                    "cccd": {},
                    "so_dien_thoai": {"pii": "drop"},
                    "email": {},
                    "ghi_chu": {},
                    "cong_thuc": {},
                    "so_tien": {"type": "integer"},
                },
            },
            "labeling": {
                "task_type": "text_classification",
                "labels": ["giao_thong", "moi_truong", "khac"],
                "columns": ["ghi_chu", "ho_ten", "cccd", "email"],
            },
        }
    )


def _cleanup(settings: Settings, spec: DatasetSpec, lake: Lake, project_id: int | None) -> None:
    from labeling.client import LabelStudio

    if project_id is not None:
        with contextlib.suppress(Exception):
            LabelStudio(settings).sdk.projects.delete(id=project_id)
    purge_agency(settings, lake, spec.agency.id, [spec.id, f"{spec.id}-labels"])


@pytest.fixture(scope="session")
def exercised(stack_ready: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exercised]:
    import uuid

    from citydata.cli.run import run_datasets

    unique = uuid.uuid4().hex[:8]
    spec = _spec(unique, tmp_path_factory.mktemp("security-dataset"))
    lake = Lake(stack_ready)
    result: dict[str, Any] = {}
    try:
        [result] = run_datasets([spec], until="labeling_tasks")
        assert result["ok"], result
        yield Exercised(stack_ready, spec, result, lake)
    finally:
        project = result.get("label_studio_project")
        _cleanup(stack_ready, spec, lake, int(project) if project is not None else None)
