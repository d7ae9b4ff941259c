"""Hydration: market data from a source (bundled, synthetic, files, online) into the lakehouse."""

from quant_assets.hydration.bars import DataQualityError, canonical_bars
from quant_assets.hydration.batches import HydrationOutcome, hydrate_symbols
from quant_assets.hydration.hydrate import HydrationReport, merge_bars
from quant_assets.hydration.sources import (
    BundledSource,
    FilesSource,
    MarketDataSource,
    YFinanceSource,
    make_source,
)
from quant_assets.hydration.synthetic import SyntheticSource

__all__ = [
    "BundledSource",
    "DataQualityError",
    "FilesSource",
    "HydrationOutcome",
    "HydrationReport",
    "MarketDataSource",
    "SyntheticSource",
    "YFinanceSource",
    "canonical_bars",
    "hydrate_symbols",
    "make_source",
    "merge_bars",
]
