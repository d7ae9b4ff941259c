import json
from pathlib import Path

import pandas as pd
import pytest

from lakehouse import InvalidRunId, LakehouseStore, new_run_id
from lakehouse.store import is_plain_frame


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


PLAIN = pd.DataFrame(
    {
        "date": pd.to_datetime(["2020-01-02", None, "2020-01-06"]).astype("datetime64[ns]"),
        "close": [1.5, float("nan"), 3.25],
        "volume": [10.0, 0.0, float("inf")],
        "count": [1, -2, 3],
        "listed": [True, False, True],
    }
)
NOT_PLAIN = {
    "a string column": PLAIN.assign(symbol=["A", "B", "C"]),
    "a named index": PLAIN.rename_axis("row"),
    "an index from 1": PLAIN.set_axis(pd.RangeIndex(1, 4)),
    "a date index": PLAIN.set_index("date"),
    "named columns": PLAIN.rename_axis(columns="field"),
    "a nullable integer": PLAIN.astype({"count": "Int64"}),
    "a float32 column": PLAIN.astype({"close": "float32"}),
    "a time zone": PLAIN.assign(date=PLAIN["date"].dt.tz_localize("UTC")),
    "a category": PLAIN.assign(kind=pd.Categorical(["x", "y", "x"])),
}


@pytest.mark.parametrize("frame", [PLAIN, PLAIN.iloc[0:0], *NOT_PLAIN.values()])
def test_every_frame_reads_back_equal_with_its_dtypes_and_missing_values(
    tmp_path: Path, frame: pd.DataFrame
):
    store = LakehouseStore(tmp_path)
    folder = store.run_dir("universe", new_run_id())
    store.write_frame(frame, folder)
    pd.testing.assert_frame_equal(store.read_frame(folder), frame, check_exact=True)


def test_only_plain_frames_skip_the_pandas_metadata():
    assert is_plain_frame(PLAIN) and is_plain_frame(PLAIN.iloc[0:0])
    assert [name for name, frame in NOT_PLAIN.items() if is_plain_frame(frame)] == []


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
