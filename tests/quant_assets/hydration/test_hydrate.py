import logging
from datetime import date
from pathlib import Path

import pandas as pd

from lakehouse import LakehouseStore
from quant_assets.hydration import FilesSource, hydrate_symbol


def _write(folder: Path, dates: list[str], closes: list[float]) -> None:
    pd.DataFrame({"date": dates, "close": closes}).to_csv(folder / "ABC.csv", index=False)


def test_incremental_idempotent_and_corrections(tmp_path: Path, caplog):
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    store = LakehouseStore(tmp_path / "lake")
    _write(source_dir, ["2024-01-02", "2024-01-03"], [10.0, 11.0])
    first = hydrate_symbol(store, FilesSource(source_dir), "ABC")
    assert (first.rows_before, first.rows_after, first.new_rows) == (0, 2, 2)

    mtime = store.symbol_path("ABC").stat().st_mtime_ns
    again = hydrate_symbol(store, FilesSource(source_dir), "ABC")
    assert (again.new_rows, again.corrected_rows) == (0, 0)
    assert store.symbol_path("ABC").stat().st_mtime_ns == mtime  # nothing rewritten

    _write(source_dir, ["2024-01-02", "2024-01-03", "2024-01-04"], [10.0, 11.5, 12.0])
    with caplog.at_level(logging.WARNING):
        update = hydrate_symbol(store, FilesSource(source_dir), "ABC")
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

    hydrate_symbol(store, Recording(), "KO")
    hydrate_symbol(store, Recording(), "KO")
    assert starts[0] is None
    assert starts[1] is not None and date(2022, 12, 1) < starts[1] < date(2022, 12, 28)
