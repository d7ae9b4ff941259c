import logging
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakehouse import LakehouseStore
from quant_assets.freshness import (
    STATUS_DOCUMENT,
    needing_hydration,
    record_status,
    stale_symbols,
    stored_last_dates,
)
from quant_assets.hydration import (
    BundledSource,
    FilesSource,
    SyntheticSource,
    YFinanceSource,
    hydrate_symbols,
)
from quant_assets.hydration.sources import last_completed_weekday
from quant_assets.settings import Settings
from tests.conftest import hydrate_cleanly


def _csv(folder: Path, symbol: str, dates: list[str], closes: list[float]) -> None:
    pd.DataFrame({"Date": dates, "Close": closes}).to_csv(folder / f"{symbol}.csv", index=False)


def _truncate(store: LakehouseStore, symbol: str, drop: int) -> pd.DataFrame:
    full = store.read_frame(store.symbol_dir(symbol))
    store.write_frame(full.iloc[:-drop], store.symbol_dir(symbol))
    return full


@pytest.fixture
def files_lake(tmp_path: Path) -> tuple[LakehouseStore, Path]:
    """Source folder AAA, BBB, CCC; lakehouse AAA (fresh), BBB (truncated), DDD (vanished)."""
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    days = ["2024-01-02", "2024-01-03", "2024-01-04"]
    for symbol in ("AAA", "BBB", "CCC", "DDD"):
        _csv(source_dir, symbol, days, [10.0, 11.0, 12.0])
    store = LakehouseStore(tmp_path / "lake")
    hydrate_cleanly(store, FilesSource(source_dir), ["AAA", "BBB", "DDD"])
    _truncate(store, "BBB", 2)
    (source_dir / "DDD.csv").unlink()
    return store, source_dir


def test_stale_new_fresh_vanished(files_lake):
    store, source_dir = files_lake
    status = stale_symbols(store, FilesSource(source_dir))
    assert status["symbol"].tolist() == ["AAA", "BBB", "CCC", "DDD"]
    assert status["status"].tolist() == ["fresh", "stale", "new", "vanished"]
    assert status["last_stored"].dt.strftime("%Y-%m-%d").fillna("-").tolist() == [
        "2024-01-04",
        "2024-01-02",
        "-",
        "2024-01-04",
    ]
    assert status["source_last"].isna().tolist() == [False, False, False, True]
    assert needing_hydration(status) == ["BBB", "CCC"]
    # settings name the source as well
    by_settings = stale_symbols(store.root, Settings(source="files", source_path=source_dir))
    pd.testing.assert_frame_equal(by_settings, status)


def vanished_symbols(store: LakehouseStore, source_name: str) -> dict[str, Any]:
    """The vanished symbols recorded for ``source_name``, read from the status document."""
    folder = store.asset_dir(STATUS_DOCUMENT)
    if not (folder / "document.json").exists():
        return {}
    recorded: dict[str, Any] = store.read_document(folder).get(source_name, {}).get("vanished", {})
    return recorded


def test_vanished_symbols_are_recorded_not_deleted(files_lake, caplog):
    store, source_dir = files_lake
    with caplog.at_level(logging.WARNING):
        record_status(store, "files", stale_symbols(store, FilesSource(source_dir)))
    assert "vanished symbols now ['DDD']" in caplog.text
    first = vanished_symbols(store, "files")
    assert list(first) == ["DDD"] and first["DDD"]["last_stored"] == "2024-01-04"
    assert store.symbol_path("DDD").exists()  # marked, never deleted
    document = store.asset_dir("market_data_status") / "document.json"
    mtime = document.stat().st_mtime_ns
    record_status(store, "files", stale_symbols(store, FilesSource(source_dir)))
    assert document.stat().st_mtime_ns == mtime  # unchanged: not rewritten
    assert vanished_symbols(store, "files") == first  # `since` kept

    _csv(source_dir, "DDD", ["2024-01-02"], [10.0])  # it came back
    record_status(store, "files", stale_symbols(store, FilesSource(source_dir)))
    assert vanished_symbols(store, "files") == {}
    assert vanished_symbols(store, "bundled") == {}


def test_rehydrating_a_stale_symbol_makes_it_fresh_and_exact(tmp_path, bundled_source):
    store = LakehouseStore(tmp_path)
    hydrate_cleanly(store, bundled_source, ["KO"])
    full = _truncate(store, "KO", 30)
    status = stale_symbols(store, bundled_source).set_index("symbol")
    assert status.loc["KO", "status"] == "stale"
    assert str(status.loc["KO", "source_last"].date()) == "2022-12-28"
    report = hydrate_cleanly(store, bundled_source, ["KO"])["KO"]
    assert (report.new_rows, report.corrected_rows) == (30, 0)
    pd.testing.assert_frame_equal(store.read_frame(store.symbol_dir("KO")), full)
    assert stale_symbols(store, bundled_source).set_index("symbol").loc["KO", "status"] == "fresh"


