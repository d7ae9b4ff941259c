"""Jobs: ``production`` (every run-scoped asset for one run_id) and ``hydrate`` (market data)."""

import dagster as dg

from quant_assets.assets.hydration import market_data
from quant_assets.assets.partitions import run_id_partitions, symbol_partitions

RUN_GROUPS = ("discovery", "features", "regimes", "selection", "allocation", "tournament")
"""Asset groups partitioned by run_id, in pipeline order."""

production = dg.define_asset_job(
    "production",
    selection=dg.AssetSelection.groups(*RUN_GROUPS),
    partitions_def=run_id_partitions,
    executor_def=dg.in_process_executor,
    description="Discovery to tournament for one run_id partition, on the hydrated lakehouse.",
)

hydrate = dg.define_asset_job(
    "hydrate",
    selection=dg.AssetSelection.assets(market_data),
    partitions_def=symbol_partitions,
    executor_def=dg.in_process_executor,
    description="Hydrate market data for the selected symbol partitions (one run for many).",
)
