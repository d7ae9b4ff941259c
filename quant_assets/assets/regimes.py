"""Regimes asset: a market regime label per date."""

from typing import Any

import dagster as dg
import pandas as pd

from lakehouse.frames import StoredFrame
from quant_assets.assets.checks import contract_checks
from quant_assets.assets.metadata import frame_metadata
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.contracts import RegimesContract
from quant_assets.frames import closes_to_wide
from quant_assets.provenance import settings_of
from quant_assets.regimes import label_regimes


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="regimes",
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    code_version="regimes-1",
    description="Market regime per date (bull, bear, volatile_bull, volatile_bear, unknown).",
)
def regimes(
    context: dg.AssetExecutionContext, run_manifest: dict[str, Any], closes: StoredFrame
) -> pd.DataFrame:
    """Label each date of the run's closes."""
    table = label_regimes(closes_to_wide(closes), settings_of(run_manifest))
    counts = {str(label): int(days) for label, days in table["label"].value_counts().items()}
    context.add_output_metadata(frame_metadata(table, label_counts=dg.MetadataValue.json(counts)))
    return table


defs = dg.Definitions(assets=[regimes], asset_checks=contract_checks(regimes, RegimesContract))
