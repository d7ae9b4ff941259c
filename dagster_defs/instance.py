"""The persistent Dagster instance the SDK, the command line and ``dagster dev`` share.

Runs the SDK executes in its own process carry the process's host and pid as tags; a run whose
process is gone while Dagster still says it is in progress (the process was killed) is marked
failed the next time the SDK opens the instance (:func:`fail_abandoned_runs`). Runs launched by
the daemon are watched by Dagster's own run monitoring, turned on in the ``dagster.yaml`` written
here.
"""

import os
import socket
from pathlib import Path

import dagster as dg
import psutil

DAGSTER_HOME_ENV = "DAGSTER_HOME"
DEFAULT_DAGSTER_HOME = Path("data/dagster_home")
DAGSTER_YAML = """telemetry:
  enabled: false
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
"""
HOST_TAG = "quant/host"
PID_TAG = "quant/pid"
"""Tags of a run executed in an SDK process: where it runs, to tell when it died."""
IN_PROGRESS = (
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
"""Tags of a run over a range of partitions (see :func:`contiguous_ranges`)."""


def dagster_home() -> Path:
    """``$DAGSTER_HOME`` or ``data/dagster_home``, made absolute, created with a dagster.yaml."""
    home = Path(os.environ.get(DAGSTER_HOME_ENV) or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
        # Create the SQLite storages now, from one process: a daemon and its code server
        # creating them at the same moment can leave the schedule storage with two heads.
        with dg.DagsterInstance.from_config(str(home)):
            pass
    return home


def dagster_instance() -> dg.DagsterInstance:
    """Open the persistent instance at :func:`dagster_home` (the one the UI shows)."""
    return dg.DagsterInstance.from_config(str(dagster_home()))


def contiguous_ranges(keys: list[str], order: list[str]) -> list[tuple[str, str]]:
    """Split ``keys`` into (first, last) runs that are contiguous in partition ``order``."""
    wanted = set(keys)
    ranges: list[tuple[str, str]] = []
    start: str | None = None
    previous: str | None = None
    for key in order:
        if key in wanted:
            start = start or key
            previous = key
        elif start is not None and previous is not None:
            ranges.append((start, previous))
            start = None
    if start is not None and previous is not None:
        ranges.append((start, previous))
    return ranges


def process_tags() -> dict[str, str]:
    """The tags that tie a run to this process (see :func:`fail_abandoned_runs`)."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the in-progress runs of this host whose process no longer exists.

    Returns their Dagster run ids. Runs of other hosts, and runs without our tags (the
    daemon's), are left to their own monitoring.
    """
    host = socket.gethostname()
    runs = instance.get_runs(dg.RunsFilter(statuses=list(IN_PROGRESS), tags={HOST_TAG: host}))
    failed = []
    for run in runs:
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid and not psutil.pid_exists(pid):
            instance.report_run_failed(
                run, message=f"the process that ran it (pid {pid} on {host}) is gone: killed"
            )
            failed.append(run.run_id)
    return failed
