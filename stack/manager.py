"""Bring the stack up and down in dependency order; report status."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import stack.services
from citydata.plugins import discover
from stack.prereqs import install_missing, missing_prerequisites
from stack.process import ServiceError, group_rss_bytes, port_holder, port_in_use, wait_until
from stack.service import Service, StackContext

Reporter = Callable[[str, str], None]  # (service, message)


def _quiet(_service: str, _message: str) -> None:
    return None


def service_classes() -> list[type[Service]]:
    """Every Service in `stack/services/`, ordered so requirements come first."""
    found = {cls.name: cls for cls in discover(stack.services, Service)}
    ordered: list[type[Service]] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if any(c.name == name for c in ordered):
            return
        if name in visiting:
            raise ServiceError(name, "circular service requirements")
        visiting.add(name)
        for dep in found[name].requires:
            visit(dep)
        ordered.append(found[name])

    for name in sorted(found, key=lambda n: getattr(found[n], "order", 50)):
        visit(name)
    return ordered


@dataclass
class ServiceStatus:
    name: str
    url: str
    healthy: bool
    pid: int | None
    pids: dict[str, int | None]
    ports: dict[str, int]
    installed: bool
    rss_mb: float

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "url": self.url,
            "healthy": self.healthy,
            "pid": self.pid,
            "pids": self.pids,
            "ports": self.ports,
            "installed": self.installed,
            "rss_mb": self.rss_mb,
        }


class Stack:
    def __init__(
        self,
        ctx: StackContext | None = None,
        only: Iterable[str] | None = None,
        classes: list[type[Service]] | None = None,
    ) -> None:
        self.ctx = ctx or StackContext.create()
        classes = classes if classes is not None else service_classes()
        wanted = set(only) if only else None
        if wanted:
            unknown = wanted - {c.name for c in classes}
            if unknown:
                raise ServiceError(", ".join(sorted(unknown)), "no such service")
            wanted |= self._requirements(classes, wanted)
        self.services: list[Service] = [c(self.ctx) for c in classes if wanted is None or c.name in wanted]

    @staticmethod
    def _requirements(classes: list[type[Service]], names: set[str]) -> set[str]:
        by_name = {c.name: c for c in classes}
        out: set[str] = set()
        todo = list(names)
        while todo:
            for dep in by_name[todo.pop()].requires:
                if dep not in out:
                    out.add(dep)
                    todo.append(dep)
        return out

    def get(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise ServiceError(name, "no such service")

    # --- up -------------------------------------------------------------------------
    def install(self, report: Reporter = _quiet) -> None:
        """Install what is missing; independent installs run side by side."""
        todo = [s for s in self.services if not s.is_installed()]
        if not todo:
            return

        def one(service: Service) -> float:
            started = time.monotonic()
            report(service.name, "installing")
            service.install()
            service.mark_installed()
            elapsed = time.monotonic() - started
            report(service.name, f"installed in {elapsed:.0f}s")
            return elapsed

        # Two workers: installs are mostly downloads and wheel builds on a 2-core machine.
        with ThreadPoolExecutor(max_workers=int(os.environ.get("CITYDATA_INSTALL_JOBS", "2"))) as pool:
            futures = [pool.submit(one, s) for s in todo]
            errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]  # type: ignore[misc]

    def up(self, report: Reporter = _quiet) -> None:
        missing = missing_prerequisites()
        if missing and os.geteuid() == 0:
            report("prerequisites", "installing " + ", ".join(p.name for p in missing))
            install_missing(missing)
            missing = missing_prerequisites()
        if missing:
            lines = "; ".join(f"{p.name} (install: {p.fix})" for p in missing)
            raise ServiceError("prerequisites", f"missing: {lines}")
        self.install(report)
        for service in self.services:
            self._start(service, report)

    def _start(self, service: Service, report: Reporter) -> None:
        managed = service.managed()
        running = [m for m in managed if m.pid() is not None]
        if running and len(running) == len(managed) and service.healthy():
            service.bootstrap()
            self.ctx.reload()
            report(service.name, "already running")
            return
        for m in running:  # half-alive: restart cleanly
            m.stop()
        for role, port in service.ports().items():
            if port_in_use(port):
                holder = port_holder(port) or "another program"
                raise ServiceError(
                    service.name,
                    f"port {port} ({role}) on 127.0.0.1 is already in use by {holder}; "
                    f"stop it or set a different port for {service.name}",
                )
        report(service.name, "starting")
        started = time.monotonic()
        service.configure()
        self.ctx.reload()
        base_env = dict(os.environ)
        for m in service.managed():
            m.start(base_env)

        def died() -> str | None:
            dead = [m.spec.name for m in service.managed() if m.pid() is None]
            return f"process {', '.join(dead)} exited during start" if dead else None

        try:
            # Health alone is not enough: another program could answer on the port.
            ok = wait_until(
                lambda: died() is None and service.healthy(), timeout_s=service.start_timeout_s, abort=died
            )
        except RuntimeError as exc:
            raise service.error(str(exc)) from exc
        if not ok:
            raise service.error(f"not healthy after {service.start_timeout_s:.0f}s")
        service.bootstrap()
        self.ctx.reload()
        report(service.name, f"up in {time.monotonic() - started:.1f}s at {service.url}")

    # --- down / status --------------------------------------------------------------
    def down(self, report: Reporter = _quiet) -> list[str]:
        stopped: list[str] = []
        for service in reversed(self.services):
            for m in reversed(service.managed()):
                if m.stop():
                    stopped.append(f"{service.name}.{m.spec.name}")
                    report(service.name, f"stopped {m.spec.name}")
        return stopped

    def stop(self, names: Iterable[str], report: Reporter = _quiet) -> list[str]:
        """Stop only the named services (not what they require), dependents first.

        Services that need a stopped one keep running and fail their requests until it is back
        (the fault-injection tests rely on exactly that); `up` starts it again.
        """
        wanted = set(names)
        unknown = wanted - {s.name for s in self.services}
        if unknown:
            raise ServiceError(", ".join(sorted(unknown)), "no such service")
        stopped: list[str] = []
        for service in reversed(self.services):
            if service.name not in wanted:
                continue
            for m in reversed(service.managed()):
                if m.stop():
                    stopped.append(f"{service.name}.{m.spec.name}")
                    report(service.name, f"stopped {m.spec.name}")
        return stopped

    def start(self, name: str, report: Reporter = _quiet, ports_free_within_s: float = 30.0) -> None:
        """Start one service whose requirements run already; returns once it is healthy.

        Right after a stop, a port may stay taken for a moment (a socket being closed, or an
        outgoing connection that got it as its ephemeral port): wait for the ports first.
        """
        service = self.get(name)
        if not any(m.pid() for m in service.managed()):
            wait_until(lambda: not any(port_in_use(p) for p in service.ports().values()),
                       timeout_s=ports_free_within_s)  # fmt: skip
        self._start(service, report)

    def restart(self, name: str, report: Reporter = _quiet) -> None:
        """Stop one service (only it) and start it again; returns once it is healthy."""
        self.stop([name], report)
        self.start(name, report)

    def status(self) -> list[ServiceStatus]:
        out = []
        for service in self.services:
            pids = {m.spec.name: m.pid() for m in service.managed()}
            alive = [p for p in pids.values() if p is not None]
            out.append(
                ServiceStatus(
                    name=service.name,
                    url=service.url,
                    healthy=bool(alive) and len(alive) == len(pids) and service.healthy(),
                    pid=alive[0] if alive else None,
                    pids=pids,
                    ports=service.ports(),
                    installed=service.is_installed(),
                    rss_mb=round(sum(group_rss_bytes(p) for p in alive) / 2**20, 1),
                )
            )
        return out
