"""The persistent Dagster instance the SDK, the command line and ``dagster dev`` share.

Runs the SDK executes in its own process carry the process's host and pid as tags; a run whose
process is gone while Dagster still says it is in progress (the process was killed) is marked
failed the next time the SDK opens the instance (:func:`fail_abandoned_runs`). Runs launched by
the daemon are watched by Dagster's own run monitoring, turned on in the ``dagster.yaml`` written
here.
"""

import json
import os
import socket
from pathlib import Path

import dagster as dg
import psutil

from dagster_defs.tags import HOST_TAG, PID_TAG
from lakehouse.commits import write_text_atomically

DAGSTER_HOME_ENV = "DAGSTER_HOME"
DEFAULT_DAGSTER_HOME = Path("data/dagster_home")
DAGSTER_YAML = """telemetry:
  enabled: false
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
event_log_storage:
  module: quant_event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
"""
"""The ``dagster.yaml`` written into a new home: no telemetry, run monitoring for daemon runs,
the event log that opens each SQLite database once (:mod:`quant_event_log`, a package that
imports nothing of the code location, so a broken asset module cannot stop the instance)."""
EARLIER_DAGSTER_YAMLS = (
    """telemetry:
  enabled: false
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
""",
    """telemetry:
  enabled: false
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
event_log_storage:
  module: dagster_defs.event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
""",
)
"""``dagster.yaml`` files we wrote before, as written (``{event_log_dir}`` is the home's event
log folder): replaced by :data:`DAGSTER_YAML` (same storage files). The second named the event
log inside the code location, so a broken asset module stopped the whole instance."""
EVENT_LOG_DIR = Path("history") / "runs"
"""Where Dagster's default SQLite storage keeps the event log inside a home."""
"""Tags of a run executed in an SDK process: where it runs, to tell when it died."""
IN_PROGRESS = (
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)
"""Tags of a run over a range of partitions (see :func:`contiguous_ranges`)."""


def dagster_home() -> Path:
    """``$DAGSTER_HOME`` or ``data/dagster_home``, made absolute, created with a dagster.yaml.

    A ``dagster.yaml`` someone wrote is left alone; one we wrote earlier is brought up to date.
    """
    home = Path(os.environ.get(DAGSTER_HOME_ENV) or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    event_log_dir = json.dumps(str(home / EVENT_LOG_DIR))
    earlier = {text.format(event_log_dir=event_log_dir) for text in EARLIER_DAGSTER_YAMLS}
    if not config.exists() or config.read_text(encoding="utf-8") in earlier:
        write_text_atomically(config, DAGSTER_YAML.format(event_log_dir=event_log_dir))
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
        reason = abandoned_reason(run)
        if reason is not None:
            instance.report_run_failed(run, message=reason)
            failed.append(run.run_id)
    return failed


def abandoned_reason(run: dg.DagsterRun) -> str | None:
    """Why ``run`` is dead though Dagster says it is in progress, or None (judged, not written).

    Only an in-progress run executed by an SDK process of this host can be judged: its process
    (the ``quant/pid`` tag) no longer exists. Daemon runs are left to Dagster's run monitoring.
    """
    if run.status not in IN_PROGRESS or run.tags.get(HOST_TAG) != socket.gethostname():
        return None
    pid = int(run.tags.get(PID_TAG, "0"))
    if not pid or psutil.pid_exists(pid):
        return None
    return f"the process that ran it (pid {pid} on {run.tags[HOST_TAG]}) is gone: killed"
