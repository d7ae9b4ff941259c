from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagster_defs.instance import contiguous_ranges, dagster_instance
from lakehouse import InvalidRunId, validate_run_id
from quant_assets.settings import Settings
from quant_sdk import QuantSDK


def test_contiguous_ranges():
    order = ["A", "B", "C", "D", "E"]
    assert contiguous_ranges(["B", "C", "E"], order) == [("B", "C"), ("E", "E")]
    assert contiguous_ranges(order, order) == [("A", "E")]
    assert contiguous_ranges([], order) == []


def test_hydrate_new_run_load_query_prices(dagster_env: Path):
    sdk = QuantSDK()
    stored = sdk.hydrate(symbols=["KO", "PG", "MSFT"])
    assert stored["symbol"].tolist() == ["KO", "MSFT", "PG"]
    assert (stored["rows"] == 8313).all()
    with dagster_instance() as instance:
        assert list(instance.get_dynamic_partitions("symbols")) == ["KO", "PG", "MSFT"]
        runs = instance.get_runs(dg.RunsFilter(job_name="hydrate"))
        assert len(runs) == 1  # three symbols, one run
    sdk.hydrate(symbols=["KO", "PG"])  # idempotent
    assert sdk.prices().shape == (8313, 3)
    assert sdk.prices(["KO"]).columns.tolist() == ["KO"]

    run_id = sdk.new_run("canary", start_date=date(2019, 1, 1), min_history=252)
    validate_run_id(run_id)
    with dagster_instance() as instance:
        assert instance.has_dynamic_partition("run_id", run_id)
    leaderboard = sdk.run(run_id=run_id)
    assert leaderboard.equals(sdk.load("leaderboard", run_id))
    assert set(leaderboard["engine"]) == set(Settings.for_profile("canary").engines)
    universe = sdk.load("universe", run_id)
    assert isinstance(universe, pd.DataFrame) and universe["eligible"].all()
    assert sdk.load("run_manifest", run_id)["profile"] == "canary"
    counts = sdk.query("SELECT run_id, count(*) AS n FROM features GROUP BY run_id")
    assert counts["run_id"].tolist() == [run_id]
    with pytest.raises(InvalidRunId):
        sdk.load("features", "../market_data")
    with pytest.raises(InvalidRunId):
        sdk.run(run_id="latest")
