import logging
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lakehouse import LakehouseStore
from quant_assets.hydration import FilesSource, HydrationReport, MarketDataSource, canonical_bars
from quant_assets.hydration.hydrate import REFETCH_OVERLAP_DAYS
from tests.conftest import hydrate_cleanly


def hydrate_one(store: LakehouseStore, source: MarketDataSource, symbol: str) -> HydrationReport:
    return hydrate_cleanly(store, source, [symbol])[symbol]


def _write(folder: Path, dates: list[str], closes: list[float]) -> None:
    pd.DataFrame({"date": dates, "close": closes}).to_csv(folder / "ABC.csv", index=False)


def test_incremental_idempotent_and_corrections(tmp_path: Path, caplog):
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    store = LakehouseStore(tmp_path / "lake")
    _write(source_dir, ["2024-01-02", "2024-01-03"], [10.0, 11.0])
    first = hydrate_one(store, FilesSource(source_dir), "ABC")
    assert (first.rows_before, first.rows_after, first.new_rows) == (0, 2, 2)

    mtime = store.symbol_path("ABC").stat().st_mtime_ns
    again = hydrate_one(store, FilesSource(source_dir), "ABC")
    assert (again.new_rows, again.corrected_rows) == (0, 0)
    assert store.symbol_path("ABC").stat().st_mtime_ns == mtime  # nothing rewritten

    _write(source_dir, ["2024-01-02", "2024-01-03", "2024-01-04"], [10.0, 11.5, 12.0])
    with caplog.at_level(logging.WARNING):
        update = hydrate_one(store, FilesSource(source_dir), "ABC")
    assert (update.new_rows, update.corrected_rows, update.last_date) == (1, 1, "2024-01-04")
    assert "corrected close 11.0 -> 11.5" in caplog.text
    stored = store.read_frame(store.symbol_dir("ABC"))
    assert stored["close"].tolist() == [10.0, 11.5, 12.0]
    assert stored["date"].is_monotonic_increasing and stored["date"].is_unique


def test_incremental_fetch_asks_only_for_recent_dates(tmp_path: Path, bundled_source):
    store = LakehouseStore(tmp_path)
    starts: list[date | None] = []

    class Recording:
        name = "bundled"

        def fetch(self, symbol, start=None):
            starts.append(start)
            return bundled_source.fetch(symbol, start)

        def symbols(self):
            return bundled_source.symbols()

        def last_date(self, symbol):
            return bundled_source.last_date(symbol)

    hydrate_one(store, Recording(), "KO")
    hydrate_one(store, Recording(), "KO")
    assert starts[0] is None
    assert starts[1] is not None and date(2022, 12, 1) < starts[1] < date(2022, 12, 28)


class RescalingSource:
    """A vendor of adjusted closes: ``restate(factor)`` rescales every past close, as after a
    dividend or a split; ``append`` adds days. Records every ``start`` it is asked for."""

    name = "vendor"

    def __init__(self, closes: list[float]) -> None:
        self.bars = pd.DataFrame(
            {"date": pd.bdate_range("2024-01-02", periods=len(closes)), "close": closes}
        )
        self.starts: list[date | None] = []

    def restate(self, factor: float) -> None:
        self.bars["close"] = self.bars["close"] * factor

    def append(self, closes: list[float]) -> None:
        dates = pd.bdate_range(self.bars["date"].iloc[-1], periods=len(closes) + 1)[1:]
        extra = pd.DataFrame({"date": dates, "close": closes})
        self.bars = pd.concat([self.bars, extra], ignore_index=True)

    def symbols(self):
        return ["ADJ"]

    def last_date(self, symbol):
        return self.bars["date"].iloc[-1].date()

    def fetch(self, symbol, start=None):
        self.starts.append(start)
        bars = canonical_bars(self.bars, source=self.name, symbol=symbol)
        return bars if start is None else bars[bars["date"] >= pd.Timestamp(start)]


def _closes(n: int) -> list[float]:
    return [100.0 + i for i in range(n)]


