"""Executing a job of the code location in this process, and what Dagster remembers of runs.

:func:`execute_job` runs a job on the persistent instance with Dagster's console logger at the
caller's level and a :class:`~quant_sdk.progress.RunProgress` listening, and turns a failed
run into one :class:`RunFailedError` naming each failed step and its error in one line.
:func:`last_runs` answers, for each ``run_id`` partition, which run of a job was its latest,
and :func:`step_failures` why a stored run failed; :func:`register_partitions` adds dynamic
partitions.
"""

import logging
import uuid

import dagster as dg

from dagster_defs.tags import PARTITION_TAG
from quant_sdk.progress import RunProgress

logger = logging.getLogger(__name__)

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


def last_runs(
    instance: dg.DagsterInstance, job_name: str, partition: str | None = None
) -> dict[str, dg.DagsterRun]:
    """Partition key -> its latest run of ``job_name`` (only ``partition`` when given).

    Partitions without a run of the job are absent; ``run.status.value`` is ``SUCCESS``,
    ``FAILURE``, ``STARTED``...
    """
    tags = {PARTITION_TAG: partition} if partition is not None else None
    latest: dict[str, dg.DagsterRun] = {}
    for run in instance.get_runs(dg.RunsFilter(job_name=job_name, tags=tags)):  # newest first
        key = run.tags.get(PARTITION_TAG)
        if key is not None and key not in latest:
            latest[key] = run
    return latest


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
    """The error of a step failure in one line, unwrapped from Dagster's step-error wrapper."""
    error = getattr(event.event_specific_data, "error", None)
    while (
        error is not None
        and (error.cls_name or "").startswith(STEP_ERROR_WRAPPER_PREFIX)
        and error.cause is not None
    ):
        error = error.cause
    if error is None:
        return "unknown error"
    text = " ".join(str(error.message).split())
    if error.cls_name and text.split(":", 1)[0].endswith(error.cls_name):
        text = f"{error.cls_name}:{text.split(':', 1)[1]}"  # drop the module path
    return text
