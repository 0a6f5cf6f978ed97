"""Benchmark: rebuilding catalog entries from the lake (`citydata catalog rebuild`), against the
running local stack.

    .venv/bin/python -m benchmarks.catalog_rebuild [--datasets 20] [--small-rows 200] [--rows 100000]
                                                   [--keep]

N small datasets and one --rows dataset (9 columns, Vietnamese text; every row in the DataStore)
are pulled, cleaned and published (lake + catalog). The baseline is the catalog stage of that first
publication (`publish_to_catalog`: packages, DataStore rows, views), summed. Then the benchmark's
own entries are purged from CKAN (datasets and organization: a loss limited to this agency, so that
the rest of the catalog is untouched; `citydata stack reset-ckan` empties the whole CKAN, as the
integration test does) and rebuilt from the lake with `catalog.rebuild.rebuild_catalog`, then
rebuilt again (every entry unchanged).

Everything created (an agency `bench-dr-<random>`, its datasets and lake prefixes) is removed at the
end unless --keep.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from pathlib import Path

import ckanapi

from benchmarks.ingest_throughput import SPEC as INGEST_SPEC
from benchmarks.ingest_throughput import generate
from benchmarks.publish_speed import cleanup, pull_and_clean, small_csv, spec_for
from catalog.client import CatalogClient
from catalog.publish import publish
from catalog.rebuild import rebuild_catalog
from citydata.clients import ckan_client
from citydata.settings import load_settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--small-rows", type=int, default=200)
    parser.add_argument("--rows", type=int, default=100_000, help="0 skips the large dataset")
    parser.add_argument("--keep", action="store_true", help="keep what was created")
    args = parser.parse_args()
    settings = load_settings()
    lake = Lake(settings)
    agency = f"bench-dr-{uuid.uuid4().hex[:8]}"
    datasets: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="citydata-bench-rebuild-") as tmp_dir:
            tmp = Path(tmp_dir)
            specs: list[DatasetSpec] = []
            for i in range(args.datasets):
                name = f"{agency}-ds{i:03d}"
                small_csv(tmp / f"{name}.csv", args.small_rows, i + 1)
                specs.append(spec_for(agency, name, tmp / f"{name}.csv"))
            if args.rows:
                path = tmp / "phan-anh.csv"
                generate(path, args.rows)
                specs.append(spec_for(agency, f"{agency}-big", path, schema=INGEST_SPEC["schema"],
                                      format={"delimiter": ";"}))  # fmt: skip
            datasets = [s.id for s in specs]
            catalog_s = 0.0
            for spec in specs:
                pull_and_clean(spec, settings, lake)
                catalog_s += publish(spec, settings, lake, CatalogClient(settings)).catalog.seconds
            admin = ckan_client(settings)
            for name in datasets:
                admin.action.dataset_purge(id=name)
            admin.action.organization_purge(id=agency)
            rebuilt = rebuild_catalog(settings, lake, CatalogClient(settings), only=[agency])
            again = rebuild_catalog(settings, lake, CatalogClient(settings), only=[agency])
            rows = sum(i.datastore_rows or 0 for i in rebuilt.items)
            big = f" + one of {args.rows:,} rows" if args.rows else ""
            print(f"{args.datasets} datasets x {args.small_rows} rows{big}; {rows:,} DataStore rows")
            print(f"  first publication, catalog stage (baseline): {catalog_s:6.2f} s  1.00")
            print(f"  rebuild from the lake after the loss:       {rebuilt.seconds:6.2f} s  "
                  f"{rebuilt.seconds / catalog_s:.2f}  {rebuilt.counts()}")  # fmt: skip
            print(f"  rebuild again (nothing to do):              {again.seconds:6.2f} s  "
                  f"{again.seconds / catalog_s:.2f}  {again.counts()}")  # fmt: skip
            slowest = max(rebuilt.items, key=lambda i: i.seconds)
            print(f"  slowest entry: {slowest.dataset} {slowest.seconds:.2f} s")
            if not rebuilt.ok or not again.ok:
                raise RuntimeError(
                    [i.message for i in [*rebuilt.items, *again.items] if i.status == "failed"]
                )
    finally:
        if args.keep:
            print(f"kept: agency {agency}, datasets {', '.join(datasets)}")
        else:
            try:
                cleanup(settings, agency, datasets)
            except ckanapi.CKANAPIError as exc:
                print(f"cleanup: {exc}")


if __name__ == "__main__":
    main()
