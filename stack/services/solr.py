"""Apache Solr 9: CKAN's search index, one standalone node built from Maven Central.

Solr's binary distribution is not on Maven Central, but `solr-core` and `solr-test-framework`
are. `stack/solr_node` is a small Maven module whose main class serves Solr with Solr's own
embedded Jetty runner on 127.0.0.1 (no admin UI). The Solr home is this service's data
folder: `solr.xml` plus one core (`settings.solr.core`, "ckan") whose `conf/schema.xml` is
CKAN's own schema of the CKAN version pinned in `stack/ckan/requirements.txt`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from stack.paths import STACK_SOURCE_DIR
from stack.process import ProcessSpec, ServiceError
from stack.service import Service, file_digest

NODE_DIR = STACK_SOURCE_DIR / "solr_node"
BUILT_JAR = NODE_DIR / "target" / "solr-node.jar"  # manifest Class-Path: lib/*.jar (target/lib)
TEMPLATES = NODE_DIR / "solr-home"  # solr.xml, conf/solrconfig.xml, synonyms.txt, protwords.txt
CKAN_REQUIREMENTS = STACK_SOURCE_DIR / "ckan" / "requirements.txt"
SCHEMA_IN_CKAN = Path("ckan") / "config" / "solr" / "schema.xml"
HEAP = "512m"  # measured RSS: ~0.2 GB idle, ~0.38 GB after indexing 10,000 datasets

_CKAN_PIN = re.compile(r"ckan(?:\[[^\]]*\])?\s*==\s*([0-9][0-9A-Za-z.+!-]*)", re.IGNORECASE)


def ckan_version(requirements: Path = CKAN_REQUIREMENTS) -> str:
    """The CKAN version pinned for the stack (`ckan[requirements]==X.Y.Z`)."""
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        match = _CKAN_PIN.fullmatch(raw.split("#", 1)[0].strip())
        if match:
            return match.group(1)
    raise ServiceError("solr", f"no `ckan==X.Y.Z` pin in {requirements}")


# CKAN's `text` type folds accents (ASCIIFoldingFilter: "Thủ Đức" and "thu duc" index alike), so
# an unaccented query finds accented datasets. These fields keep the accents, so that the project's
# CKAN plugin can rank exact accented matches first (ckanext/citydata/search_rank.py).
ACCENTED_TYPE = """
    <fieldType name="text_accented" class="solr.TextField" positionIncrementGap="100">
        <analyzer type="index">
            <tokenizer class="solr.WhitespaceTokenizerFactory"/>
            <filter class="solr.WordDelimiterGraphFilterFactory"
                    generateWordParts="1" generateNumberParts="1"/>
            <filter class="solr.FlattenGraphFilterFactory"/>
            <filter class="solr.LowerCaseFilterFactory"/>
        </analyzer>
        <analyzer type="query">
            <tokenizer class="solr.WhitespaceTokenizerFactory"/>
            <filter class="solr.WordDelimiterGraphFilterFactory"
                    generateWordParts="1" generateNumberParts="1"/>
            <filter class="solr.LowerCaseFilterFactory"/>
        </analyzer>
    </fieldType>
"""
ACCENTED_FIELDS = """
    <field name="title_accented" type="text_accented" indexed="true" stored="false"/>
    <field name="text_accented" type="text_accented" indexed="true" stored="false" multiValued="true"/>
"""
ACCENTED_SOURCES = ("title", "notes", "text", "tags", "groups", "res_name", "res_description")


def with_accented_fields(schema: str) -> str:
    """CKAN's schema plus the accent-keeping fields (`title_accented`, `text_accented`)."""
    if 'name="text_accented"' in schema:
        return schema
    copies = '<copyField source="title" dest="title_accented"/>\n' + "".join(
        f'<copyField source="{field}" dest="text_accented"/>\n' for field in ACCENTED_SOURCES
    )
    schema = schema.replace("</types>", ACCENTED_TYPE + "</types>", 1)
    schema = schema.replace("</fields>", ACCENTED_FIELDS + "</fields>", 1)
    return schema.replace("</schema>", copies + "</schema>", 1)


def schema_cache(version: str) -> Path:
    """Where CKAN's schema.xml of `version` is kept, shared by every stack folder."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "citydata" / "ckan-solr-schema" / version / "schema.xml"


def manifest_class_path(jar: Path) -> list[str]:
    """The Class-Path entries of a jar's manifest (relative paths, in order)."""
    with zipfile.ZipFile(jar) as archive:
        manifest = archive.read("META-INF/MANIFEST.MF").decode("utf-8")
    manifest = manifest.replace("\r\n", "\n").replace("\n ", "")  # undo the 72-column wrapping
    for line in manifest.splitlines():
        if line.startswith("Class-Path:"):
            return line.split(":", 1)[1].split()
    return []