def test_a_restated_history_replaces_the_stored_one_never_splices(tmp_path: Path, caplog):
    store = LakehouseStore(tmp_path)
    vendor = RescalingSource(_closes(60))
    hydrate_one(store, vendor, "ADJ")
    vendor.restate(0.98)  # a dividend: every past close x0.98
    vendor.append([156.0, 157.0])
    with caplog.at_level(logging.WARNING):
        report = hydrate_one(store, vendor, "ADJ")
    assert vendor.starts[-1] is None and vendor.starts[-2] is not None  # overlap, then all
    assert report.restated_rows == 60 and report.restatement_factor == pytest.approx(0.98)
    assert (report.new_rows, report.corrected_rows, report.rows_after) == (2, 0, 62)
    stored = store.read_frame(store.symbol_dir("ADJ"))
    expected = [c * 0.98 for c in _closes(60)] + [156.0, 157.0]
    np.testing.assert_allclose(stored["close"], expected, rtol=1e-12)
    returns = stored["close"].pct_change().dropna()
    assert returns.abs().max() <= 0.0101  # no fake jump (2%) at a seam
    assert "restated its history (60 stored closes changed, factor 0.98)" in caplog.text
    again = hydrate_one(store, vendor, "ADJ")  # idempotent afterwards
    assert (again.new_rows, again.corrected_rows, again.restated_rows) == (0, 0, 0)


def test_a_history_changed_without_a_common_factor_is_replaced_with_no_factor(tmp_path: Path):
    store = LakehouseStore(tmp_path)
    vendor = RescalingSource(_closes(40))
    hydrate_one(store, vendor, "ADJ")
    vendor.bars["close"] = vendor.bars["close"] * np.linspace(0.9, 0.99, 40)
    report = hydrate_one(store, vendor, "ADJ")
    assert report.restated_rows == 40 and report.restatement_factor is None
    np.testing.assert_allclose(
        store.read_frame(store.symbol_dir("ADJ"))["close"], vendor.bars["close"], rtol=1e-12
    )


@pytest.mark.parametrize("where", ["last", "first"])  # of the re-fetched overlap
def test_a_single_corrected_value_stays_a_logged_correction(tmp_path: Path, caplog, where):
    store = LakehouseStore(tmp_path)
    vendor = RescalingSource(_closes(40))
    hydrate_one(store, vendor, "ADJ")
    overlap_start = vendor.bars["date"].iloc[-1] - pd.Timedelta(days=REFETCH_OVERLAP_DAYS)
    first = int(vendor.bars.index[vendor.bars["date"] >= overlap_start][0])
    vendor.bars.loc[first if where == "first" else len(vendor.bars) - 1, "close"] = 500.0
    with caplog.at_level(logging.WARNING):
        report = hydrate_one(store, vendor, "ADJ")
    assert (report.corrected_rows, report.restated_rows, report.restatement_factor) == (1, 0, None)
    assert "source corrected close" in caplog.text and "restated" not in caplog.text
    stored = store.read_frame(store.symbol_dir("ADJ"))
    np.testing.assert_allclose(stored["close"], vendor.bars["close"], rtol=1e-12)


def test_batches_are_yielded_once_stored_and_an_outage_after_its_batch_s_stored_symbols(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from quant_assets.hydration import batches as batches_module

    monkeypatch.setattr(batches_module, "HYDRATION_BATCH", 2)
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    names = ["AAA", "BBB", "CCC", "DDD", "EEE"]
    for number, name in enumerate(names):
        closes = [10.0 + number, 11.0 + number] if name != "BBB" else [10.0, -1.0]  # BBB refused
        pd.DataFrame({"date": ["2024-01-02", "2024-01-03"], "close": closes}).to_csv(
            source_dir / f"{name}.csv", index=False
        )
    store = LakehouseStore(tmp_path / "lake")

    class DownAtDDD(FilesSource):
        def fetch(self, symbol, start=None):
            if symbol == "DDD":
                raise ConnectionError("source unreachable")
            return super().fetch(symbol, start)

    seen = []
    batches = batches_module.hydrate_batches(store, DownAtDDD(source_dir), names)
    with pytest.raises(ConnectionError, match="unreachable"):
        for batch in batches:
            stored = [report.symbol for report in batch.reports]
            assert all(store.symbol_path(symbol).exists() for symbol in stored)
            seen.append((batch.done, stored, [e["symbol"] for e in batch.quarantined]))
    # batch 1: AAA stored, BBB refused; batch 2: CCC stored, then the outage at DDD; EEE never
    assert seen == [(2, ["AAA"], ["BBB"]), (3, ["CCC"], [])]
    assert not store.symbol_path("EEE").exists()
