"""The one metrics module against quantstats, on real returns of the bundled stocks."""

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from quant_assets.metrics import (
    PERFORMANCE_METRICS,
    annualised,
    daily_rate,
    drawdowns,
    per_year,
    performance,
    rolling_sharpe,
    wealth,
)

WINDOW = 126


@pytest.fixture(scope="module")
def daily(bundled_closes: pd.DataFrame) -> pd.DataFrame:
    """Daily returns of four real stocks and their equal-weight mix, 2005-2012 (2008 included)."""
    closes = bundled_closes.loc["2005-01-01":"2012-12-31", ["AAPL", "XOM", "KO", "JNJ"]]
    returns = closes.pct_change().iloc[1:]
    returns["mix"] = returns.mean(axis=1)
    return returns


def test_performance_equals_quantstats(daily: pd.DataFrame):
    for name in daily.columns:
        series = daily[name]
        mine = performance(series.to_numpy())
        assert mine["annual_return"] == pytest.approx(qs.stats.cagr(series), rel=1e-9)
        assert mine["annual_volatility"] == pytest.approx(qs.stats.volatility(series), rel=1e-9)
        assert mine["sharpe"] == pytest.approx(qs.stats.sharpe(series), rel=1e-9)
        assert mine["sortino"] == pytest.approx(qs.stats.sortino(series), rel=1e-9)
        assert mine["max_drawdown"] == pytest.approx(qs.stats.max_drawdown(series), rel=1e-9)
        assert mine["calmar"] == pytest.approx(qs.stats.calmar(series), rel=1e-9)
        assert mine["max_drawdown"] < -0.2  # 2008 is in the sample: a real test of drawdowns


def test_risk_free_rate_is_subtracted_as_quantstats_does(daily: pd.DataFrame):
    series = daily["mix"]
    annual = 0.03
    mine = performance(series.to_numpy(), daily_rate(annual))
    # quantstats turns an annual rate into a daily one by compounding, we divide by 252: give it
    # the annual rate that compounds to our daily one.
    compounded = (1 + daily_rate(annual)) ** 252 - 1
    assert mine["sharpe"] == pytest.approx(qs.stats.sharpe(series, rf=compounded), rel=1e-9)
    assert mine["sortino"] == pytest.approx(qs.stats.sortino(series, rf=compounded), rel=1e-9)
    assert mine["sharpe"] < performance(series.to_numpy())["sharpe"]


def test_rolling_sharpe_equals_quantstats(daily: pd.DataFrame):
    mine = rolling_sharpe(daily, WINDOW)
    for name in daily.columns:
        theirs = qs.stats.rolling_sharpe(daily[name], rolling_period=WINDOW)
        both = pd.concat([mine[name], theirs], axis=1).dropna()
        assert len(both) == len(daily) - WINDOW + 1
        np.testing.assert_allclose(both.iloc[:, 0], both.iloc[:, 1], rtol=1e-9)
    assert mine.iloc[: WINDOW - 1].isna().all().all()


def test_wealth_and_drawdowns_on_frames_and_arrays_agree(daily: pd.DataFrame):
    gappy = daily.copy()
    gappy.iloc[10:20, 0] = np.nan  # a NaN return is a flat day
    np.testing.assert_allclose(wealth(gappy).to_numpy(), wealth(gappy.to_numpy()), rtol=1e-12)
    np.testing.assert_allclose(drawdowns(gappy).to_numpy(), drawdowns(gappy.to_numpy()), rtol=1e-12)
    assert (wealth(gappy).iloc[9:20, 0].diff().iloc[1:] == 0).all()
    assert drawdowns(daily)["mix"].min() == pytest.approx(
        performance(daily["mix"].to_numpy())["max_drawdown"]
    )


def test_known_series_and_edge_cases():
    steady = performance(np.full(252, 0.001))
    assert steady["annual_return"] == pytest.approx(1.001**252 - 1)
    assert steady["max_drawdown"] == 0.0 and np.isnan(steady["calmar"])
    assert np.isnan(steady["sharpe"]) and np.isnan(steady["sortino"])  # no deviation, no downside
    crash = performance(np.array([-0.5, 0.1]))
    assert crash["max_drawdown"] == pytest.approx(-0.5)  # the peak is the initial capital
    empty = performance(np.array([]))
    assert list(empty) == list(PERFORMANCE_METRICS) and all(np.isnan(v) for v in empty.values())
    assert annualised(1.21, 504) == pytest.approx(0.1)
    assert per_year(0.02, 504) == pytest.approx(0.01)
    assert np.isnan(annualised(1.0, 0)) and np.isnan(per_year(1.0, 0))
