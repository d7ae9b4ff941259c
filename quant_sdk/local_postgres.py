"""A local PostgreSQL server for trying a team's instance (``make team-up``) and for tests.

Debian's ``postgresql`` package (``apt-get install -y postgresql``) provides ``initdb`` and
``pg_ctl``; the server keeps its files in one folder (the database cluster in ``pgdata``, its
socket and log beside it) and listens on 127.0.0.1 only, with ``trust`` authentication: a
server for one machine, not a deployment (a team gives its instance any ``postgresql://`` URL).
PostgreSQL refuses to run as root, so as root its commands run as the ``postgres`` user.

Run as a script: ``python -m quant_sdk.local_postgres start|stop FOLDER [--port PORT]``;
``start`` prints the URL of the ``dagster`` database.
"""

import argparse
import glob
import os
import shlex
import shutil
import subprocess
from pathlib import Path

DEFAULT_PORT = 5433
"""Not 5432, so as not to meet a PostgreSQL the machine already runs."""
DATABASE = "dagster"
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"
"""The system user Debian's package creates; the server runs as it when we are root."""
CLUSTER_FOLDER = "pgdata"
LOG_FILE = "postgres.log"
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_SECONDS = 60
SERVER_SETTINGS = "-c synchronous_commit=off"
"""Dagster writes each event in its own transaction: without waiting for each commit's WAL flush
a run's events cost a round trip, not a disk sync. A crash of the server may lose the last
fraction of a second of commits (never corrupt the database); a team's own server decides this
for itself."""
INSTALL_HINT = "install PostgreSQL first: `apt-get install -y postgresql` (Debian, Ubuntu)"


def postgres_bin() -> Path:
    """The folder of ``pg_ctl`` and ``initdb``: on ``PATH``, else Debian's newest version."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob(DEBIAN_BIN_GLOB), key=lambda p: int(Path(p).parent.name))
    if not found:
        raise FileNotFoundError(f"no pg_ctl on PATH or in {DEBIAN_BIN_GLOB}; {INSTALL_HINT}")
    return Path(found[-1])


def postgres_url(port: int = DEFAULT_PORT) -> str:
    """The URL of the ``dagster`` database of the local server on ``port``."""
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"


def start(folder: Path, port: int = DEFAULT_PORT) -> str:
    """Start (creating on first use) the server kept in ``folder``; the ``dagster`` DB's URL.

    Starting a server that already runs does nothing.
    """
    folder = folder.resolve()
    cluster = folder / CLUSTER_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    if _as_root():
        shutil.chown(folder, SYSTEM_USER, SYSTEM_USER)
    binaries = postgres_bin()
    if not (cluster / "PG_VERSION").exists():
        _run([str(binaries / "initdb"), "-D", str(cluster), "-A", "trust", "-U", SUPERUSER])
    if not _running(binaries, cluster):
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 {SERVER_SETTINGS}"
        _run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(cluster),
                "-l",
                str(folder / LOG_FILE),
                "-o",
                options,
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "start",
            ]
        )
    create = [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER]
    created = _run([*create, DATABASE], check=False)
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise RuntimeError(f"createdb {DATABASE} failed: {created.stderr.strip()}")
    return postgres_url(port)


def stop(folder: Path) -> None:
    """Stop the server kept in ``folder`` (fast shutdown); nothing if it does not run."""
    cluster = folder.resolve() / CLUSTER_FOLDER
    binaries = postgres_bin()
    if cluster.exists() and _running(binaries, cluster):
        _run([str(binaries / "pg_ctl"), "-D", str(cluster), "-m", "fast", "-w", "stop"])


def _running(binaries: Path, cluster: Path) -> bool:
    status = _run([str(binaries / "pg_ctl"), "-D", str(cluster), "status"], check=False)
    return status.returncode == 0


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(command: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL command, as the ``postgres`` user when we are root."""
    if _as_root():
        command = ["su", SYSTEM_USER, "-c", shlex.join(command)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed: {(done.stderr or done.stdout).strip()}")
    return done


def main(argv: list[str] | None = None) -> None:
    """``start FOLDER [--port N]`` (prints the URL) or ``stop FOLDER``."""
    parser = argparse.ArgumentParser(prog="python -m quant_sdk.local_postgres")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    arguments = parser.parse_args(argv)
    if arguments.action == "start":
        print(start(arguments.folder, arguments.port))
    else:
        stop(arguments.folder)


if __name__ == "__main__":
    main()
