"""Schedule ``daily_production``: mint a run_id every day and run ``production`` for it.

In Dagster 1.13 a schedule returns run requests or a skip reason only (the daemon gives it no
``dynamic_partitions_requests``), so the schedule registers the new ``run_id`` partition itself,
through ``context.instance.add_dynamic_partitions`` (idempotent), before returning the request.
The run id is derived from the scheduled tick time (``YYYYMMDD-HHMMSS`` plus a hash of it), so a
retried tick reuses the same run id and run key and never starts a second run. Like
``QuantSDK.new_run`` it records the run request (the code location's settings, frozen) beside
the run's assets, which the ``run_manifest`` asset turns into the run's settings.

It is STOPPED by default; turn it on in the UI or with ``dagster schedule start daily_production``.
"""

import hashlib
from datetime import UTC, datetime

import dagster as dg

from dagster_defs.jobs import production
from dagster_defs.tags import PROFILE_TAG, SCHEDULE_TAG
from lakehouse import LakehouseStore, validate_run_id
from lakehouse.store import RUN_ID_PARTITIONS
from quant_assets.provenance import read_run_request, write_run_request
from quant_assets.settings import Settings

CRON = "0 6 * * *"
"""06:00 UTC every day."""


def scheduled_run_id(tick: datetime) -> str:
    """The run id of the tick at ``tick``: its UTC time and 8 hex characters derived from it."""
    moment = tick.astimezone(UTC) if tick.tzinfo else tick.replace(tzinfo=UTC)
    digest = hashlib.sha256(f"daily_production:{moment.isoformat()}".encode()).hexdigest()
    return validate_run_id(f"{moment:%Y%m%d-%H%M%S}-{digest[:8]}")


def evaluate_daily_production(
    context: dg.ScheduleEvaluationContext, settings: Settings
) -> dg.RunRequest:
    """One tick: register the run's partition, record its request, ask for ``production``."""
    tick = context.scheduled_execution_time or datetime.now(UTC)
    run_id = scheduled_run_id(tick)
    store = LakehouseStore(settings.data_root)
    if read_run_request(store, run_id) is None:
        write_run_request(store, run_id, settings, settings.profile, {})
    context.instance.add_dynamic_partitions(RUN_ID_PARTITIONS, [run_id])
    return dg.RunRequest(
        run_key=run_id,
        partition_key=run_id,
        tags={SCHEDULE_TAG: "daily_production", PROFILE_TAG: settings.profile},
    )


def build_daily_production(settings: Settings) -> dg.ScheduleDefinition:
    """The ``daily_production`` schedule for ``settings`` (STOPPED by default)."""

    @dg.schedule(
        name="daily_production",
        job=production,
        cron_schedule=CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"Every day at 06:00 UTC: a new run_id partition and `production` for it "
            f"(profile `{settings.profile}`)."
        ),
    )
    def daily_production(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return evaluate_daily_production(context, settings)

    return daily_production
