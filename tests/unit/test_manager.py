"""The stack manager against tiny real services (Python's http.server), not the full stack."""

import os
import socket
import sys
from typing import ClassVar

import pytest

from citydata.envfile import EnvFile
from citydata.settings import Settings
from stack.manager import Stack, service_classes
from stack.paths import StackPaths
from stack.process import ProcessSpec, ServiceError
from stack.service import Service, StackContext, http_ok


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_ctx(tmp_path) -> StackContext:
    paths = StackPaths(tmp_path / "stack")
    paths.ensure()
    settings = Settings(_env_file=tmp_path / "none.env", stack_dir=paths.root)  # type: ignore[call-arg]
    return StackContext(paths=paths, env_file=EnvFile(paths.env_file), settings=settings)


class WebService(Service):
    name: ClassVar[str] = "web"
    description: ClassVar[str] = "a static web server"
    start_timeout_s: ClassVar[float] = 15
    port: ClassVar[int] = 0

    def ports(self):
        return {"http": self.port}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def processes(self):
        argv = [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1"]
        return [ProcessSpec("server", argv, cwd=self.data_dir.parent)]

    def healthy(self):
        return http_ok(self.url + "/")


class BrokenService(WebService):
    name: ClassVar[str] = "broken"
    requires: ClassVar[tuple[str, ...]] = ("web",)

    def ports(self):
        return {}

    def healthy(self):
        return False

    def processes(self):
        code = "import sys; print('config file /etc/broken.conf: bad value on line 3'); sys.exit(1)"
        return [ProcessSpec("server", [sys.executable, "-c", code])]


@pytest.fixture
def web_port():
    WebService.port = _free_port()
    return WebService.port


def test_up_is_idempotent_and_down_frees_the_port(tmp_path, web_port):
    stack = Stack(make_ctx(tmp_path), classes=[WebService])
    events: list[str] = []
    stack.up(lambda s, m: events.append(f"{s}: {m}"))
    [status] = stack.status()
    assert status.healthy and status.pid
    stack.up(lambda s, m: events.append(f"{s}: {m}"))
    assert events[-1] == "web: already running"
    assert stack.down() == ["web.server"]
    assert not http_ok(f"http://127.0.0.1:{web_port}/", timeout_s=1)
    assert stack.status()[0].healthy is False


def test_port_taken_by_another_program_names_service_port_and_process(tmp_path, web_port):
    with socket.socket() as other:
        other.bind(("127.0.0.1", web_port))
        other.listen()
        with pytest.raises(ServiceError) as err:
            Stack(make_ctx(tmp_path), classes=[WebService]).up()
    assert err.value.service == "web"
    holder = f"already in use by pid {os.getpid()} ("  # this test's own process holds it
    assert f"port {web_port} (http) on 127.0.0.1 is {holder}" in err.value.message


def test_failed_start_shows_log_and_leaves_others_running(tmp_path, web_port):
    stack = Stack(make_ctx(tmp_path), classes=[WebService, BrokenService])
    try:
        with pytest.raises(ServiceError) as err:
            stack.up()
        assert err.value.service == "broken"
        assert "bad value on line 3" in err.value.log_tail
        assert stack.get("web").healthy()  # the service started before is left as it was
    finally:
        stack.down()


class OtherWebService(WebService):
    name: ClassVar[str] = "other"
    requires: ClassVar[tuple[str, ...]] = ("web",)
    port: ClassVar[int] = 0


def test_stop_one_service_leaves_its_requirements_and_start_brings_it_back(tmp_path, web_port):
    OtherWebService.port = _free_port()
    stack = Stack(make_ctx(tmp_path), classes=[WebService, OtherWebService])
    try:
        stack.up()
        assert stack.stop(["other"]) == ["other.server"]
        healthy = {s.name: s.healthy for s in stack.status()}
        assert healthy == {"web": True, "other": False}
        stack.start("other")
        assert all(s.healthy for s in stack.status())
        with pytest.raises(ServiceError, match="no such service"):
            stack.stop(["nope"])
    finally:
        stack.down()


def test_real_services_are_discovered_in_dependency_order():
    names = [c.name for c in service_classes()]
    for cls in service_classes():
        for dep in cls.requires:
            assert names.index(dep) < names.index(cls.name), f"{dep} must start before {cls.name}"
    assert {"s3", "postgres", "redis", "dagster"} <= set(names)


def test_the_solr_schema_is_ckans_plus_the_accent_keeping_fields():
    from defusedxml import ElementTree as ET

    from stack.services.solr import ACCENTED_SOURCES, with_accented_fields

    ckan = (
        '<schema name="ckan-2.12" version="1.6"><types><fieldType name="text" class="solr.TextField"/>'
        '</types><fields><field name="title" type="text"/></fields><uniqueKey>id</uniqueKey></schema>'
    )
    patched = ET.fromstring(with_accented_fields(ckan))
    fields = {f.get("name"): f.get("type") for f in patched.iter("field")}
    assert fields == {"title": "text", "title_accented": "text_accented", "text_accented": "text_accented"}
    copies = {(c.get("source"), c.get("dest")) for c in patched.iter("copyField")}
    assert copies == {("title", "title_accented")} | {(s, "text_accented") for s in ACCENTED_SOURCES}
    assert with_accented_fields(with_accented_fields(ckan)) == with_accented_fields(ckan)  # once
