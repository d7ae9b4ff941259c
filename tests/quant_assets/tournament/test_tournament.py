"""The walk-forward tournament on real bundled prices: no look-ahead, holding, costs, metrics."""

import threading

import numpy as np
import pandas as pd
import pytest

from quant_assets.settings import Settings
from quant_assets.tournament import run_tournament
from quant_sdk import QuantSDK
from tests.conftest import SMALL_SYMBOLS

ENGINES = ["equal_weight", "inverse_volatility", "min_variance", "max_sharpe", "hrp", "market"]


def canary(**overrides) -> Settings:
    base = {"executor": "serial", "train": 252, "test": 63, "top_n": 4}
    return Settings.for_profile("canary", **{**base, **overrides})


@pytest.fixture(scope="module")
def prices(bundled_closes: pd.DataFrame) -> pd.DataFrame:
    return bundled_closes.loc["2015":"2019"]


def test_no_look_ahead(prices: pd.DataFrame):
    settings = canary(engines=ENGINES)
    solo = run_tournament(prices, {"p": settings})
    k = 3
    train_end = solo.windows.loc[k, "train_end"]
    shocked = prices.copy()
    rng = np.random.default_rng(0)
    after = shocked.index > train_end
    shocked.loc[after] *= rng.uniform(0.5, 1.5, size=(after.sum(), shocked.shape[1]))
    again = run_tournament(shocked, {"p": settings})
    for frame in ("weights", "guard"):
        before = getattr(solo, frame).query("window <= @k")
        pd.testing.assert_frame_equal(before, getattr(again, frame).query("window <= @k"))
    later_before = solo.weights.query("window > @k")["weight"].to_numpy()
    later_after = again.weights.query("window > @k")["weight"]
    assert len(later_before) != len(later_after) or not np.allclose(later_before, later_after)


def test_uses_exactly_the_prices_handed_in(bundled_closes: pd.DataFrame):
    prices = bundled_closes.loc["2012":"2014", SMALL_SYMBOLS]  # canary's start_date is 2016
    result = run_tournament(prices, {"canary": canary(selection="all")})
    assert result.windows["train_start"].iloc[0] == prices.index[1]
    assert set(result.weights["symbol"]) == set(SMALL_SYMBOLS)
    assert result.returns.index.max() <= prices.index.max()


def test_result_tables(prices: pd.DataFrame):
    settings = canary(engines=ENGINES)
    result = run_tournament(prices, {"p": settings})
    assert list(result.returns.columns) == [f"p/{e}" for e in ENGINES]
    assert result.returns.index.equals(
        pd.DatetimeIndex(
            sorted(
                d
                for w in result.windows.itertuples()
                for d in prices.index[(prices.index >= w.test_start) & (prices.index <= w.test_end)]
            ),
            name="date",
        )
    )
    assert list(result.weights.columns) == [
        "window",
        "train_end",
        "profile",
        "engine",
        "symbol",
        "weight",
    ]
    sums = result.weights.groupby(["window", "engine"])["weight"].sum()
    assert np.allclose(sums, 1.0, atol=1e-12)
    held = result.weights.groupby(["window", "engine"]).size().unstack()
    assert (held.drop(columns="market") <= settings.top_n).all().all()
    assert (held["market"] == prices.shape[1]).all()  # the whole eligible universe
    board = result.leaderboard
    assert sorted(board["engine"]) == sorted(ENGINES)
    assert board["sharpe"].is_monotonic_decreasing and list(board["rank"]) == list(range(1, 7))
    assert set(result.vetoes.columns) >= {"window", "engine", "vetoed_engine", "reason"}
    assert len(result.window_results) == len(result.windows) * len(ENGINES)