class SolrService(Service):
    name = "solr"
    description = "Apache Solr 9.10 search index for CKAN (standalone node, Maven Central build)"

    def ports(self) -> dict[str, int]:
        return {"http": self.settings.solr.port}

    @property
    def url(self) -> str:
        return self.settings.solr.url

    # --- install --------------------------------------------------------------------
    def _build_inputs(self) -> list[Path]:
        sources = sorted(p for p in (NODE_DIR / "src").rglob("*") if p.is_file())
        templates = sorted(p for p in TEMPLATES.rglob("*") if p.is_file())
        return [NODE_DIR / "pom.xml", *sources, *templates]

    def fingerprint(self) -> str:
        return f"{file_digest(*self._build_inputs())}-ckan{ckan_version()}"

    @property
    def node_dir(self) -> Path:
        """The installed node: solr-node.jar and lib/, copied out of the build folder.

        target/ is shared by every stack folder; a rebuild or `mvn clean` there must not pull
        jars from under a running node.
        """
        return self.ctx.paths.root / "solr-node"

    @property
    def node_jar(self) -> Path:
        return self.node_dir / BUILT_JAR.name

    def is_installed(self) -> bool:
        return super().is_installed() and self.node_jar.is_file()

    def install(self) -> None:
        mvn = shutil.which("mvn")
        if not mvn:
            raise ServiceError(self.name, "Maven is missing: apt-get install -y maven")
        # Dependencies come from ~/.m2 after the first build: a rerun takes seconds, offline.
        self.ctx.run([mvn, "-B", "-q", "package", "-DskipTests"], service=self.name, cwd=NODE_DIR)
        self._copy_build()
        self.ckan_schema()

    def _copy_build(self) -> None:
        """Copy the jar and exactly the jars its manifest Class-Path names (stale ones stay behind)."""
        if not BUILT_JAR.is_file():
            raise ServiceError(self.name, f"the Maven build did not produce {BUILT_JAR}")
        class_path = manifest_class_path(BUILT_JAR)
        if not class_path:
            raise ServiceError(self.name, f"{BUILT_JAR} has no Class-Path in its manifest")
        staging = self.node_dir.with_name("solr-node.new")
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "lib").mkdir(parents=True)
        for entry in class_path:
            source = BUILT_JAR.parent / entry
            if not source.is_file():
                raise ServiceError(self.name, f"{source} (in the Class-Path of {BUILT_JAR.name}) is missing")
            shutil.copy2(source, staging / entry)
        shutil.copy2(BUILT_JAR, staging / BUILT_JAR.name)
        previous = self.node_dir.with_name("solr-node.old")
        shutil.rmtree(previous, ignore_errors=True)
        if self.node_dir.exists():
            self.node_dir.rename(previous)
        staging.rename(self.node_dir)
        shutil.rmtree(previous, ignore_errors=True)

    def ckan_schema(self) -> Path:
        """CKAN's schema.xml of the pinned version, fetched once from PyPI, then cached.

        The wheel is unpacked with uv into a temporary folder (no dependencies, nothing
        built or run); only `ckan/config/solr/schema.xml` is kept.
        """
        version = ckan_version()
        cached = schema_cache(version)
        if cached.is_file():
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="ckan-wheel-") as tmp:
            self.ctx.run(
                [
                    self.ctx.uv(),
                    "pip",
                    "install",
                    "--python",
                    sys.executable,
                    "--no-deps",
                    "--no-build",
                    "--target",
                    tmp,
                    f"ckan=={version}",
                ],
                service=self.name,
            )
            schema = Path(tmp) / SCHEMA_IN_CKAN
            if not schema.is_file():
                raise ServiceError(self.name, f"ckan {version} has no {SCHEMA_IN_CKAN}")
            text = schema.read_text(encoding="utf-8")
            if '<schema name="ckan-' not in text:
                raise ServiceError(self.name, f"{SCHEMA_IN_CKAN} of ckan {version} is not a CKAN schema")
            partial = cached.with_suffix(".tmp")
            partial.write_text(text, encoding="utf-8")
            partial.replace(cached)
        return cached

    # --- run ------------------------------------------------------------------------
    @property
    def core_dir(self) -> Path:
        return self.data_dir / self.settings.solr.core

    def configure(self) -> None:
        """Lay out the Solr home; config files are rewritten each start, the index is kept."""
        home = self.data_dir
        conf = self.core_dir / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TEMPLATES / "solr.xml", home / "solr.xml")
        for name in ("solrconfig.xml", "synonyms.txt", "protwords.txt"):
            shutil.copyfile(TEMPLATES / "conf" / name, conf / name)
        schema = with_accented_fields(self.ckan_schema().read_text(encoding="utf-8"))
        (conf / "schema.xml").write_text(schema, encoding="utf-8")
        (self.core_dir / "core.properties").write_text(f"name={self.settings.solr.core}\n", encoding="utf-8")

    def _java(self) -> str:
        java_home = os.environ.get("JAVA_HOME")
        if java_home and (Path(java_home) / "bin" / "java").exists():
            return str(Path(java_home) / "bin" / "java")
        return shutil.which("java") or "java"  # `stack up` checks for Java 17+ first

    def processes(self) -> list[ProcessSpec]:
        solr = self.settings.solr
        argv = [
            self._java(),
            f"-Xmx{HEAP}",
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.net.preferIPv4Stack=true",
            "-Duser.timezone=UTC",
            "-Dfile.encoding=UTF-8",
            f"-Dsolr.log.dir={self.ctx.paths.logs}",
            "-jar",
            str(self.node_jar),
            "--home",
            str(self.data_dir),
            "--port",
            str(solr.port),
            "--host",
            solr.host,
        ]
        # Solr 9 maps SOLR_* / ZK_* variables to system properties (ZK_HOST would mean SolrCloud).
        inherited = tuple(k for k in os.environ if k.startswith(("SOLR_", "ZK_")))
        return [ProcessSpec(name="node", argv=argv, cwd=self.data_dir, unset_env=inherited)]

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/admin/ping?wt=json", timeout=3) as resp:
                return json.load(resp).get("status") == "OK"
        except Exception:  # noqa: BLE001 - not up yet, or the core is missing
            return False