def test_a_correction_in_a_stale_symbol_is_replaced_and_logged(files_lake, caplog):
    store, source_dir = files_lake
    _csv(source_dir, "BBB", ["2024-01-02", "2024-01-03", "2024-01-04"], [9.5, 11.0, 12.0])
    with caplog.at_level(logging.WARNING):
        report = hydrate_cleanly(store, FilesSource(source_dir), ["BBB"])["BBB"]
    assert (report.new_rows, report.corrected_rows) == (2, 1)
    assert "BBB 2024-01-02: source corrected close 10.0 -> 9.5" in caplog.text
    status = stale_symbols(store, FilesSource(source_dir)).set_index("symbol")
    assert status.loc["BBB", "status"] == "fresh"


def test_source_last_dates():
    assert last_completed_weekday(date(2024, 5, 6)) == date(2024, 5, 3)  # Monday -> Friday
    assert last_completed_weekday(date(2024, 5, 5)) == date(2024, 5, 3)  # Sunday -> Friday
    assert last_completed_weekday(date(2024, 5, 8)) == date(2024, 5, 7)
    yahoo = YFinanceSource(["SPY", "QQQ"], download=lambda symbol, start: pd.DataFrame())
    assert set(yahoo.last_dates().values()) == {last_completed_weekday()}
    synthetic = SyntheticSource(3, 1, date(2024, 12, 31), seed=1)
    assert synthetic.last_dates() == dict.fromkeys(synthetic.symbols(), date(2024, 12, 31))
    bundled = BundledSource().last_dates()
    assert len(bundled) == 20 and bundled["AAPL"] == date(2022, 12, 28)


def test_files_last_dates_read_only_dates(tmp_path: Path):
    _csv(tmp_path, "ABC", ["2024-01-03", "2024-01-02"], [1.0, 2.0])
    pd.DataFrame(
        {"Date": pd.to_datetime(["2024-02-01", "2024-02-05"]), "close": [1.0, 2.0]}
    ).to_parquet(tmp_path / "XYZ.parquet")
    (tmp_path / "NOD.csv").write_text("day,close\n2024-01-02,1\n")
    source = FilesSource(tmp_path)
    assert source.last_dates() == {
        "ABC": date(2024, 1, 3),
        "NOD": None,
        "XYZ": date(2024, 2, 5),
    }
    assert source.last_dates()["XYZ"] == source.last_date("XYZ")


def test_yfinance_freshness_uses_stored_symbols_without_a_list(tmp_path: Path):
    store = LakehouseStore(tmp_path)
    last = pd.Timestamp(last_completed_weekday())
    for symbol, end in (("SPY", last), ("QQQ", last - pd.Timedelta(days=7))):
        bars = pd.DataFrame({"date": pd.bdate_range(end=end, periods=3), "close": 1.0})
        store.write_frame(bars, store.symbol_dir(symbol))
    status = stale_symbols(store, Settings(source="yfinance"))
    assert dict(zip(status["symbol"], status["status"], strict=True)) == {
        "QQQ": "stale",
        "SPY": "fresh",
    }


def test_empty_lakehouse_everything_is_new(tmp_path: Path):
    assert stored_last_dates(tmp_path).empty
    status = stale_symbols(tmp_path, SyntheticSource(3, 1, date(2024, 12, 31), seed=1))
    assert status["status"].tolist() == ["new", "new", "new"]


def test_two_thousand_symbols_in_one_query(tmp_path: Path):
    n = 2000
    store = LakehouseStore(tmp_path)
    source = SyntheticSource(n, 1, date(2024, 12, 31), seed=1)
    days = pd.bdate_range(end="2024-12-31", periods=5)
    full = pa.table({"date": days.to_numpy(), "close": [1.0] * 5})
    for index, symbol in enumerate(source.symbols()):
        folder = store.symbol_dir(symbol)
        folder.mkdir(parents=True)
        pq.write_table(full if index % 10 else full.slice(0, 3), folder / "part-0.parquet")
    status = stale_symbols(store, SyntheticSource(n + 1, 1, date(2024, 12, 31), seed=1))
    counts = status["status"].value_counts().to_dict()
    # a truncated symbol is stale unless the source delisted it on or before its stored last day
    source_last = source.last_dates()
    stale = sum(
        index % 10 == 0 and last is not None and last > days[2].date()
        for index, last in enumerate(source_last.values())
    )
    assert stale < 200  # some truncated symbols were delisted before 2024-12-27
    assert counts == {"fresh": n - stale, "stale": stale, "new": 1}


def test_a_quarantined_symbol_waits_until_its_source_changes(files_lake):
    store, source_dir = files_lake
    _csv(source_dir, "BBB", ["2024-01-02", "2024-01-03", "2024-01-04"], [10.0, float("inf"), 12.0])
    (source_dir / "CCC.csv").write_text("date,close\n2024-01-02,abc\n")
    outcome = hydrate_symbols(store, FilesSource(source_dir), ["BBB", "CCC"])
    assert [e["symbol"] for e in outcome.quarantined] == ["BBB", "CCC"]
    status = stale_symbols(store, FilesSource(source_dir)).set_index("symbol")["status"]
    assert (status["BBB"], status["CCC"]) == ("quarantined", "quarantined")
    assert needing_hydration(stale_symbols(store, FilesSource(source_dir))) == []
    _csv(source_dir, "BBB", ["2024-01-02", "2024-01-03", "2024-01-04"], [10.0, 11.0, 12.0])
    assert needing_hydration(stale_symbols(store, FilesSource(source_dir))) == ["BBB"]
