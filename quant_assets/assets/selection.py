"""Selection asset: the symbols to hold now, with scores and exclusion reasons."""

from typing import Any

import dagster as dg
import pandas as pd

from quant_assets.assets.checks import contract_checks
from quant_assets.assets.metadata import frame_metadata
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.contracts import SelectionsAudit, SelectionsContract
from quant_assets.features import latest_features
from quant_assets.provenance import settings_of
from quant_assets.regimes import current_regime
from quant_assets.selection import score_symbols


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="selection",
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    code_version="selection-1",
    description="Every universe symbol's score on the last date, whether it is held, and why not.",
)
def selections(
    context: dg.AssetExecutionContext,
    run_manifest: dict[str, Any],
    features: pd.DataFrame,
    regimes: pd.DataFrame,
) -> pd.DataFrame:
    """Score and select on the last date of the run."""
    regime = current_regime(regimes)
    table = score_symbols(latest_features(features), regime, settings_of(run_manifest))
    context.add_output_metadata(
        frame_metadata(table, selected=int(table["selected"].sum()), regime=regime)
    )
    return table


defs = dg.Definitions(
    assets=[selections],
    asset_checks=contract_checks(selections, SelectionsContract, SelectionsAudit),
)
