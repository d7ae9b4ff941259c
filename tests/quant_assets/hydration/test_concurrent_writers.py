"""Two hydrations of the same symbols at once, with different new dates: both are kept."""

import threading
from pathlib import Path

import pandas as pd
import pytest

import quant_assets.hydration.hydrate as hydrate_module
from lakehouse import LakehouseStore
from quant_assets.hydration import FilesSource, hydrate_symbols

SYMBOLS = ["AAPL", "KO", "XOM"]
LAST_STORED = "2022-09-30"
NEW_MONTH = ("2022-10-01", "2022-10-31")


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LakehouseStore:
    if request.param == "folder":
        return LakehouseStore(tmp_path / "lake")
    return LakehouseStore(request.getfixturevalue("s3_root"))


def write_source(folder: Path, closes: pd.DataFrame) -> FilesSource:
    folder.mkdir()
    for symbol in closes:
        bars = closes[symbol].dropna().rename("close").rename_axis("date").reset_index()
        bars.to_csv(folder / f"{symbol}.csv", index=False, date_format="%Y-%m-%d")
    return FilesSource(folder)


def test_two_writers_of_one_symbol_both_keep_their_dates(
    store: LakehouseStore,
    bundled_closes: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    """Writer A brings October's odd trading days, B its even ones; both read the same stored
    file before either commits (a barrier makes sure), so one commit is refused and merged
    again: every October day ends up stored, and nothing before it changed."""
    closes = bundled_closes.loc["2021-01-01":"2022-10-31", SYMBOLS]
    history = closes.loc[:LAST_STORED]
    october = closes.loc[NEW_MONTH[0] : NEW_MONTH[1]]
    hydrate_symbols(store, write_source(tmp_path / "base", history), SYMBOLS)
    sources = [
        write_source(tmp_path / "odd", pd.concat([history, october.iloc[0::2]])),
        write_source(tmp_path / "even", pd.concat([history, october.iloc[1::2]])),
    ]

    both_read = threading.Barrier(len(sources), timeout=60)
    merge = hydrate_module.symbol_update
    waiting = {"odd", "even"}  # each writer's first merge waits for the other's read

    def merge_after_both_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        name = threading.current_thread().name
        if name in waiting:
            waiting.discard(name)
            both_read.wait()
        return merge(*args, **kwargs)

    monkeypatch.setattr(hydrate_module, "symbol_update", merge_after_both_read)
    outcomes, errors = [], []

    def hydrate(source: FilesSource) -> None:
        try:
            outcomes.append(hydrate_symbols(store, source, SYMBOLS))
        except BaseException as error:
            errors.append(error)

    writers = [
        threading.Thread(target=hydrate, args=(source,), name=source.folder.name)
        for source in sources
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert not errors, errors
    assert all(not outcome.quarantined for outcome in outcomes)

    for symbol in SYMBOLS:
        stored = store.read_frame(store.symbol_dir(symbol)).set_index("date")["close"]
        expected = closes[symbol].dropna()
        pd.testing.assert_index_equal(stored.index, expected.index.astype(stored.index.dtype))
        assert (stored.to_numpy() == expected.to_numpy()).all()
    new_rows = sorted(report.new_rows for outcome in outcomes for report in outcome.reports)
    odd, even = len(october.iloc[0::2]), len(october.iloc[1::2])
    assert new_rows == sorted([odd, even] * len(SYMBOLS))
