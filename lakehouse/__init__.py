"""Lakehouse storage: run ids, paths, atomic Parquet/JSON store, hashing, DuckDB catalog."""

from lakehouse.hashing import get_df_hash
from lakehouse.identifiers import (
    InvalidRunId,
    InvalidSymbol,
    new_run_id,
    validate_run_id,
    validate_symbol,
)
from lakehouse.store import LakehouseStore

__all__ = [
    "InvalidRunId",
    "InvalidSymbol",
    "LakehouseStore",
    "get_df_hash",
    "new_run_id",
    "validate_run_id",
    "validate_symbol",
]
