"""Helpers for tests that start Dagster processes (daemon, webserver) in their own group."""

import os
import signal
import subprocess

STOP_TIMEOUT_SECONDS = 30


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it started.

    SIGTERM first, SIGKILL after :data:`STOP_TIMEOUT_SECONDS`; then SIGKILL to the group,
    because children (webserver, daemon, code server) may outlive their parent.
    """
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
