"""Point in time through the real `production` job, on data where symbols list late and die."""

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from dagster_defs import build_definitions
from lakehouse import LakehouseStore, new_run_id
from quant_assets.hydration import FilesSource
from quant_assets.provenance import write_run_request
from quant_assets.settings import Settings
from tests.conftest import hydrate_cleanly

SYMBOLS = ["AAPL", "JNJ", "KO", "MSFT", "PG", "XOM", "WMT", "BAC"]
LATE, DEAD, DIES_LATER = "AAPL", "XOM", "BAC"
LISTING = pd.Timestamp("2018-03-01")
DEATHS = {DEAD: pd.Timestamp("2018-06-29"), DIES_LATER: pd.Timestamp("2020-03-31")}
RUN = {"start_date": "2016-01-01", "min_history": 252, "engines": ["market", "min_variance"]}


def _write(folder: Path, closes: pd.DataFrame) -> None:
    folder.mkdir(parents=True)
    for symbol in closes.columns:
        series = closes[symbol].dropna().rename("close").rename_axis("date")
        if len(series):  # a symbol with no close yet has no file
            series.to_frame().to_csv(folder / f"{symbol}.csv")


def _run(tmp: Path, closes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    _write(tmp / "source", closes)
    store = LakehouseStore(tmp / "lakehouse")
    source = FilesSource(tmp / "source")
    hydrate_cleanly(store, source, source.symbols())
    base = Settings(data_root=tmp / "lakehouse", executor="serial")
    run_id = new_run_id()
    write_run_request(store, run_id, base, "canary", RUN)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("run_id", [run_id])
        job = build_definitions(base).resolve_job_def("production")
        result = job.execute_in_process(partition_key=run_id, instance=instance)
    assert result.success
    names = ("tournament_windows", "tournament_weights", "tournament_guard", "tournament_vetoes")
    return {name: store.read_frame(store.run_dir(name, run_id)) for name in names}


@pytest.fixture(scope="module")
def market(bundled_closes: pd.DataFrame) -> pd.DataFrame:
    closes = bundled_closes.loc["2015-06-01":"2021-12-31", SYMBOLS].copy()
    closes.loc[: LISTING - pd.Timedelta(days=1), LATE] = np.nan
    for symbol, death in DEATHS.items():
        closes.loc[death + pd.Timedelta(days=1) :, symbol] = np.nan
    return closes


@pytest.fixture(scope="module")
def run(market: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    return _run(tmp_path_factory.mktemp("pit"), market)


def _held(weights: pd.DataFrame, engine: str) -> dict[int, set[str]]:
    mine = weights[(weights["engine"] == engine) & (weights["weight"] > 0)]
    return {int(w): set(rows["symbol"]) for w, rows in mine.groupby("window")}


def test_market_holds_the_dead_before_their_death_and_never_after(run, market):
    held = _held(run["tournament_weights"], "market")
    windows = run["tournament_windows"].set_index("window")
    for window, symbols in held.items():
        train_end = windows.loc[window, "train_end"]
        for symbol, death in DEATHS.items():
            assert (symbol in symbols) == (train_end <= death), (window, symbol)
    assert any(DIES_LATER in s for s in held.values())  # it was in the market, then gone


def test_a_late_listing_is_never_held_before_it_has_the_history(run, market):
    windows = run["tournament_windows"].set_index("window")
    for engine in ("market", "min_variance"):
        for window, symbols in _held(run["tournament_weights"], engine).items():
            train_end = windows.loc[window, "train_end"]
            history = market.loc[:train_end, LATE].notna().sum()
            if LATE in symbols:
                assert history >= RUN["min_history"] + 1
    first = min(w for w, s in _held(run["tournament_weights"], "market").items() if LATE in s)
    assert market.loc[: windows.loc[first - 1, "train_end"], LATE].notna().sum() < 253


def test_deleting_every_price_after_a_training_end_changes_nothing_before(run, market, tmp_path):
    k = 4
    train_end = run["tournament_windows"].set_index("window").loc[k, "train_end"]
    gone = market.copy()
    gone.loc[gone.index > train_end] = np.nan  # everyone delists after window k's training
    gone["NEW"] = np.nan  # a listing afterwards keeps the calendar going
    gone.loc[gone.index > train_end, "NEW"] = np.linspace(10, 20, (gone.index > train_end).sum())
    again = _run(tmp_path, gone)
    for name in ("tournament_weights", "tournament_guard", "tournament_vetoes"):
        before = run[name].query("window <= @k").reset_index(drop=True)
        after = again[name].query("window <= @k").reset_index(drop=True)
        pd.testing.assert_frame_equal(before, after, check_exact=True)
    assert len(run["tournament_weights"].query("window <= @k")) > 0
