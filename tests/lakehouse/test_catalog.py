from pathlib import Path

import pandas as pd

from lakehouse import LakehouseStore
from lakehouse.catalog import asset_views, query


def test_views_expose_partition_columns(tmp_path: Path):
    store = LakehouseStore(tmp_path)
    runs = ["20260101-000000-aaaa", "20260102-000000-bbbb"]
    for i, run_id in enumerate(runs):
        store.write_frame(pd.DataFrame({"x": [i, i + 1.0]}), store.run_dir("features", run_id))
    store.write_frame(pd.DataFrame({"close": [1.0]}), store.symbol_dir("AAPL"))
    store.write_document({"a": 1}, store.run_dir("run_manifest", runs[0]))
    assert sorted(asset_views(tmp_path)) == ["features", "market_data"]
    by_run = query(
        "SELECT run_id, sum(x) AS total FROM features GROUP BY run_id ORDER BY run_id",
        root=tmp_path,
    )
    assert by_run.to_dict("list") == {"run_id": runs, "total": [1.0, 3.0]}
    bound = query("SELECT count(*) AS n FROM features WHERE run_id = ?", [runs[1]], root=tmp_path)
    assert int(bound["n"].iloc[0]) == 2
    assert query("SELECT symbol FROM market_data", root=tmp_path)["symbol"].tolist() == ["AAPL"]
