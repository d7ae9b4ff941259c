import os
from pathlib import Path

import pandas as pd
import pytest

from lakehouse import LakehouseStore
from lakehouse.catalog import query
from quant_assets.hydration import FilesSource, hydrate_symbols
from quant_assets.hydration.quarantine import (
    entry,
    quarantined,
    release,
    source_fingerprint,
)

DAYS = ["2024-01-02", "2024-01-03", "2024-01-04"]


def _csv(folder: Path, symbol: str, closes: list[object], days: list[str] = DAYS) -> None:
    pd.DataFrame({"date": days[: len(closes)], "close": closes}).to_csv(
        folder / f"{symbol}.csv", index=False
    )


@pytest.fixture
def lake(tmp_path: Path) -> tuple[LakehouseStore, Path]:
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    return LakehouseStore(tmp_path / "lake"), source_dir


def test_bad_symbols_are_quarantined_good_ones_written(lake):
    store, source_dir = lake
    _csv(source_dir, "GOOD", [10.0, 11.0, 12.0])
    _csv(source_dir, "BAD", [10.0, "abc", 12.0])
    outcome = hydrate_symbols(store, FilesSource(source_dir), ["BAD", "GOOD"])
    assert [r.symbol for r in outcome.reports] == ["GOOD"]
    assert store.symbols() == ["GOOD"]
    (bad,) = outcome.quarantined
    assert (bad["symbol"], bad["source"], bad["column"], bad["rows"], bad["values"]) == (
        "BAD",
        "files",
        "close",
        [1],
        ["abc"],
    )
    assert bad["file"] == str(source_dir / "BAD.csv") and bad["stored_rows"] == 0
    assert "non-numeric `close`" in bad["reason"] and "plain decimal numbers" in bad["message"]
    assert entry(store, "BAD") == {**bad, "message": bad["message"]}
    table = quarantined(store)
    assert table["symbol"].tolist() == ["BAD"] and table["rows"].tolist() == [[1]]
    sql = 'SELECT symbol, reason, "column", rows FROM quarantine'  # the lakehouse's SQL view
    by_sql = query(sql, root=store.root)
    assert by_sql[["symbol", "reason", "column"]].values.tolist() == [
        ["BAD", bad["reason"], "close"]
    ]
    assert list(by_sql["rows"].iloc[0]) == [1]


def test_stored_good_data_is_never_replaced_by_refused_data_and_a_fix_releases_it(lake):
    store, source_dir = lake
    _csv(source_dir, "SYM", [10.0, 11.0])
    hydrate_symbols(store, FilesSource(source_dir), ["SYM"])
    before = store.read_frame(store.symbol_dir("SYM"))
    _csv(source_dir, "SYM", [10.0, float("inf"), 12.0])  # overwrites a good close with inf
    outcome = hydrate_symbols(store, FilesSource(source_dir), ["SYM"])
    assert outcome.reports == [] and outcome.quarantined[0]["stored_rows"] == 2
    assert "infinite `close`" in outcome.quarantined[0]["reason"]
    pd.testing.assert_frame_equal(store.read_frame(store.symbol_dir("SYM")), before)
    _csv(source_dir, "SYM", [10.0, 11.0, 12.0])
    fixed = hydrate_symbols(store, FilesSource(source_dir), ["SYM"])
    assert fixed.quarantined == [] and fixed.reports[0].new_rows == 1
    assert entry(store, "SYM") is None and quarantined(store).empty
    assert not release(store, "SYM")  # already out


def test_the_outcome_does_not_depend_on_the_order_of_symbols(tmp_path: Path):
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    _csv(source_dir, "GOOD", [10.0, 11.0, 12.0])
    _csv(source_dir, "BAD", [10.0, 11.0, 12_000.0, 12.0], [*DAYS, "2024-01-05"])
    results = []
    for order in (["BAD", "GOOD"], ["GOOD", "BAD"]):
        store = LakehouseStore(tmp_path / "-".join(order))
        outcome = hydrate_symbols(store, FilesSource(source_dir), order)
        assert [e["symbol"] for e in outcome.quarantined] == ["BAD"]
        assert "implausible one-day spike" in outcome.quarantined[0]["reason"]
        results.append(
            (store.symbols(), store.read_frame(store.symbol_dir("GOOD")), quarantined(store))
        )
    assert results[0][0] == results[1][0] == ["GOOD"]
    pd.testing.assert_frame_equal(results[0][1], results[1][1])
    columns = ["symbol", "file", "column", "rows", "reason"]
    pd.testing.assert_frame_equal(results[0][2][columns], results[1][2][columns])


def test_a_files_fingerprint_changes_when_the_file_is_rewritten(lake):
    _, source_dir = lake
    _csv(source_dir, "SYM", [10.0])
    source = FilesSource(source_dir)
    first = source_fingerprint(source, "SYM")
    assert first is not None and source_fingerprint(source, "SYM") == first
    _csv(source_dir, "SYM", [10.0, 11.0])
    os.utime(source_dir / "SYM.csv", ns=(1, 1))
    assert source_fingerprint(source, "SYM") != first
