"""Jobs: ``production`` (every run-scoped asset for one run_id) and ``hydrate`` (market data)."""

import dagster as dg

from dagster_defs.tags import MARKET_DATA_WRITES, WRITES_TAG
from quant_assets.assets.hydration import market_data

RUN_GROUPS = ("discovery", "features", "regimes", "selection", "allocation", "tournament")
"""Asset groups partitioned by run_id, in pipeline order."""

production = dg.define_asset_job(
    "production",
    selection=dg.AssetSelection.groups(*RUN_GROUPS),
    executor_def=dg.in_process_executor,
    description="Discovery to tournament for one run_id partition, on the hydrated lakehouse.",
)

hydrate = dg.define_asset_job(
    "hydrate",
    selection=dg.AssetSelection.assets(market_data).without_checks(),
    executor_def=dg.in_process_executor,
    tags={WRITES_TAG: MARKET_DATA_WRITES},  # one at a time in a team's run queue
    description="Hydrate market data for the selected symbol partitions (one run for many).",
)