def test_drift_false_rebalances_every_day_and_costs_turnover(prices: pd.DataFrame):
    settings = canary(engines=["min_variance"], drift=False, cost_bps=0.0, selection="all")
    free = run_tournament(prices, {"p": settings})
    daily = prices.pct_change()
    first = free.windows.iloc[0]
    weights = free.weights.query("window == 0").set_index("symbol")["weight"]
    span = daily.loc[first.test_start : first.test_end, weights.index]
    np.testing.assert_allclose(
        free.returns["p/min_variance"].loc[span.index].to_numpy(),
        span.to_numpy() @ weights.to_numpy(),
        rtol=0,
        atol=1e-15,
    )
    costly = run_tournament(prices, {"p": settings.clone(cost_bps=10.0)})
    results = costly.window_results
    # The first rebalance buys from cash: its turnover is at least the whole budget.
    assert results["turnover"].iloc[0] >= 1.0
    np.testing.assert_allclose(results["cost"], results["turnover"] * 10e-4, rtol=1e-12)
    drag = free.returns["p/min_variance"] - costly.returns["p/min_variance"]
    assert drag.sum() == pytest.approx(results["cost"].sum(), rel=1e-12)


def test_drifting_weights_follow_prices(prices: pd.DataFrame):
    settings = canary(engines=["equal_weight"], cost_bps=0.0, selection="all", drift=True)
    result = run_tournament(prices, {"p": settings})
    first = result.windows.iloc[0]
    window_prices = prices.loc[: first.test_end]
    start = window_prices.index.get_loc(first.train_end)
    span = window_prices.iloc[start:]
    weights = result.weights.query("window == 0").set_index("symbol")["weight"]
    value = (span[weights.index] / span[weights.index].iloc[0]) @ weights  # buy and hold
    expected = value.pct_change().iloc[1:]
    np.testing.assert_allclose(
        result.returns["p/equal_weight"].loc[expected.index], expected, rtol=1e-12
    )


def test_two_tournaments_in_threads_each_get_their_solo_result(prices: pd.DataFrame):
    first = {"a": canary(engines=["min_variance", "equal_weight"], top_n=3, cost_bps=0.0)}
    second = {"b": canary(engines=["hrp", "market"], top_n=6, train=126, test=21)}
    solo = [run_tournament(prices, first), run_tournament(prices, second)]
    together: dict[int, object] = {}
    threads = [
        threading.Thread(target=lambda i=i, p=p: together.__setitem__(i, run_tournament(prices, p)))
        for i, p in enumerate([first, second])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i in range(2):
        pd.testing.assert_frame_equal(together[i].leaderboard, solo[i].leaderboard)
        pd.testing.assert_frame_equal(together[i].weights, solo[i].weights)


def test_sdk_tournament_with_variants(prices: pd.DataFrame, tmp_path):
    sdk = QuantSDK(root=str(tmp_path), settings=Settings(executor="serial"))
    result = sdk.tournament(
        prices,
        profile="canary",
        variants={"canary_all": {"selection": "all"}},
        engines=["min_variance"],
        cost_bps=0,
        executor="serial",
    )
    assert list(result.returns.columns) == ["canary/min_variance", "canary_all/min_variance"]
    held = result.weights.groupby(["profile", "window"]).size().groupby("profile").max()
    assert held["canary"] == Settings.for_profile("canary").top_n
    assert held["canary_all"] == prices.shape[1]


def test_bad_prices_are_refused_with_the_reason(prices: pd.DataFrame):
    with pytest.raises(ValueError, match="indexed by date"):
        run_tournament(prices.reset_index(drop=True), {"p": canary()})
    with pytest.raises(ValueError, match="sorted and unique"):
        run_tournament(prices.iloc[::-1], {"p": canary()})
    broken = prices.copy()
    broken.iloc[3, 2] = -1.0
    with pytest.raises(ValueError, match=f"non-positive prices in \\['{broken.columns[2]}'\\]"):
        run_tournament(broken, {"p": canary()})
    with pytest.raises(ValueError, match="needs train"):
        run_tournament(prices.iloc[:100], {"p": canary()})


def test_out_of_sample_series_has_no_gaps_and_no_overlaps(prices: pd.DataFrame):
    result = run_tournament(prices, {"p": canary(engines=["equal_weight"])})
    returns = result.returns.index
    return_dates = prices.index[1:]
    first, last = return_dates.get_loc(returns[0]), return_dates.get_loc(returns[-1])
    assert returns.is_unique
    assert returns.equals(return_dates[first : last + 1])
    assert len(returns) == len(result.windows) * result.windows["test_days"].iloc[0]
