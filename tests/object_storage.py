"""A real S3-compatible server for tests: :mod:`quant_sdk.local_s3` on a free loopback port."""

import secrets
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from quant_sdk import local_s3


@dataclass(frozen=True)
class LoopbackS3:
    """A running server: its URL, and the standard variables that point the AWS SDKs at it."""

    port: int
    folder: Path

    @property
    def endpoint(self) -> str:
        return local_s3.endpoint(self.port)

    @property
    def environment(self) -> dict[str, str]:
        """``AWS_*`` variables for the server."""
        return local_s3.environment(self.port)

    def new_bucket(self) -> str:
        """Create a bucket with a fresh name; return the name."""
        name = f"lake-{secrets.token_hex(4)}"
        local_s3.create_bucket(name, self.port)
        return name

    def stop(self) -> None:
        """Stop the server; remove its folder."""
        local_s3.stop(self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_loopback_s3() -> LoopbackS3:
    """Start the server on a free port of 127.0.0.1 and wait until it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="quant-s3-"))
    local_s3.start(folder, port)
    return LoopbackS3(port, folder)
