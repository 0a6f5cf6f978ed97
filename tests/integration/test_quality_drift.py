"""The quality gate against the real stack: implausible coordinates and x1000 drift never publish.

A `;` CSV with Vietnamese numbers (15,682 km²) is served from a local file, pulled, cleaned,
validated and published to the lake (S3). Then the source sends the same rows with the numbers
re-read as text (15682): the drift against version 1 blocks the gate, publication is refused and
the lake keeps version 1; acknowledging the column lets version 2 through. Coordinates x1000 are
blocked on a first version by the automatic plausibility check."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.publish import PublishBlocked, publish_to_lake
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.published import read_manifest, read_pointer, read_version_table
from ingest.clean import clean_pull
from ingest.pull import pull
from quality.reports import quality_keys
from quality.result import QualityResult
from quality.validate import validate_clean
from tests.integration.cleanup import purge_agency

pytestmark = pytest.mark.integration

AREAS = ["15,682", "3,412", "8,910", "1,250"]  # km², Vietnamese decimal commas
HEADER = "Mã;Tên phường;Diện tích (km²);Dân số"
NAMES = ["Phường Thủ Dầu Một", "Phường Sài Gòn", "Phường Tân Định", "Phường Bến Thành"]
POPULATION = ["128.000", "47.000", "52.500", "39.800"]  # thousands separated by dots


class World:
    """Specs with a local-file source each; purges the agency afterwards."""

    def __init__(self, settings: Settings, unique: str, tmp: Path) -> None:
        self.settings, self.unique, self.tmp = settings, unique, tmp
        self.lake = Lake(settings)
        self.agency = f"test-drift-{unique}"
        self.datasets: list[str] = []

    def spec(self, name: str, columns: dict[str, Any], quality: dict[str, Any] | None = None) -> DatasetSpec:
        dataset = f"{name}-{self.unique}"
        if dataset not in self.datasets:
            self.datasets.append(dataset)
        return DatasetSpec.model_validate(
            {
                "id": dataset,
                "agency": {"id": self.agency, "title": {"vi": "Sở Nội vụ (thử nghiệm)"}},
                "title": {"vi": "Phường xã (thử nghiệm)"},
                "description": {"vi": "Dữ liệu thử nghiệm"},
                "dublin_core": {"creator": "Sở Nội vụ", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
                "synthetic": True,
                "source": {"type": "local_file", "path": str(self.tmp / f"{dataset}.csv")},
                "schema": {"primary_key": ["ma"], "locale": "vi", "columns": columns},
                "cleaning": {"pii": "keep"},
                "quality": quality or {},
            }
        )

    def write(self, spec: DatasetSpec, header: str, rows: list[str]) -> None:
        path = Path(str(spec.source.path))  # type: ignore[union-attr]
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    def run(self, spec: DatasetSpec, *, data_docs: bool = False) -> QualityResult:
        """Pull (the source changed), clean and validate; the quality result."""
        pulled = pull(spec, self.settings, self.lake)
        assert pulled.pull_id and not pulled.unchanged
        cleaned = clean_pull(spec, self.settings, self.lake, pulled.pull_id)
        assert cleaned.rejected == 0, cleaned
        return validate_clean(spec, self.settings, self.lake, pulled.pull_id, data_docs=data_docs)

    def published_column(self, spec: DatasetSpec, column: str) -> list[Any]:
        manifest = read_manifest(self.lake, spec.agency.id, spec.id)
        assert manifest is not None
        return read_version_table(self.lake, manifest).column(column).to_pylist()


@pytest.fixture
def world(stack_ready: Settings, unique: str, tmp_path: Path) -> Iterator[World]:
    w = World(stack_ready, unique, tmp_path)
    yield w
    purge_agency(w.settings, w.lake, w.agency, w.datasets)


AREA_COLUMNS = {
    "ma": {"nullable": False},
    "dien_tich_km2": {"type": "number", "min": 0, "rename_from": "Diện tích (km²)"},
    "dan_so": {"type": "integer"},
}


def area_rows(areas: list[str]) -> list[str]:
    return [f"P{i:02d};{n};{a};{p}" for i, (n, a, p) in enumerate(zip(NAMES, areas, POPULATION, strict=True))]


def test_area_x1000_is_blocked_by_drift_and_the_lake_keeps_version_1(world: World) -> None:
    spec = world.spec("dien-tich", AREA_COLUMNS)
    world.write(spec, HEADER, area_rows(AREAS))
    first = world.run(spec)
    assert first.promotable and not any(o.type == "citydata_drift" for o in first.expectations)
    assert first.profile["columns"]["dien_tich_km2"]["median"] == pytest.approx((3.412 + 8.91) / 2)
    published, _ = publish_to_lake(spec, world.settings, world.lake)
    assert published.version == 1
    assert world.published_column(spec, "dien_tich_km2") == [15.682, 3.412, 8.91, 1.25]

    # The same rows, the decimal comma lost: 15,682 km² arrives as 15682.
    world.write(spec, HEADER, area_rows([a.replace(",", "") for a in AREAS]))
    second = world.run(spec)
    assert second.blocking and not second.promotable and second.publish_key is None
    (drift,) = [o for o in second.failures if o.severity == "error"]
    assert (drift.type, drift.origin, drift.column) == ("citydata_drift", "quality.drift", "dien_tich_km2")
    assert drift.message is not None
    assert drift.message.startswith("median of dien_tich_km2 went from 6.161 (version 1) to 6161 (x1000")
    assert drift.message.endswith("list it under quality.drift.acknowledge")
    warned = {o.kwargs["statistic"] for o in second.failures if o.severity == "warn"}
    assert warned == {"min", "max"}  # they moved x1000 too: reported, not blocking on their own
    summary = world.lake.get_json(quality_keys(spec, second.pull_id)["summary"])
    assert summary["promotable"] is False
    assert any(e["type"] == "citydata_drift" and not e["success"] for e in summary["expectations"])
    with pytest.raises(PublishBlocked):
        publish_to_lake(spec, world.settings, world.lake, pull_id=second.pull_id)
    pointer = read_pointer(world.lake, spec.agency.id, spec.id)
    assert pointer is not None and pointer.current == 1 and [v.version for v in pointer.versions] == [1]
    assert world.published_column(spec, "dien_tich_km2") == [15.682, 3.412, 8.91, 1.25]

    # The agency confirms the new unit: acknowledged, the same pull passes and publishes.
    accepted = world.spec("dien-tich", AREA_COLUMNS, {"drift": {"acknowledge": ["dien_tich_km2"]}})
    again = validate_clean(accepted, world.settings, world.lake, second.pull_id, data_docs=False)
    assert again.promotable and not again.blocking
    noted = [o for o in again.expectations if o.type == "citydata_drift"]
    assert noted and all(o.success for o in noted)
    assert all((o.message or "").startswith("acknowledged in quality.drift.acknowledge: ") for o in noted)
    published, _ = publish_to_lake(accepted, world.settings, world.lake, pull_id=second.pull_id)
    assert published.version == 2
    assert world.published_column(accepted, "dien_tich_km2") == [15682.0, 3412.0, 8910.0, 1250.0]


COORD_HEADER = "Mã;Tên phường;Tọa độ - Vĩ độ;Tọa độ - Kinh độ"


def coordinate_rows(latitudes: list[str], longitudes: list[str]) -> list[str]:
    return [
        f"P{i:02d};{n};{a};{o}" for i, (n, a, o) in enumerate(zip(NAMES, latitudes, longitudes, strict=True))
    ]


def test_coordinates_x1000_are_blocked_by_plausibility_on_a_first_version(world: World) -> None:
    spec = world.spec("toa-do", {"ma": {"nullable": False}})  # no bounds in the spec: automatic ones
    latitudes, longitudes = ["10,969", "10,776", "10,79", "10,773"], ["106,661", "106,7", "106,69", "106,698"]
    world.write(spec, COORD_HEADER, coordinate_rows([v.replace(",", "") for v in latitudes], longitudes))
    result = world.run(spec, data_docs=True)

    assert result.blocking and not result.promotable and result.score < 100
    (failure,) = result.failures
    assert failure.origin == "plausibility.coordinates" and failure.severity == "error"
    assert failure.column is not None and "vi_do" in failure.column
    assert failure.unexpected_count == 4 and failure.partial_unexpected_list[0] == 10969.0
    assert failure.kwargs["min_value"] == 6.0 and failure.kwargs["max_value"] == 23.5
    assert result.failed_rows == [0, 1, 2, 3]
    docs = quality_keys(spec, result.pull_id)["data_docs"].rsplit("/", 1)[0] + "/"
    pages = [k for k in world.lake.keys(docs) if "/validations/" in k and k.endswith(".html")]
    (page,) = [k for k in pages if "/data_docs/en/" not in k]
    assert "Latitude within Viet Nam" in world.lake.get_bytes(page).decode()  # shown in Data Docs
    with pytest.raises(PublishBlocked):
        publish_to_lake(spec, world.settings, world.lake, pull_id=result.pull_id)
    assert read_pointer(world.lake, spec.agency.id, spec.id) is None

    world.write(spec, COORD_HEADER, coordinate_rows(latitudes, longitudes))  # the source fixed
    fixed = world.run(spec)
    assert fixed.promotable and not fixed.failures
    assert {o.origin for o in fixed.expectations} >= {"plausibility.coordinates"}
    published, _ = publish_to_lake(spec, world.settings, world.lake, pull_id=fixed.pull_id)
    assert published.version == 1
