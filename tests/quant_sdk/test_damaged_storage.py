"""Damaged storage is contained and repairable: doctor, repair, runs that never touch it."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from quant_assets.hydration import BundledSource
from quant_assets.settings import Settings
from quant_sdk import QuantSDK
from tests.lakehouse.damage import cut_in_half

SYMBOLS = ["KO", "MSFT", "PG", "XOM"]
FAST = {"start_date": date(2019, 1, 1), "min_history": 252}


@pytest.fixture
def sdk(dagster_env: Path) -> QuantSDK:
    sdk = QuantSDK(settings=Settings(data_root=dagster_env / "lakehouse"))
    sdk.hydrate(symbols=SYMBOLS)
    return sdk


def test_doctor_finds_cut_and_overwritten_files_and_repair_restores_them(sdk: QuantSDK):
    assert sdk.verify().empty
    cut = sdk.store.symbol_path("KO")
    cut_in_half(cut)
    overwritten = sdk.store.symbol_path("PG")  # e.g. by a COPY ... TO, or by hand
    pd.DataFrame({"date": [pd.Timestamp("2020-01-02")], "close": [1.0]}).to_parquet(overwritten)
    findings = sdk.verify().set_index("partition")
    assert sorted(findings.index) == ["symbol=KO", "symbol=PG"]
    assert "checksum" in findings.loc["symbol=PG", "problem"]
    assert findings.loc["symbol=KO", "repair"] == "move aside; re-hydrate KO in full"

    repaired = sdk.verify(repair=True)
    assert repaired["repaired"].all()
    assert sdk.verify().empty
    moved = sorted((sdk.store.root / "_damaged" / "market_data").rglob("*.parquet"))
    assert len(moved) == 2  # nothing deleted
    for symbol in ("KO", "PG"):
        stored = sdk.store.read_frame(sdk.store.symbol_dir(symbol))
        pd.testing.assert_frame_equal(stored, BundledSource().fetch(symbol), check_freq=False)


def test_a_damaged_contract_breaking_run_asset_is_reported_with_how_to_rerun_it(sdk: QuantSDK):
    run_id = sdk.new_run("canary", **FAST)
    sdk.run(run_id=run_id)
    folder = sdk.store.run_dir("selections", run_id)
    table = sdk.store.read_frame(folder)
    sdk.store.write_frame(table.drop(columns=["score"]), folder)  # checksum fine, contract not
    (finding,) = sdk.verify().itertuples()
    assert finding.asset == "selections" and "SelectionsContract" in finding.problem
    assert finding.repair == f"move aside; re-run with `quant run --run-id {run_id}`"


def test_stored_bars_that_break_their_contract_are_found_among_good_ones(sdk: QuantSDK):
    folder = sdk.store.symbol_dir("XOM")
    bars = sdk.store.read_frame(folder)
    bars.loc[10, "close"] = -1.0  # written by the store: checksum fine, contract not
    sdk.store.write_frame(bars, folder)
    (finding,) = sdk.verify().itertuples()
    assert finding.partition == "symbol=XOM" and "MarketDataContract" in finding.problem
    assert finding.repair == "move aside; re-hydrate XOM in full"


def test_a_broken_old_run_or_symbol_never_stops_new_work(sdk: QuantSDK):
    old = sdk.new_run("canary", **FAST)
    sdk.run(run_id=old)
    cut_in_half(sdk.store.run_dir("features", old) / "part-0.parquet")
    cut_in_half(sdk.store.symbol_path("XOM"))
    assert sdk.query("SELECT 1 AS one")["one"].tolist() == [1]
    new = sdk.new_run("canary", **FAST)
    leaderboard = sdk.run(run_id=new)  # XOM left out, the rest run
    assert sorted(leaderboard["engine"]) == sorted(Settings().engines)
    assert leaderboard["sharpe"].notna().all()
    held = sdk.query("SELECT DISTINCT symbol FROM closes WHERE run_id = ?", [new])["symbol"]
    assert sorted(held) == sorted(set(SYMBOLS) - {"XOM"})
    counts = sdk.query("SELECT run_id, count(*) AS n FROM features GROUP BY run_id")
    assert old not in set(counts["run_id"])  # the damaged partition is skipped, not fatal
    assert new in set(counts["run_id"])
    status = sdk.stale_symbols().set_index("symbol")["status"]
    assert status["XOM"] == "new"  # a damaged file counts as not stored
    assert (status[sorted(set(SYMBOLS) - {"XOM"})] == "fresh").all()

    report = sdk.hydrate(symbols=["XOM"], full=True)  # moves the damaged file aside, re-fetches
    assert report.set_index("symbol").loc["XOM", "rows"] == len(BundledSource().fetch("XOM"))
    assert any((sdk.store.root / "_damaged" / "market_data" / "symbol=XOM").iterdir())
