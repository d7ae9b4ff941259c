"""A new run from the Dagster UI alone: the ``new_run`` job and the ``requested_runs`` sensor.

A UI user launches ``new_run`` from its launchpad, with the profile, any setting overrides and
optionally a sweep's grid as run config (:class:`NewRunConfig`). Its one op, ``mint_run_id``,
validates them on top of the code location's settings (a bad one fails the run naming the
setting), mints a run id, freezes the run request beside the run's assets (as
``QuantSDK.new_run`` does; the ``run_manifest`` asset records it) and registers the ``run_id``
partition.

An op has no public way to launch another job, so the ``requested_runs`` sensor does: a Dagster
run-status sensor on ``new_run``'s successes, RUNNING by default and evaluated every few seconds by
the daemon (``make dev`` starts one), it requests ``production`` once (its run key is the run id)
for the run id of every successful ``new_run`` run, unless that partition already has a
``production`` run. Dagster's run-status cursor remembers which runs it has seen. Run ids minted
elsewhere (``quant new-run``, the daily schedule) are never launched by it.

The run id is derived from the ``new_run`` Dagster run itself (its creation time and the first
characters of its Dagster run id, :func:`minted_run_id`), so the sensor finds it from the run
record alone, a retried op mints the same id, and the UI's short run id shows in it.
"""

import difflib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import dagster as dg
from pydantic import Field, ValidationError

from dagster_defs.jobs import production
from dagster_defs.tags import PARTITION_TAG, PROFILE_TAG, REQUESTED_BY_RUN_TAG
from lakehouse import LakehouseStore, validate_run_id
from lakehouse.store import RUN_ID_PARTITIONS
from quant_assets.assets.resources import LakehouseResource, SettingsResource
from quant_assets.provenance import read_run_request, write_run_request
from quant_assets.settings import Settings
from quant_assets.sweep import SweepError, sweep_profiles

NEW_RUN_JOB = "new_run"
MINT_OP = "mint_run_id"
DAGSTER_ID_CHARACTERS = 8
"""Characters of the ``new_run`` Dagster run id that end the minted run id (the UI shows them)."""
MINIMUM_INTERVAL_SECONDS = 10
RESERVED_OVERRIDES = {
    "profile": "choose it with the `profile` field, not in `overrides`",
    "data_root": "a run lives in the code location's lakehouse (QUANT_DATA_ROOT of `make dev`)",
}
"""Settings a UI request may not override, and why."""
WHAT_TO_DO = (
    f"fix `overrides` under ops > {MINT_OP} > config in the launchpad of `{NEW_RUN_JOB}` and "
    "launch again (`quant settings` lists every setting with its current value)"
)

ProfileName = Literal["canary", "production"]
"""The profiles a UI user may choose (the names of ``quant_assets.settings.PROFILES``)."""


class SettingOverrides(dg.PermissiveConfig):
    """Any settings by name, e.g. ``min_history: 252`` or ``engines: [hrp, market]``."""


class SettingGrid(dg.PermissiveConfig):
    """A sweep: settings by name, each with its values, e.g. ``top_n: [5, 10, 20]``."""


class NewRunConfig(dg.Config):
    """What a UI user chooses for a new run: a profile and setting overrides on top of it."""

    profile: ProfileName = Field(
        "canary",
        description=(
            "Named profile applied on top of the code location's settings: `canary` (recent "
            "bundled data, fast engines, seconds) or `production` (full history, every engine)."
        ),
    )
    overrides: SettingOverrides = Field(
        default_factory=SettingOverrides,
        description=(
            "Settings applied on top of the profile, by name, e.g. `start_date: 2019-01-01` and "
            "`min_history: 252`; validated like `quant run --set`. Empty: the profile as is."
        ),
    )
    grid: SettingGrid = Field(
        default_factory=SettingGrid,
        description=(
            "A sweep, like `quant sweep --grid`: settings with lists of values, e.g. "
            "`top_n: [5, 10, 20]` and `max_weight: [0.1, 0.2]`; every combination is a profile "
            "of the run's tournament (`top_n=5,max_weight=0.1`). Empty: one profile."
        ),
    )


def minted_run_id(dagster_run_id: str, created: datetime) -> str:
    """The run id a ``new_run`` Dagster run mints: ``YYYYMMDD-HHMMSS-<its id's first 8>``.

    ``created`` is the Dagster run's creation time (naive means UTC).
    """
    moment = created.astimezone(UTC) if created.tzinfo else created.replace(tzinfo=UTC)
    return validate_run_id(f"{moment:%Y%m%d-%H%M%S}-{dagster_run_id[:DAGSTER_ID_CHARACTERS]}")


