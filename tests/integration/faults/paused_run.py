"""`citydata run ID` in this process, stopping dead at one point so that a test can SIGKILL it there.

    python paused_run.py POINT MARKER ID

At POINT the process writes POINT into the file MARKER and sleeps; the test kills it then. Points:
    staged     version files copied to v<N>/; no manifest, no pointer yet
    committed  the pointer names the new version; its staging is not yet deleted, no catalog entry
    catalog    the CKAN dataset exists (draft) and its DataStore table was just created, empty
Only pauses are added here; everything else is the real command against the real stack.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any


def main(point: str, marker: str, dataset: str) -> None:
    def pause() -> None:
        Path(marker).write_text(point)
        time.sleep(3600)

    if point == "staged":
        import catalog.publish as publish
        from lake.promote import PublishHooks

        publish_version = publish.publish_version

        def paused_version(*args: Any, **kwargs: Any) -> Any:
            kwargs["hooks"] = PublishHooks(after_copy=lambda _prefix: pause())
            return publish_version(*args, **kwargs)

        publish.publish_version = paused_version
    elif point == "committed":
        import lake.promote as promote

        def tidy(*_args: Any, **_kwargs: Any) -> None:
            pause()

        promote._tidy = tidy
    elif point == "catalog":
        from catalog.client import CatalogClient

        call = CatalogClient.call

        def call_then_pause(self: CatalogClient, action: str, **data: Any) -> Any:
            result = call(self, action, **data)
            if action == "datastore_create":
                pause()
            return result

        CatalogClient.call = call_then_pause  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown point {point!r}")

    from citydata.cli import app

    app(["run", dataset, "--json"])


if __name__ == "__main__":
    main(*sys.argv[1:4])
