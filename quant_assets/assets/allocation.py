"""Allocation asset: every engine's guarded portfolio as of the run's last date."""

from typing import Any

import dagster as dg
import pandas as pd

from lakehouse.frames import StoredFrame
from quant_assets.allocation.portfolio import current_allocations
from quant_assets.assets.checks import contract_checks
from quant_assets.assets.metadata import frame_metadata
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.contracts import AllocationsAudit, AllocationsContract
from quant_assets.discovery import eligible_symbols
from quant_assets.frames import closes_to_wide
from quant_assets.membership import decision_date
from quant_assets.provenance import settings_of
from quant_assets.selection import selected_symbols


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="allocation",
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    code_version="allocations-3",
    description=(
        "Target weights of every engine on the selected symbols, from the `train` days up to the "
        "run's decision date, through the SolverGuard (vetoes and the engine used recorded)."
    ),
)
def allocations(
    context: dg.AssetExecutionContext,
    run_manifest: dict[str, Any],
    closes: StoredFrame,
    universe: pd.DataFrame,
    selections: pd.DataFrame,
) -> pd.DataFrame:
    """Allocate now, with every engine of the run."""
    settings = settings_of(run_manifest)
    wide = closes_to_wide(closes)
    as_of = decision_date(wide, settings)
    table = current_allocations(
        wide.loc[:as_of], eligible_symbols(universe), selected_symbols(selections), settings
    )
    fallbacks = table.drop_duplicates("engine").query("engine != engine_used")
    context.add_output_metadata(
        frame_metadata(
            table,
            engines=int(table["engine"].nunique()),
            fallbacks=len(fallbacks),
        )
    )
    return table


defs = dg.Definitions(
    assets=[allocations],
    asset_checks=contract_checks(allocations, AllocationsContract, AllocationsAudit),
)