def requested_settings(base: Settings, profile: str, overrides: dict[str, Any]) -> Settings:
    """``base`` with ``profile`` and ``overrides`` applied; ``dg.Failure`` naming a bad setting."""
    for name, reason in RESERVED_OVERRIDES.items():
        if name in overrides:
            raise _invalid(f"setting `{name}` cannot be overridden here: {reason}", name)
    known = list(Settings.model_fields)
    for name in overrides:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise _invalid(f"unknown setting `{name}`{hint}", name)
    try:
        return base.with_profile(profile, **overrides)
    except ValidationError as error:
        first = error.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
        if not first["loc"]:  # a rule across settings: its message names them
            raise _invalid(f"inconsistent settings: {message}", "settings") from None
        name = str(first["loc"][0])
        where = ".".join(str(part) for part in first["loc"])
        given = f" (given {overrides[name]!r})" if name in overrides else ""
        raise _invalid(f"setting `{where}`{given}: {message}", name) from None
    except ValueError as error:
        raise _invalid(str(error).rstrip("."), "settings") from None


def _invalid(problem: str, setting: str) -> dg.Failure:
    return dg.Failure(
        description=f"{NEW_RUN_JOB}: {problem}; {WHAT_TO_DO}",
        metadata={"setting": setting},
        allow_retries=False,
    )


@dg.op(
    name=MINT_OP,
    out=dg.Out(
        dg.Nothing,
        description="Nothing is stored: the minted run id and its settings are the metadata.",
    ),
)
def mint_run_id(
    context: dg.OpExecutionContext,
    config: NewRunConfig,
    lakehouse: LakehouseResource,
    base_settings: SettingsResource,
) -> dg.Output[None]:
    """Validate the request, mint its run id, record the run request, register the partition."""
    overrides = config.overrides.model_dump()
    grid = config.grid.model_dump()
    settings = requested_settings(base_settings.settings, config.profile, overrides)
    if grid:
        try:
            sweep_profiles(settings, grid)
        except SweepError as error:
            raise _invalid(str(error).rstrip("."), "grid") from None
    record = context.instance.get_run_record_by_id(context.run_id)
    if record is None:
        raise RuntimeError(f"Dagster has no record of its own run {context.run_id}")
    run_id = minted_run_id(context.run_id, record.create_timestamp)
    write_run_request(
        lakehouse.store, run_id, base_settings.settings, config.profile, overrides, grid or None
    )
    context.instance.add_dynamic_partitions(RUN_ID_PARTITIONS, [run_id])
    context.log.info(
        f"run {run_id} requested ({config.profile} profile, overrides {overrides}); the "
        "`requested_runs` sensor launches `production` for it within seconds"
    )
    return dg.Output(
        None,
        metadata={
            "run_id": run_id,
            "profile": config.profile,
            "overrides": dg.MetadataValue.json(overrides),
            "grid": dg.MetadataValue.json(grid),
            "settings_hash": settings.content_hash(),
            "settings": dg.MetadataValue.json(settings.snapshot()),
        },
    )


@dg.job(
    name=NEW_RUN_JOB,
    executor_def=dg.in_process_executor,
    description=(
        "Start a new run from the UI: choose `profile` and `overrides` in the launchpad; a run id "
        "is minted and registered, and the `requested_runs` sensor launches `production` for it."
    ),
)
def new_run() -> None:
    """Mint and register one run id with the launchpad's profile and overrides."""
    mint_run_id()


def request_production(
    instance: dg.DagsterInstance, store: LakehouseStore, new_run_record: dg.DagsterRun
) -> dg.RunRequest | dg.SkipReason:
    """``production`` for the run id a successful ``new_run`` run minted, unless not launchable.

    The body of ``requested_runs`` (callable on its own in tests).
    """
    record = instance.get_run_record_by_id(new_run_record.run_id)
    if record is None:
        return dg.SkipReason(f"Dagster has no record of run {new_run_record.run_id}")
    run_id = minted_run_id(new_run_record.run_id, record.create_timestamp)
    reason = _not_launchable(instance, store, run_id)
    if reason:
        return dg.SkipReason(f"requested_runs: {run_id} not launched: {reason}")
    request: Mapping[str, Any] = read_run_request(store, run_id) or {}
    return dg.RunRequest(
        run_key=run_id,
        partition_key=run_id,
        tags={
            PROFILE_TAG: str(request.get("profile", "")),
            REQUESTED_BY_RUN_TAG: new_run_record.run_id,
        },
    )


def _not_launchable(instance: dg.DagsterInstance, store: LakehouseStore, run_id: str) -> str:
    """Why ``production`` must not be requested for ``run_id`` ('' when it must)."""
    if not instance.has_dynamic_partition(RUN_ID_PARTITIONS, run_id):
        return "its partition is gone (pruned?)"
    if read_run_request(store, run_id) is None:
        return "its run request is gone from the lakehouse"
    already = instance.get_run_records(
        filters=dg.RunsFilter(job_name=production.name, tags={PARTITION_TAG: run_id}), limit=1
    )
    return "production already ran for it" if already else ""


def build_requested_runs(settings: Settings) -> dg.RunStatusSensorDefinition:
    """The ``requested_runs`` sensor for the lakehouse of ``settings`` (RUNNING by default)."""
    store = LakehouseStore(settings.data_root)

    @dg.run_status_sensor(
        name="requested_runs",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[new_run],
        request_job=production,
        minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Launch `production` once for the run id of every successful `{NEW_RUN_JOB}` run "
            "(a new run started from the UI)."
        ),
    )
    def requested_runs(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
        return request_production(context.instance, store, context.dagster_run)

    return requested_runs
