"""A real S3-compatible server for tests: moto's server mode on a free loopback port."""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import boto3

from tests.processes import stop_process_group

START_TIMEOUT_SECONDS = 30
REGION = "us-east-1"


@dataclass(frozen=True)
class LoopbackS3:
    """A running server: its URL and the standard variables that point the AWS SDKs at it."""

    endpoint: str
    process: subprocess.Popen[bytes]

    @property
    def environment(self) -> dict[str, str]:
        """``AWS_*`` variables for the server (any key is accepted by moto)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "quant-test",
            "AWS_SECRET_ACCESS_KEY": "quant-test-secret",
            "AWS_DEFAULT_REGION": REGION,
        }

    def new_bucket(self) -> str:
        """Create a bucket with a fresh name; return the name."""
        name = f"lake-{secrets.token_hex(4)}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="quant-test",
            aws_secret_access_key="quant-test-secret",
            region_name=REGION,
        )
        client.create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        """Stop the server and whatever it started."""
        stop_process_group(self.process)


def start_loopback_s3() -> LoopbackS3:
    """Start ``moto_server`` on 127.0.0.1 and wait until it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = os.path.join(os.path.dirname(sys.executable), "moto_server")
    process = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return LoopbackS3(endpoint, process)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_process_group(process)
                raise RuntimeError(f"moto_server did not start on {endpoint}") from None
            time.sleep(0.1)
