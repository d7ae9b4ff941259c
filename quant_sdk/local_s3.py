"""A local S3-compatible server for trying the lakehouse on object storage, and for tests.

It is `moto <https://docs.getmoto.org>`_'s server mode (``moto[server]``, installed with the
project's ``dev`` extra), on 127.0.0.1 only, holding its objects in memory: a server for one
machine, not a deployment (a team points ``AWS_ENDPOINT_URL`` and credentials at real S3, MinIO,
Ceph or R2 and sets ``QUANT_DATA_ROOT=s3://<bucket>/<prefix>``). Its process id and log are kept
in one folder.

Run as a script: ``python -m quant_sdk.local_s3 start|stop FOLDER [--port PORT] [--bucket NAME]``;
``start`` prints the ``export`` lines that point the lakehouse at it.
"""

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import s3fs

DEFAULT_PORT = 5055
DEFAULT_BUCKET = "lake"
PID_FILE = "moto.pid"
LOG_FILE = "moto.log"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10
ACCESS_KEY_ID = "quant-local"
SECRET_ACCESS_KEY = "quant-local-secret"
"""The local server accepts any credentials; the AWS SDKs still want some."""
REGION = "us-east-1"
INSTALL_HINT = "moto_server not found: `pip install 'moto[server]'` (in the project's dev extra)"


def endpoint(port: int = DEFAULT_PORT) -> str:
    """The URL of the local server on ``port``."""
    return f"http://127.0.0.1:{port}"


def environment(port: int = DEFAULT_PORT) -> dict[str, str]:
    """The standard ``AWS_*`` variables that point the AWS SDKs (and the lakehouse) at it."""
    return {
        "AWS_ENDPOINT_URL": endpoint(port),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
    }


def start(folder: Path, port: int = DEFAULT_PORT) -> subprocess.Popen[bytes]:
    """Start the server (its pid and log in ``folder``) and wait until it answers.

    Raises
    ------
    FileNotFoundError
        ``moto_server`` is not installed.
    RuntimeError
        It did not answer within :data:`START_TIMEOUT_SECONDS` (the log says why).
    """
    server = Path(sys.executable).parent / "moto_server"
    if not server.exists():
        raise FileNotFoundError(INSTALL_HINT)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (folder / PID_FILE).write_text(f"{process.pid}\n", encoding="utf-8")
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"{endpoint(port)}/moto-api/", timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(folder)
                raise RuntimeError(
                    f"the local S3 server did not start on {endpoint(port)}; see "
                    f"{folder / LOG_FILE}"
                ) from None
            time.sleep(0.1)


def create_bucket(name: str, port: int = DEFAULT_PORT) -> None:
    """Create the bucket ``name`` on the local server (nothing if it exists)."""
    filesystem = s3fs.S3FileSystem(
        key=ACCESS_KEY_ID,
        secret=SECRET_ACCESS_KEY,
        endpoint_url=endpoint(port),
        skip_instance_cache=True,
    )
    if not filesystem.exists(name):
        filesystem.mkdir(name)


def stop(folder: Path) -> None:
    """Stop the server started in ``folder`` (SIGTERM, then SIGKILL), if it runs."""
    pid_file = folder / PID_FILE
    try:
        pid = int(pid_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            os.killpg(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    """``start FOLDER`` (prints the ``export`` lines) or ``stop FOLDER``."""
    parser = argparse.ArgumentParser(prog="python -m quant_sdk.local_s3")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("folder", type=Path, help="where the pid and log files are kept")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="loopback port")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help="bucket to create")
    args = parser.parse_args(argv)
    if args.action == "stop":
        stop(args.folder)
        return
    start(args.folder, args.port)
    create_bucket(args.bucket, args.port)
    variables = {**environment(args.port), "QUANT_DATA_ROOT": f"s3://{args.bucket}/lakehouse"}
    for name, value in variables.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
