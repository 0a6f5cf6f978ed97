"""Tables built from the administrative-unit packages (real data, offline)."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pyarrow as pa

HCMC = "79"
# Provinces merged into Ho Chi Minh City on 1 July 2025: HCMC, Bình Dương, Bà Rịa - Vũng Tàu.
MERGED_INTO_HCMC = ("79", "74", "77")


def _database() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("vietnamadminunits is required for the sample data")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "dataset.db"


def _query(sql: str, params: tuple[str, ...] = ()) -> pa.Table:
    with sqlite3.connect(f"file:{_database()}?mode=ro", uri=True) as conn:
        cursor = conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


def hcmc_wards() -> pa.Table:
    """The 168 wards, communes and special zone of Ho Chi Minh City after the reform."""
    return _query(
        "SELECT wardCode AS ma, ward AS ten, wardType AS loai, wardAreaKm2 AS dien_tich_km2, "
        "wardLat AS vi_do, wardLon AS kinh_do FROM admin_units WHERE provinceCode = ? ORDER BY wardCode",
        (HCMC,),
    )


def legacy_units_merged_into_hcmc() -> pa.Table:
    """Wards of the three provinces merged into HCMC, with their districts, before the reform."""
    marks = ",".join("?" * len(MERGED_INTO_HCMC))
    return _query(
        "SELECT wardCode AS ma_phuong_xa, ward AS ten_phuong_xa, wardType AS loai_phuong_xa, "
        "districtCode AS ma_quan_huyen, district AS ten_quan_huyen, districtType AS loai_quan_huyen, "
        "provinceCode AS ma_tinh, province AS ten_tinh "
        f"FROM admin_units_legacy WHERE provinceCode IN ({marks}) ORDER BY wardCode",
        MERGED_INTO_HCMC,
    )


def provinces() -> pa.Table:
    """The 34 provinces and centrally-run cities after the reform (official list)."""
    from vietnam_provinces import Province

    rows = list(Province.iter_all())
    return pa.table(
        {
            "ma": [f"{int(p.code):02d}" for p in rows],
            "ten": [p.name for p in rows],
            "loai": [p.division_type.value for p in rows],
            # written as dialled and as agencies type it: "024" (Hà Nội), "0206" (Cao Bằng)
            "ma_vung_dien_thoai": [f"0{p.phone_code}" for p in rows],
        }
    )
