"""Selection asset: the symbols to hold now, with scores and exclusion reasons."""

from typing import Any

import dagster as dg
import pandas as pd

from lakehouse.frames import StoredFrame
from quant_assets.assets.checks import contract_checks
from quant_assets.assets.metadata import frame_metadata
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.contracts import SelectionsAudit, SelectionsContract
from quant_assets.frames import closes_to_wide
from quant_assets.provenance import settings_of
from quant_assets.selection import select_now


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="selection",
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    code_version="selection-2",
    description=(
        "Every symbol's score at the run's decision date, whether it is held, and why not "
        "(ineligible point in time, or ranked out)."
    ),
)
def selections(
    context: dg.AssetExecutionContext,
    run_manifest: dict[str, Any],
    closes: StoredFrame,
    features: StoredFrame,
    regimes: pd.DataFrame,
) -> pd.DataFrame:
    """Score and select at the run's decision date (reading the features of that date only)."""
    table = select_now(closes_to_wide(closes), features, regimes, settings_of(run_manifest))
    context.add_output_metadata(
        frame_metadata(
            table, selected=int(table["selected"].sum()), regime=str(table["regime"].iloc[0])
        )
    )
    return table


defs = dg.Definitions(
    assets=[selections],
    asset_checks=contract_checks(selections, SelectionsContract, SelectionsAudit),
)
