"""The whole system in one place: every pillar's definitions, the jobs and the resources."""

import dagster as dg

from dagster_defs.jobs import build_hydrate, production
from dagster_defs.new_run import build_requested_runs, new_run
from dagster_defs.resources import build_resources
from dagster_defs.schedules import build_daily_production
from dagster_defs.sensors import build_auto_sync
from quant_assets.assets import (
    allocation,
    discovery,
    features,
    hydration,
    overfitting,
    regimes,
    report,
    selection,
    tournament,
)
from quant_assets.settings import Settings


def build_definitions(settings: Settings, retries: bool = True) -> dg.Definitions:
    """Merge the pillars' definitions with jobs, automation and resources built from ``settings``.

    The caller's settings reach every asset and op through the resources (``base_settings``,
    ``lakehouse``), the sensors and the schedule; nothing below reads the environment.
    ``retries``: the ``hydrate`` job retries a failed step (the code location the daemon
    launches from); the SDK's runs in its own process pass False (see
    :data:`dagster_defs.jobs.HYDRATION_RETRY_POLICY`).
    """
    return dg.Definitions.merge(
        hydration.defs,
        discovery.defs,
        features.defs,
        regimes.defs,
        selection.defs,
        allocation.defs,
        tournament.defs,
        overfitting.defs,
        report.defs,
        dg.Definitions(
            jobs=[production, build_hydrate(retries), new_run], resources=build_resources(settings)
        ),
        dg.Definitions(
            sensors=[build_auto_sync(settings), build_requested_runs(settings)],
            schedules=[build_daily_production(settings)],
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location ``dagster dev`` loads: its caller's ``QUANT_*`` environment, read once."""
    return build_definitions(Settings.from_environment())
