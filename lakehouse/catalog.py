"""DuckDB over the lakehouse: one view per asset across all its partitions.

Hive partitioning turns the folder names into columns, so ``run_id`` (run-scoped assets) and
``symbol`` (``market_data``) can be filtered and grouped on like any other column::

    with open_catalog(root) as con:
        con.execute("SELECT run_id, count(*) FROM features GROUP BY run_id").df()
"""

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from lakehouse.store import ASSET_NAME_PATTERN, PARQUET_FILE, LakehouseStore


def asset_views(root: str | Path) -> dict[str, str]:
    """Map each asset that has Parquet partitions to the glob of its files."""
    store = LakehouseStore(root)
    views: dict[str, str] = {}
    if store.root.is_dir():
        for asset_dir in sorted(store.root.iterdir()):
            if ASSET_NAME_PATTERN.fullmatch(asset_dir.name) and any(
                asset_dir.glob(f"*=*/{PARQUET_FILE}")
            ):
                views[asset_dir.name] = str(asset_dir / "*=*" / PARQUET_FILE)
    return views


def open_catalog(root: str | Path) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection with one view per stored asset."""
    con = duckdb.connect(":memory:")
    for name, glob in asset_views(root).items():
        relation = con.read_parquet(glob, hive_partitioning=True, union_by_name=True)
        relation.create_view(name, replace=True)
    return con


def query(sql: str, params: list[Any] | None = None, *, root: str | Path) -> pd.DataFrame:
    """Run ``sql`` (with bound ``params``) against the catalog and return a DataFrame."""
    with open_catalog(root) as con:
        return con.execute(sql, params or []).df()
