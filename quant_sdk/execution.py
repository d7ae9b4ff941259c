"""Executing a job of the code location in this process, and what Dagster remembers of runs.

:func:`execute_job` runs a job on the persistent instance with Dagster's console logger at the
caller's level and a :class:`~quant_sdk.progress.RunProgress` listening, the instance holding
pooled database connections (:func:`~quant_assets.assets.connections.hold_pooled_connections`),
and turns a failed run into one :class:`RunFailedError` naming each failed step and its error
in one line.
:func:`latest_runs` answers, for each ``run_id`` partition, which run of a job was its latest,
and :func:`step_failures` why a stored run failed; :func:`register_partitions` adds dynamic
partitions.
"""

import logging
import uuid
from dataclasses import dataclass

import dagster as dg

from dagster_defs.instance import abandoned_reason
from dagster_defs.tags import PARTITION_TAG
from quant_assets.assets.connections import hold_pooled_connections
from quant_sdk.progress import RunProgress

logger = logging.getLogger(__name__)

FINISHED = frozenset(
    {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
)
DEFAULT_DAGSTER_LOG_LEVEL = "INFO"
"""Library users see Dagster's INFO events of the runs the SDK launches (as in the UI)."""
STEP_ERROR_WRAPPER_PREFIX = "DagsterExecution"
"""Dagster's wrappers around an exception raised in an asset or its IO manager
(``DagsterExecutionStepExecutionError``, ``...HandleOutputError``, ``...LoadInputError``): the
``cause`` is the real error, the one line the user must see (``No space left on device``)."""


class RunFailedError(RuntimeError):
    """A Dagster run (or backfill) launched by the SDK did not succeed.

    Attributes
    ----------
    dagster_run_id : str or None
        Dagster's id of the failed run (look it up in the UI).
    failures : list of (str, str)
        ``(step, error)`` of every failed step, the error in one line.
    """

    def __init__(
        self,
        message: str,
        dagster_run_id: str | None = None,
        failures: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.dagster_run_id = dagster_run_id
        self.failures = failures or []


def log_level_number(name: str) -> int:
    """``"WARNING"`` -> 30; raise ``ValueError`` naming the valid levels for anything else."""
    levels = logging.getLevelNamesMapping()
    if name.upper() not in levels:
        raise ValueError(f"unknown log level {name!r}; choose from {sorted(set(levels))}")
    return levels[name.upper()]


def execute_job(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    tags: dict[str, str],
    run_config: dg.RunConfig | None = None,
    dagster_log_level: str = DEFAULT_DAGSTER_LOG_LEVEL,
) -> str:
    """Execute ``job`` in this process on ``instance``; return its Dagster run id.

    Raises
    ------
    RunFailedError
        If the run does not succeed; the message names every failed step and its error.
    """
    hold_pooled_connections(instance)
    config = run_config or dg.RunConfig()
    config.loggers = {"console": {"config": {"log_level": dagster_log_level.upper()}}}

    dagster_run_id = str(uuid.uuid4())  # Dagster's own form of run id
    progress = RunProgress(
        job.name,
        total_assets=len(job.asset_layer.selected_asset_keys),
        relay_messages=log_level_number(dagster_log_level) > logging.INFO,
    )
    instance.add_event_listener(dagster_run_id, progress)
    result = job.execute_in_process(
        instance=instance,
        tags=tags,
        run_config=config,
        run_id=dagster_run_id,
        raise_on_error=False,
    )
    if not result.success:
        failures = [
            (str(event.step_key), _error_message(event))
            for event in result.all_events
            if event.is_step_failure
        ]
        steps = "; ".join(f"{step}: {error}" for step, error in failures) or "see the UI"
        raise RunFailedError(
            f"{job.name} run {result.run_id} failed: {steps}", result.run_id, failures
        )
    logger.info("%s: done in %.1f s (Dagster run %s)", job.name, progress.elapsed(), result.run_id)
    return result.run_id


@dataclass(frozen=True)
class LatestRun:
    """The latest Dagster run of a partition, as ``quant runs`` and ``quant show`` need it."""

    dagster_run_id: str
    status: str
    """``SUCCESS``, ``FAILURE``, ``QUEUED``, ``STARTED``... (``DagsterRunStatus`` values)."""
    abandoned: str | None = None
    """Why the run is dead though Dagster says it is in progress (its process is gone; judged
    for runs this host executed in-process only), else None."""


def latest_runs(
    instance: dg.DagsterInstance, job_name: str, partition: str | None = None
) -> dict[str, LatestRun]:
    """Partition key -> its latest run of ``job_name`` (only ``partition`` when given).

    Partitions without a run of the job are absent. All partitions: Dagster's partition run
    data (``instance.get_run_partition_data``: the run id, status and partition columns of the
    runs table, the latest run per partition, what the webserver's partition statuses read;
    an instance method outside Dagster's API reference), not every run's whole record; one
    partition: its newest run record. Only runs still in progress
    are read whole, to judge whether their process died (:func:`abandoned_reason`).
    """
    if partition is not None:
        filters = dg.RunsFilter(job_name=job_name, tags={PARTITION_TAG: partition})
        found = {}
        for record in instance.get_run_records(filters, limit=1):
            found[partition] = (record.dagster_run.run_id, record.dagster_run.status)
    else:
        found = {
            data.partition: (data.run_id, data.status)
            for data in instance.get_run_partition_data(dg.RunsFilter(job_name=job_name))
        }
    unfinished = [run_id for run_id, status in found.values() if status not in FINISHED]
    dead = {}
    if unfinished:
        for record in instance.get_run_records(dg.RunsFilter(run_ids=unfinished)):
            dead[record.dagster_run.run_id] = abandoned_reason(record.dagster_run)
    return {
        key: LatestRun(run_id, status.value, dead.get(run_id))
        for key, (run_id, status) in found.items()
    }


def step_failures(instance: dg.DagsterInstance, dagster_run_id: str) -> list[tuple[str, str]]:
    """``(step, error in one line)`` of every failed step of a stored Dagster run."""
    entries = instance.all_logs(dagster_run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return [
        (str(entry.step_key), _error_message(entry.dagster_event))
        for entry in entries
        if entry.dagster_event is not None
    ]


def register_partitions(instance: dg.DagsterInstance, partitions: str, keys: list[str]) -> None:
    """Add the ``keys`` that dynamic ``partitions`` does not hold yet (in order)."""
    known = set(instance.get_dynamic_partitions(partitions))
    new = [key for key in keys if key not in known]
    if new:
        instance.add_dynamic_partitions(partitions, new)


def _error_message(event: dg.DagsterEvent) -> str:
    """The error of a step failure in one line (see :func:`error_line`)."""
    chain = []
    error = getattr(event.event_specific_data, "error", None)
    while error is not None:
        chain.append((error.cls_name, str(error.message)))
        error = error.cause
    return error_line(chain)


def error_line(chain: list[tuple[str | None, str]]) -> str:
    """A step failure's error in one line, unwrapped from Dagster's step-error wrapper.

    ``chain`` is the error's ``(class name, message)``, then its cause's, and so on.
    """
    while len(chain) > 1 and (chain[0][0] or "").startswith(STEP_ERROR_WRAPPER_PREFIX):
        chain = chain[1:]
    if not chain:
        return "unknown error"
    name, message = chain[0]
    text = " ".join(message.split())
    if name and text.split(":", 1)[0].endswith(name):
        text = f"{name}:{text.split(':', 1)[1]}"  # drop the module path
    return text
