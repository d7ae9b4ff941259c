"""Features asset: returns, volatility, momentum and predictability per symbol and date.

The table is built a chunk of symbols at a time (in this process, or as Ray tasks when the
run's executor is ``ray``) and written chunk by chunk: no process holds it whole
(:mod:`quant_assets.feature_build`, :class:`~lakehouse.frames.FrameChunks`).
"""

from typing import Any

import dagster as dg
from dagster_ray import LocalRay

from lakehouse.frames import FrameChunks, StoredFrame
from quant_assets.assets.checks import contract_checks
from quant_assets.assets.metadata import summary_metadata
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.assets.resources import connect_local_ray
from quant_assets.contracts import FeaturesAudit, FeaturesContract
from quant_assets.feature_build import build_features
from quant_assets.frames import closes_to_wide
from quant_assets.provenance import settings_of

FEATURES_CODE_VERSION = "features-4"


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="features",
    kinds={"pandas", "numba", "parquet"},
    owners=OWNERS,
    code_version=FEATURES_CODE_VERSION,
    description=(
        "Log return, volatility, momentum, permutation entropy, Hurst per symbol and date, "
        "sorted by (symbol, date); built and written a chunk of symbols at a time."
    ),
)
def features(
    context: dg.AssetExecutionContext,
    run_manifest: dict[str, Any],
    closes: StoredFrame,
    ray_cluster: LocalRay,
) -> FrameChunks:
    """Compute the features of the run's closes, chunk by chunk, on the run's executor."""
    settings = settings_of(run_manifest)
    wide = closes_to_wide(closes)
    connect_local_ray(context, ray_cluster, settings, "features")
    context.log.info(f"features of {wide.shape[1]} symbols on the {settings.executor} executor")
    return FrameChunks(build_features(wide, settings), describe=summary_metadata)


defs = dg.Definitions(
    assets=[features], asset_checks=contract_checks(features, FeaturesContract, FeaturesAudit)
)
