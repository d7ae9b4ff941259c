import json
from pathlib import Path

import pandas as pd
import pytest

from lakehouse import InvalidRunId, LakehouseStore, new_run_id


def test_layout_is_hive_style(tmp_path: Path):
    store = LakehouseStore(tmp_path)
    run_id = new_run_id()
    assert store.run_dir("features", run_id) == tmp_path / "features" / f"run_id={run_id}"
    assert store.symbol_path("AAPL") == tmp_path / "market_data/symbol=AAPL/part-0.parquet"
    with pytest.raises(InvalidRunId):
        store.run_dir("features", "../../etc")
    with pytest.raises(ValueError, match="asset name"):
        store.asset_dir("../features")


def test_frame_and_document_round_trip(tmp_path: Path):
    store = LakehouseStore(tmp_path)
    folder = store.run_dir("universe", new_run_id())
    frame = pd.DataFrame({"symbol": ["A", "B"], "x": [1.5, float("nan")]})
    store.write_frame(frame, folder)
    pd.testing.assert_frame_equal(store.read_frame(folder), frame)
    store.write_document({"b": 1, "a": [1, 2]}, folder)
    assert store.read_document(folder) == {"a": [1, 2], "b": 1}


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path: Path):
    store = LakehouseStore(tmp_path)
    folder = store.run_dir("universe", new_run_id())
    store.write_document({"version": 1}, folder)

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        store.write_document({"bad": Unserialisable()}, folder)
    assert json.loads((folder / "document.json").read_text()) == {"version": 1}
    assert sorted(p.name for p in folder.iterdir()) == ["document.json", "document.json.sha256"]


def test_listing_and_delete_run(tmp_path: Path):
    store = LakehouseStore(tmp_path)
    old, new = "20200101-000000-aaaa", "20260101-000000-bbbb"
    for run_id in (new, old):
        store.write_frame(pd.DataFrame({"x": [1]}), store.run_dir("features", run_id))
    store.write_document({}, store.run_dir("run_manifest", old))
    store.write_frame(pd.DataFrame({"x": [1]}), store.symbol_dir("MSFT"))
    assert store.run_ids() == [old, new]
    assert store.symbols() == ["MSFT"]
    removed = store.delete_run(old)
    assert sorted(p.parent.name for p in removed) == ["features", "run_manifest"]
    assert store.run_ids() == [new]
