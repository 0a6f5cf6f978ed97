"""CKAN 2.12 (own virtual environment): catalog, DataStore, DCAT-AP, scheming, XLoader.

Served by gunicorn on loopback, with a background jobs worker for XLoader. `configure()`
does everything the command line can do without the web server (databases, ckan.ini,
migrations, DataStore permissions, sysadmin, API tokens) and skips what is already done.
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import json
import string
import subprocess
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

from stack.paths import STACK_SOURCE_DIR
from stack.process import ProcessSpec, ServiceError
from stack.service import Service, file_digest, http_ok
from stack.services._ckan_support import DATASTORE_TEXT_SEARCH, b64url_decode, private_write, sql_literal
from stack.services.postgres import PostgresService

SOURCE_DIR = STACK_SOURCE_DIR / "ckan"
REQUIREMENTS = SOURCE_DIR / "requirements.txt"
PLUGINS_REQUIREMENTS = SOURCE_DIR / "plugins.txt"
OVERRIDES_TEMPLATE = SOURCE_DIR / "ckan.overrides.ini"
WSGI_FILE = SOURCE_DIR / "wsgi.py"
EXTENSION_DIR = SOURCE_DIR / "ckanext-citydata"  # the project's own CKAN plugin `citydata`

# Order matters for templates: earlier plugins win. `scheming_datasets` uses the DCAT-AP schema.
PLUGINS = (
    "citydata activity scheming_datasets dcat structured_data datastore xloader datatables_view image_view"
    " tracking"  # download clicks, for the home page's "most downloaded"
)

MAIN_DB, MAIN_ROLE = "ckan", "ckan"
DATASTORE_DB, DATASTORE_WRITE_ROLE, DATASTORE_READ_ROLE = (
    "ckan_datastore",
    "ckan_datastore",
    "ckan_datastore_ro",
)
XLOADER_DB = "ckan_xloader"
DATASTORE_WRITE_PASSWORD = "CITYDATA_STACK__CKAN_DATASTORE_WRITE_PASSWORD"  # noqa: S105 - env key
DATASTORE_WRITE_URL = "CITYDATA_CKAN__DATASTORE_WRITE_URL"  # for citydata's own COPY loads
SITE_ID = "citydata"  # CKAN's id in the Solr index and in Redis queue names
REDIS_DB = 1  # CKAN's cache and job queue get a Redis database of their own

# (env file key, token label): the clients' token and the one XLoader uses to call the API.
CLIENT_TOKEN = ("CITYDATA_CKAN__API_TOKEN", "citydata")
XLOADER_TOKEN = ("CITYDATA_STACK__CKAN_XLOADER_TOKEN", "xloader")

# Runs the `ckan` command in-process with one extra argument taken from the environment, so
# a password never appears on a command line (ps, install log) and `ckan` never prompts.
_CKAN_WITH_ENV_ARG = (
    "import os, sys; from ckan.cli.cli import ckan; "
    "sys.argv = ['ckan', *sys.argv[1:], os.environ.pop('CITYDATA_SECRET_ARG')]; ckan()"
)


class CkanService(Service):
    name: ClassVar[str] = "ckan"
    description: ClassVar[str] = "CKAN 2.12 catalog (DataStore, DCAT-AP, scheming, XLoader)"
    requires: ClassVar[tuple[str, ...]] = ("postgres", "redis", "solr")
    # A first start compiles web assets and loads every plugin in two workers.
    start_timeout_s: ClassVar[float] = 180.0
    order: ClassVar[int] = 40

    # --- identity -------------------------------------------------------------------
    @property
    def port(self) -> int:
        port = urllib.parse.urlsplit(self.settings.ckan.url).port
        if port is None:
            raise ServiceError(
                self.name, f"CITYDATA_CKAN__URL needs an explicit port: {self.settings.ckan.url}"
            )
        return port

    def ports(self) -> dict[str, int]:
        return {"http": self.port}

    @property
    def url(self) -> str:
        return self.settings.ckan.url.rstrip("/")

    @property
    def venv(self) -> Path:
        return self.ctx.paths.venv("ckan")

    @property
    def ckan_bin(self) -> Path:
        return self.venv / "bin" / "ckan"

    @property
    def ini(self) -> Path:
        return self.data_dir / "ckan.ini"

    @property
    def storage_path(self) -> Path:
        return self.data_dir / "storage"

    # --- install --------------------------------------------------------------------
    def fingerprint(self) -> str:
        extension = sorted(
            p for p in EXTENSION_DIR.rglob("*")
            if p.is_file() and not {"__pycache__", "build"} & set(p.parts) and ".egg-info" not in str(p)
        )  # fmt: skip
        return file_digest(REQUIREMENTS, PLUGINS_REQUIREMENTS, *extension)

    def install(self) -> None:
        # Two calls on purpose: CKAN's pinned set first, then the extensions on top of it
        # (resolving both at once fails; see plugins.txt).
        self.ctx.make_venv("ckan", self.name, "-r", str(REQUIREMENTS))
        self.ctx.make_venv("ckan", self.name, "-r", str(PLUGINS_REQUIREMENTS))
        self.ctx.make_venv("ckan", self.name, "--reinstall-package", "ckanext-citydata", str(EXTENSION_DIR))

    # --- configure ------------------------------------------------------------------
    def configure(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # ckan.ini and uploads: nobody else needs to read them
        self.storage_path.mkdir(exist_ok=True)
        env = self.ctx.env_file
        passwords = {
            MAIN_ROLE: env.ensure_secret("CITYDATA_STACK__CKAN_DB_PASSWORD"),
            DATASTORE_WRITE_ROLE: env.ensure_secret(DATASTORE_WRITE_PASSWORD),
            DATASTORE_READ_ROLE: env.ensure_secret("CITYDATA_STACK__CKAN_DATASTORE_READ_PASSWORD"),
        }
        admin_password = env.ensure_secret("CITYDATA_CKAN__SYSADMIN_PASSWORD")
        env.update({"CITYDATA_CKAN__URL": self.url, "CITYDATA_CKAN__SYSADMIN": self.settings.ckan.sysadmin})

        pg = PostgresService(self.ctx)
        for role, password in passwords.items():
            pg.ensure_role(role, password)
        pg.ensure_database(MAIN_DB, MAIN_ROLE)
        pg.ensure_database(DATASTORE_DB, DATASTORE_WRITE_ROLE)
        pg.ensure_database(XLOADER_DB, MAIN_ROLE)

        if not self.ini.exists():
            # Created private first: `ckan generate config` writes the SECRET_KEY into it.
            tmp = self.ini.with_suffix(".new")
            private_write(tmp, "")
            self.ctx.run([self.ckan_bin, "generate", "config", tmp], service=self.name, cwd=self.data_dir)
            tmp.replace(self.ini)
            (self.data_dir / ".overrides-digest").unlink(missing_ok=True)
        self.ini.chmod(0o600)
        self._merge_overrides(passwords)

        # Each `ckan` command loads the whole application (~5 s): independent ones run side by side.
        if not self._db_ready(pg):
            with ThreadPoolExecutor(max_workers=2) as pool:
                init = pool.submit(self._ckan, "db", "init")
                sql = pool.submit(self._ckan, "datastore", "set-permissions")
                init.result()
                pg.psql(sql.result(), DATASTORE_DB)
            (self.data_dir / ".db-ready").write_text(self.fingerprint())

        pg.psql(DATASTORE_TEXT_SEARCH, DATASTORE_DB)
        self._reindex_if_needed(pg)
        self._ensure_sysadmin(pg, admin_password)
        stale = [
            (key, label) for key, label in (CLIENT_TOKEN, XLOADER_TOKEN) if not self._token_valid(pg, key)
        ]
        with ThreadPoolExecutor(max_workers=2) as pool:
            created = {key: pool.submit(self._create_token, label) for key, label in stale}
            if created:
                env.update({key: future.result() for key, future in created.items()})
        self._merge_overrides(passwords)  # no-op unless the XLoader token was just created

    def _ckan(self, *args: str) -> str:
        return self.ctx.run([self.ckan_bin, "-c", self.ini, *args], service=self.name, cwd=self.data_dir)

    def _db_ready(self, pg: PostgresService) -> bool:
        """Migrations and DataStore permissions are done for this install (and this database)."""
        marker = self.data_dir / ".db-ready"
        if not marker.exists() or marker.read_text().strip() != self.fingerprint():
            return False
        main = pg.psql(
            "SELECT to_regclass('public.package') IS NOT NULL AND "
            "to_regclass('public.activity') IS NOT NULL AND "
            "to_regclass('public.tracking_raw') IS NOT NULL;",
            MAIN_DB,
        ).strip()
        datastore = pg.psql("SELECT to_regclass('public._table_metadata') IS NOT NULL;", DATASTORE_DB).strip()
        return main == "t" and datastore == "t"

    def _reindex_if_needed(self, pg: PostgresService) -> None:
        """Datasets in the database but none in Solr (a new or wiped index): rebuild it."""
        in_db = pg.psql("SELECT count(*) FROM package WHERE state = 'active';", MAIN_DB).strip()
        if in_db in ("", "0"):
            return
        query = urllib.parse.urlencode(
            {"q": "*:*", "fq": f"+site_id:{SITE_ID} +entity_type:package", "rows": "0", "wt": "json"}
        )
        try:
            with urllib.request.urlopen(f"{self.settings.solr.url}/select?{query}", timeout=10) as resp:
                in_solr = json.load(resp)["response"]["numFound"]
        except Exception:  # noqa: BLE001 - Solr down: CKAN's own errors will say so
            return
        if in_solr == 0:
            self._ckan("search-index", "rebuild")

    def _overrides(self, passwords: dict[str, str]) -> str:
        pg, stack_env = self.settings.postgres, self.ctx.env_file.read()

        def dsn(database: str, role: str) -> str:
            return f"postgresql://{role}:{passwords[role]}@{pg.host}:{pg.port}/{database}"

        return string.Template(OVERRIDES_TEMPLATE.read_text(encoding="utf-8")).substitute(
            site_url=self.url,
            site_id=SITE_ID,
            sqlalchemy_url=dsn(MAIN_DB, MAIN_ROLE),
            datastore_write_url=dsn(DATASTORE_DB, DATASTORE_WRITE_ROLE),
            datastore_read_url=dsn(DATASTORE_DB, DATASTORE_READ_ROLE),
            xloader_jobs_db_url=dsn(XLOADER_DB, MAIN_ROLE),
            redis_url=self.settings.redis.url(REDIS_DB),
            solr_url=self.settings.solr.url,
            storage_path=str(self.storage_path),
            plugins=PLUGINS,
            xloader_api_token=stack_env.get(XLOADER_TOKEN[0]) or "NOT_SET",
        )

    def _merge_overrides(self, passwords: dict[str, str]) -> None:
        """`ckan config-tool -f` with a private rendered copy; skipped when nothing changed."""
        body = self._overrides(passwords)
        digest = hashlib.sha256(body.encode()).hexdigest()[:16]
        marker = self.data_dir / ".overrides-digest"
        if marker.exists() and marker.read_text().strip() == digest:
            return
        rendered = self.data_dir / ".overrides.ini"
        private_write(rendered, body)
        try:
            self.ctx.run([self.ckan_bin, "config-tool", self.ini, "-f", rendered], service=self.name)
        finally:
            rendered.unlink(missing_ok=True)
        self.ini.chmod(0o600)
        marker.write_text(digest)

    def _ensure_sysadmin(self, pg: PostgresService, password: str) -> None:
        name = self.settings.ckan.sysadmin
        row = pg.psql(
            f"SELECT sysadmin FROM \"user\" WHERE name = {sql_literal(name)} AND state = 'active';",
            MAIN_DB,
        ).strip()
        if row == "t":
            return
        if row == "f":
            self._ckan("sysadmin", "add", name)
            return
        # `sysadmin add --create` forwards key=value arguments to `user add`; the password goes
        # in through the environment (see _CKAN_WITH_ENV_ARG), never on a command line.
        self.ctx.run(
            [
                self.venv / "bin" / "python",
                "-c",
                _CKAN_WITH_ENV_ARG,
                "-c",
                self.ini,
                "sysadmin",
                "add",
                name,
                "--create",
                f"email={name}@citydata.local",
                "fullname=citydata administrator",
            ],
            service=self.name,
            env={"CITYDATA_SECRET_ARG": f"password={password}"},
            cwd=self.data_dir,
        )

    # --- API tokens -----------------------------------------------------------------
    def _token_valid(self, pg: PostgresService, env_key: str) -> bool:
        """Offline check: signed with this ckan.ini's secret and still listed for the sysadmin.

        Tokens are JWTs (HS256) whose `jti` is the row id in CKAN's api_token table; a new
        SECRET_KEY, a revoked token or a wiped database all make the stored token useless.
        """
        parts = self.ctx.env_file.read().get(env_key, "").split(".")
        if len(parts) != 3:
            return False
        parser = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
        parser.read(self.ini, encoding="utf-8")
        try:
            secret = parser.get("app:main", "api_token.jwt.decode.secret", fallback="")
            if not secret:
                secret = "string:" + parser.get("app:main", "SECRET_KEY")
            kind, _, value = secret.partition(":")
            key = Path(value).read_text() if kind == "file" else value
            header = json.loads(b64url_decode(parts[0]))
            payload = json.loads(b64url_decode(parts[1]))
        except (configparser.Error, OSError, ValueError):
            return False
        if header.get("alg") != "HS256" or not isinstance(payload.get("jti"), str):
            return False
        expected = hmac.new(key.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, b64url_decode(parts[2])):
            return False
        found = pg.psql(
            'SELECT 1 FROM api_token t JOIN "user" u ON u.id = t.user_id '
            f"WHERE t.id = {sql_literal(payload['jti'])} "
            f"AND u.name = {sql_literal(self.settings.ckan.sysadmin)} "
            "AND u.state = 'active' AND u.sysadmin;",
            MAIN_DB,
        ).strip()
        return found == "1"

    def _create_token(self, label: str) -> str:
        """`ckan user token add`; run outside ctx.run so the token never reaches the install log."""
        argv = [str(self.ckan_bin), "-c", str(self.ini), "user", "token", "add", "-q"]
        argv += [self.settings.ckan.sysadmin, label]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=self.data_dir, timeout=300)
        log_path = self.ctx.paths.log_file(f"{self.name}.install")
        with log_path.open("a", encoding="utf-8") as log:
            log.write(
                f"$ {' '.join(argv)}  [exit {proc.returncode}; token not logged]\n{proc.stderr[-20000:]}"
            )
        token = proc.stdout.strip().splitlines()[-1].strip() if proc.stdout.strip() else ""
        if proc.returncode != 0 or token.count(".") != 2:
            raise ServiceError(self.name, f"`ckan user token add` failed (log: {log_path})")
        return token

    # --- run ------------------------------------------------------------------------
    def processes(self) -> list[ProcessSpec]:
        env = {"CKAN_INI": str(self.ini)}
        gunicorn = [
            str(self.venv / "bin" / "gunicorn"),
            "--pythonpath",
            str(WSGI_FILE.parent),
            "--bind",
            f"127.0.0.1:{self.port}",
            # Two sync workers sustain 50 readers with no error (tests/integration/load/
            # test_readers.py); four measured no clear gain on the shared two cores. Not threads:
            # the DataStore's connection is shared between a worker's threads ("cursor already
            # closed", HTTP 500 under load).
            "--workers",
            "2",
            # A request may take this long (large uploads) before it is killed.
            "--timeout",
            "300",
            "--graceful-timeout",
            "15",  # finishes before the stack's stop() escalates to SIGKILL (20 s)
            "--max-requests",
            "2000",
            "--max-requests-jitter",
            "200",
            "--no-control-socket",  # gunicorn 27 default: one shared ~/.gunicorn/gunicorn.ctl
            "--worker-tmp-dir",
            "/dev/shm",  # noqa: S108 - heartbeat files, not data
            f"{WSGI_FILE.stem}:application",
        ]
        worker = [str(self.ckan_bin), "-c", str(self.ini), "jobs", "worker"]
        return [
            ProcessSpec("web", gunicorn, env=env, cwd=self.data_dir),
            ProcessSpec("worker", worker, env=env, cwd=self.data_dir),
        ]

    def healthy(self) -> bool:
        return http_ok(f"{self.url}/api/3/action/status_show")

    def bootstrap(self) -> None:
        """The clients' token works against the running server; replaced if it does not. The
        clients also get the DataStore write URL (citydata loads DataStore rows with COPY)."""
        db, password = self.settings.postgres, self.ctx.env_file.read().get(DATASTORE_WRITE_PASSWORD, "")
        if password:
            quoted = urllib.parse.quote(password, safe="")
            url = f"postgresql://{DATASTORE_WRITE_ROLE}:{quoted}@{db.host}:{db.port}/{DATASTORE_DB}"
            if self.ctx.env_file.read().get(DATASTORE_WRITE_URL) != url:
                self.ctx.env_file.update({DATASTORE_WRITE_URL: url})
        key, label = CLIENT_TOKEN
        token = self.ctx.env_file.read().get(key, "")
        if token and self._api_accepts(token):
            return
        self.ctx.env_file.update({key: self._create_token(label)})

    def _api_accepts(self, token: str) -> bool:
        query = urllib.parse.urlencode({"id": self.settings.ckan.sysadmin})
        url = f"{self.url}/api/3/action/user_show?{query}"
        request = urllib.request.Request(url, headers={"Authorization": token})
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                result = json.load(resp)["result"]
        except Exception:  # noqa: BLE001
            return False
        return bool(result.get("sysadmin"))
