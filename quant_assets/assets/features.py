"""Features asset: returns, volatility, momentum and predictability per symbol and date."""

from typing import Any

import dagster as dg
import pandas as pd

from quant_assets.assets.checks import contract_checks
from quant_assets.assets.metadata import frame_metadata
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.contracts import FeaturesAudit, FeaturesContract
from quant_assets.features import compute_features
from quant_assets.frames import closes_to_wide
from quant_assets.provenance import settings_of

FEATURES_CODE_VERSION = "features-3"


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="features",
    kinds={"pandas", "numba", "parquet"},
    owners=OWNERS,
    code_version=FEATURES_CODE_VERSION,
    description="Log return, volatility, momentum, permutation entropy, Hurst per symbol and date.",
)
def features(
    context: dg.AssetExecutionContext, run_manifest: dict[str, Any], closes: pd.DataFrame
) -> pd.DataFrame:
    """Compute the features of the run's closes."""
    table = compute_features(closes_to_wide(closes), settings_of(run_manifest))
    context.add_output_metadata(frame_metadata(table))
    return table


defs = dg.Definitions(
    assets=[features], asset_checks=contract_checks(features, FeaturesContract, FeaturesAudit)
)
