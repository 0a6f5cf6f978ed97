"""Sample agency sources for the main job: a web server, a database table, an S3 drop upload.

They stand in for agency systems, with real public data (see `samples/`): an agency web server
on loopback serving a `;` CSV and a JSON file, an agency database (PostgreSQL, its own database
and read-only role), and an XLSX uploaded to the S3 drop zone. Scanned paper forms (synthetic,
`samples/forms.py`) arrive the way a scanning station delivers them: the PNGs uploaded to the
platform's labeling bucket under the dataset's prefix, and a JSON manifest (one row per scan,
naming its key) on the agency web server.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import ClassVar

import openpyxl
import psycopg
import pyarrow as pa

from citydata.clients import s3_client
from samples.admin_units import hcmc_wards, legacy_units_merged_into_hcmc, provinces
from samples.feedback import feedback
from samples.forms import form_scans
from stack.process import ProcessSpec
from stack.service import Service, http_ok
from stack.services.postgres import PostgresService

DATABASE, ROLE, TABLE = "agency_samples", "agency_samples_ro", "don_vi_hanh_chinh_cu"
DROP_KEY = "so-noi-vu/tinh-thanh/tinh-thanh-2025.xlsx"
FORMS_PREFIX = "so-khcn/phieu-phan-anh-giay/scans/"  # `<agency>/<dataset>/`: the project's S3 storage prefix
FORMS_MANIFEST, FORMS_COUNT = "phieu-phan-anh-giay.json", 24
DB_URL_KEY = "CITYDATA_SAMPLES_DB_URL"  # read by the sample spec as `env:CITYDATA_SAMPLES_DB_URL`


def _vi_number(value: float) -> str:
    """12345.678 -> "12.345,678": how Vietnamese Excel exports write numbers."""
    whole, _, frac = f"{value:.3f}".rstrip("0").rstrip(".").partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return grouped + ("," + frac if frac else "")


class SamplesService(Service):
    name: ClassVar[str] = "samples"
    description: ClassVar[str] = "sample agency sources (web server, database, drop-zone upload)"
    requires: ClassVar[tuple[str, ...]] = ("s3", "postgres")
    start_timeout_s: ClassVar[float] = 30.0
    order: ClassVar[int] = 80

    def ports(self) -> dict[str, int]:
        return {"http": self.settings.samples.port}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.samples.port}"

    @property
    def www(self) -> Path:
        return self.data_dir / "www"

    def configure(self) -> None:
        self.www.mkdir(parents=True, exist_ok=True)
        wards = hcmc_wards()
        lines = ["Mã phường/xã;Tên phường/xã;Loại;Diện tích (km²);Vĩ độ;Kinh độ;Ngày hiệu lực"]
        for r in wards.to_pylist():
            lines.append(
                f"{r['ma']};{r['ten']};{r['loai']};{_vi_number(r['dien_tich_km2'])};"
                f"{_vi_number(r['vi_do'])};{_vi_number(r['kinh_do'])};01/07/2025"
            )
        # Excel's "CSV UTF-8": a BOM, `;` separators, CRLF line ends.
        (self.www / "phuong-xa-tphcm.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
        body = json.dumps({"data": feedback()}, ensure_ascii=False, indent=1)
        (self.www / "phan-anh-hien-truong.json").write_text(body, encoding="utf-8")

    def processes(self) -> list[ProcessSpec]:
        argv = [
            sys.executable,
            "-m",
            "http.server",
            str(self.settings.samples.port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(self.www),
        ]
        return [ProcessSpec("web", argv, cwd=self.data_dir)]

    def healthy(self) -> bool:
        return http_ok(f"{self.url}/phuong-xa-tphcm.csv")

    def bootstrap(self) -> None:
        self._database()
        self._drop_zone()
        self._form_scans()

    def _database(self) -> None:
        pg = PostgresService(self.ctx)
        password = self.ctx.env_file.ensure_secret("CITYDATA_STACK__SAMPLES_DB_PASSWORD")
        pg.ensure_role(ROLE, password)
        pg.ensure_database(DATABASE, "postgres")
        settings = self.settings.postgres
        self.ctx.env_file.update(
            {DB_URL_KEY: f"postgresql+psycopg://{ROLE}:{password}@{settings.host}:{settings.port}/{DATABASE}"}
        )
        table = legacy_units_merged_into_hcmc()
        with psycopg.connect(settings.dsn(DATABASE)) as conn:
            exists = conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()
            if exists and exists[0]:
                return
            columns = ", ".join(f"{name} text" for name in table.column_names)
            conn.execute(f"CREATE TABLE {TABLE} ({columns}, cap_nhat timestamptz DEFAULT now())")
            with conn.cursor().copy(f"COPY {TABLE} ({', '.join(table.column_names)}) FROM STDIN") as copy:
                for row in table.to_pylist():
                    copy.write_row([row[c] for c in table.column_names])
            conn.execute(f"GRANT SELECT ON {TABLE} TO {ROLE}")

    def _drop_zone(self) -> None:
        client = s3_client(self.settings)
        bucket = self.settings.s3.drop_bucket
        if any(True for _ in client.list_objects(bucket, prefix=DROP_KEY)):
            return
        body = _xlsx(provinces())
        client.put_object(bucket, DROP_KEY, io.BytesIO(body), len(body))

    def _form_scans(self) -> None:
        """Scans into the labeling bucket first, then the manifest naming them (never a missing image)."""
        client = s3_client(self.settings)
        bucket = self.settings.s3.labeling_bucket
        manifest = self.www / FORMS_MANIFEST
        present = sum(1 for _ in client.list_objects(bucket, prefix=FORMS_PREFIX))
        if manifest.exists() and present >= FORMS_COUNT:
            return
        scans = form_scans(FORMS_PREFIX, FORMS_COUNT)
        for scan in scans:
            client.put_object(
                bucket, scan.row["anh"], io.BytesIO(scan.png), len(scan.png), content_type="image/png"
            )
        body = json.dumps({"data": [scan.row for scan in scans]}, ensure_ascii=False, indent=1)
        manifest.write_text(body, encoding="utf-8")


def _xlsx(table: pa.Table) -> bytes:
    """A workbook the way agencies send them: a title row, then a two-line header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tỉnh thành"
    ws.append(["DANH SÁCH ĐƠN VỊ HÀNH CHÍNH CẤP TỈNH (từ ngày 01/07/2025)"])
    ws.append(["Mã", "Tên", "Loại", "Điện thoại"])
    ws.append(["", "", "", "Mã vùng"])
    for row in table.to_pylist():
        ws.append([row["ma"], row["ten"], row["loai"], row["ma_vung_dien_thoai"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
