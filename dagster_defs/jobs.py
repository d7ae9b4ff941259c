"""Jobs: ``production`` (every run-scoped asset for one run_id) and ``hydrate`` (market data)."""

from typing import TYPE_CHECKING

import dagster as dg

from dagster_defs.tags import MARKET_DATA_WRITES, PARTITION_TAG, WRITES_TAG
from quant_assets.assets.discovery import MISSING_RUN_ID
from quant_assets.assets.hydration import market_data

if TYPE_CHECKING:  # the type define_asset_job returns; Dagster does not export its name
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

RUN_GROUPS = ("discovery", "features", "regimes", "selection", "allocation", "tournament")
"""Asset groups partitioned by run_id, in pipeline order."""


@dg.failure_hook
def hint_to_mint_a_run_id(context: dg.HookContext) -> None:
    """When a step of a run without a ``run_id`` partition fails, say how to mint one.

    Dagster fails the first step (``run_manifest``) before its body runs when the instance has
    history of its inputs ("Cannot access partition_key for a non-partitioned run"); without
    history, the body fails with the same hint itself (a ``dg.Failure``, not repeated here).
    """
    run = context.instance.get_run_by_id(context.run_id)
    if run is None or PARTITION_TAG in run.tags or isinstance(context.op_exception, dg.Failure):
        return
    context.log.error(MISSING_RUN_ID)


production = dg.define_asset_job(
    "production",
    selection=dg.AssetSelection.groups(*RUN_GROUPS),
    executor_def=dg.in_process_executor,
    hooks={hint_to_mint_a_run_id},
    description="Discovery to tournament for one run_id partition, on the hydrated lakehouse.",
)

HYDRATION_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)
"""A failed hydration step (a source outage, a full disk) is tried again after 30 s, then 60 s.

Runs of the ``hydrate`` job from the code location the daemon launches from (``auto_sync``,
``hydrate --submit``); a backfill of ``market_data`` runs Dagster's asset job, without it. The
SDK's runs in its own process do not retry (:func:`build_hydrate`): the person who started one
sees the failure at once. A
symbol the source refuses is quarantined, not failed, and a strict run's failure over
quarantined symbols is not retried (``allow_retries=False``)."""


def build_hydrate(retries: bool = True) -> "UnresolvedAssetJobDefinition":
    """The ``hydrate`` job, with :data:`HYDRATION_RETRY_POLICY` or (``retries=False``) none."""
    return dg.define_asset_job(
        "hydrate",
        selection=dg.AssetSelection.assets(market_data).without_checks(),
        executor_def=dg.in_process_executor,
        tags={WRITES_TAG: MARKET_DATA_WRITES},  # one at a time in a team's run queue
        op_retry_policy=HYDRATION_RETRY_POLICY if retries else None,
        description="Hydrate market data for the selected symbol partitions (one run for many).",
    )
