"""Label Studio 1.23 (PyPI) in its own virtual environment, SQLite under the stack folder."""

from __future__ import annotations

import json
import os
import sqlite3
import urllib.request
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

from stack.paths import STACK_SOURCE_DIR
from stack.process import ProcessSpec, ServiceError
from stack.service import Service, file_digest, http_ok

REQUIREMENTS = STACK_SOURCE_DIR / "label_studio" / "requirements.txt"
HOST = "127.0.0.1"

# Label Studio reads every setting as LABEL_STUDIO_<X>, then HEARTEX_<X>, then plain <X>
# (core.utils.params.get_env), so ordinary shell variables such as USERNAME, PASSWORD,
# HOST, PORT, DEBUG or CI change its behaviour. Inherited variables with these names or
# prefixes are hidden from the server; it sees only what `processes()` passes.
# CITYDATA_* is hidden too: the server needs none of the platform's other credentials.
HIDDEN_PREFIXES = (
    "LABEL_STUDIO_",
    "HEARTEX_",
    "POSTGRE_",
    "MYSQL_",
    "MINIO_STORAGE_",
    "STORAGE_",
    "SENTRY_",
    "CITYDATA_",
)
HIDDEN_NAMES = (
    "USERNAME",
    "PASSWORD",
    "USER_TOKEN",
    "HOST",
    "PORT",
    "DEBUG",
    "LOG_LEVEL",
    "JSON_LOG",
    "CI",
    "TEST_ENVIRONMENT",
    "BASE_DATA_DIR",
    "DATABASE_NAME",
    "DJANGO_DB",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",  # Label Studio keeps its own in <data>/.env (0600); an inherited one would win
    "ALLOWED_HOSTS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "FRONTEND_SENTRY_DSN",
    "FEATURE_FLAGS_FILE",
    "FEATURE_FLAGS_OFFLINE",
    "USE_DEFAULT_S3_STORAGE",
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
)


class LabelStudioService(Service):
    name = "label_studio"
    description = "Label Studio annotation server (SQLite, signup disabled, fixed API token)"
    # The first start applies ~90 s of migrations on 2 cores; restarts take ~10 s.
    start_timeout_s = 300.0

    # --- identity -------------------------------------------------------------------
    @property
    def port(self) -> int:
        parts = urlsplit(self.settings.label_studio.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    def ports(self) -> dict[str, int]:
        return {"http": self.port}

    @property
    def url(self) -> str:
        return self.settings.label_studio.url.rstrip("/")

    @property
    def _local_url(self) -> str:
        """Where this process listens (always loopback, whatever host the URL names)."""
        return f"http://{HOST}:{self.port}"

    @property
    def _database(self) -> Path:
        return self.data_dir / "label_studio.sqlite3"

    # --- install --------------------------------------------------------------------
    def fingerprint(self) -> str:
        return file_digest(REQUIREMENTS)

    def _venv(self) -> Path:
        return self.ctx.paths.venv("label-studio")

    def install(self) -> None:
        self.ctx.make_venv("label-studio", self.name, "-r", str(REQUIREMENTS))

    # --- run ------------------------------------------------------------------------
    def configure(self) -> None:
        # The SQLite file holds the API token in clear and <data>/.env the Django SECRET_KEY.
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        env_file = self.ctx.env_file
        env_file.ensure_secret("CITYDATA_LABEL_STUDIO__PASSWORD")
        token = env_file.ensure_secret("CITYDATA_LABEL_STUDIO__API_TOKEN")
        ls = self.settings.label_studio
        env_file.update(
            {"CITYDATA_LABEL_STUDIO__URL": ls.url, "CITYDATA_LABEL_STUDIO__USERNAME": ls.username}
        )
        # The manager reloads the settings next; a real environment variable wins over the file.
        token = ls.api_token.get_secret_value() or token
        self._check_existing_user(ls.username, token)

    def _check_existing_user(self, username: str, token: str) -> None:
        """Label Studio applies USERNAME/PASSWORD/USER_TOKEN only when it creates the user.

        When the data folder already holds that user with another token (the env file was
        deleted or the username changed), the server would start but never accept the
        token: fail now with a clear message instead of after the start timeout.
        """
        if not self._database.exists():
            return
        try:
            with closing(sqlite3.connect(f"file:{self._database}?mode=ro", uri=True)) as db:
                row = db.execute(
                    "SELECT u.email FROM authtoken_token t JOIN htx_user u ON u.id = t.user_id"
                    " WHERE t.key = ?",
                    (token,),
                ).fetchone()
                user = db.execute("SELECT id FROM htx_user WHERE email = ?", (username,)).fetchone()
        except sqlite3.Error:
            return  # not migrated yet (interrupted first start): Label Studio will finish it
        if (row is None and user is not None) or (row is not None and row[0] != username):
            raise ServiceError(
                self.name,
                f"the data in {self.data_dir} was created with other credentials than "
                f"{self.ctx.paths.env_file} holds for {username}; restore that file, or remove "
                f"{self.data_dir} to start Label Studio empty",
            )

    def processes(self) -> list[ProcessSpec]:
        ls = self.settings.label_studio
        env = {
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),
            "DJANGO_DB": "sqlite",
            "LABEL_STUDIO_USERNAME": ls.username,
            "LABEL_STUDIO_PASSWORD": ls.password.get_secret_value(),
            "LABEL_STUDIO_USER_TOKEN": ls.api_token.get_secret_value(),
            # Without it, 1.23 creates the organization with legacy tokens disabled and the
            # fixed token above gets 401; it only matters when the organization is created.
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            "LATEST_VERSION_CHECK": "false",  # otherwise a ~12 s hang behind a firewall
            "COLLECT_ANALYTICS": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "DEBUG": "false",
            # Import/export storages reach the local S3 through this trusted fallback, which
            # bypasses the SSRF check that rejects a loopback `s3_endpoint` in the storage.
            "S3_ENDPOINT": self.settings.s3.url,
            "PYTHONUNBUFFERED": "1",
        }
        hidden = tuple(
            sorted(
                key
                for key in os.environ
                if key not in env and (key in HIDDEN_NAMES or key.startswith(HIDDEN_PREFIXES))
            )
        )
        argv = [
            str(self._venv() / "bin" / "label-studio"),
            "start",
            "--no-browser",
            "--internal-host",
            HOST,
            "--port",
            str(self.port),
            # In 1.23 `--debug` only turns off the silent move to the next free port when the
            # port is busy: the server then fails instead of answering somewhere else.
            "--debug",
        ]
        return [ProcessSpec(name="server", argv=argv, env=env, cwd=self.data_dir, unset_env=hidden)]

    def healthy(self) -> bool:
        """/health answers on our port and the API accepts the configured token for our user."""
        if not http_ok(f"{self._local_url}/health"):
            return False
        return self._whoami() == self.settings.label_studio.username

    def _whoami(self) -> str | None:
        token = self.settings.label_studio.api_token.get_secret_value()
        if not token:
            return None
        request = urllib.request.Request(
            f"{self._local_url}/api/current-user/whoami", headers={"Authorization": f"Token {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                return json.load(resp).get("email")
        except Exception:  # noqa: BLE001 - not ready, or the token is refused
            return None
