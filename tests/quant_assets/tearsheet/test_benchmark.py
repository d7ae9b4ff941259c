import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from quant_assets.calendar import TRADING_DAYS_PER_YEAR
from quant_assets.tearsheet import TearsheetInputs
from quant_assets.tearsheet.analytics import returns_wide
from quant_assets.tearsheet.benchmark import (
    BENCHMARK_METRIC_COLUMNS,
    BENCHMARK_NAME,
    align_returns,
    benchmark_closes,
    benchmark_metrics,
    benchmark_returns,
    relative_leaderboard,
)
from quant_assets.tournament.reporting import strategy_name

YEARS_PAST_THE_INDEX = pd.DateOffset(years=30)


@pytest.fixture(scope="module")
def wide(canary_inputs: TearsheetInputs) -> pd.DataFrame:
    return returns_wide(canary_inputs.tournament_returns)


@pytest.fixture(scope="module")
def index_returns() -> pd.Series:
    return benchmark_returns()


def test_benchmark_closes_are_the_bundled_index():
    closes = benchmark_closes()
    assert closes.name == BENCHMARK_NAME
    assert isinstance(closes.index, pd.DatetimeIndex)
    assert closes.index.is_monotonic_increasing and not closes.index.has_duplicates
    assert closes.index[0] == pd.Timestamp("1990-01-02")
    assert closes.index[-1] == pd.Timestamp("2022-12-28")
    assert closes.notna().all() and (closes > 0).all()
    closes.iloc[0] = -1.0  # a copy: the cached series is untouched
    assert benchmark_closes().iloc[0] > 0


def test_benchmark_returns_are_close_to_close():
    closes = benchmark_closes()
    daily = benchmark_returns()
    assert len(daily) == len(closes) - 1
    day = daily.index[100]
    previous = closes.index[closes.index.get_loc(day) - 1]
    assert daily[day] == pytest.approx(closes[day] / closes[previous] - 1.0, rel=1e-12)


def test_reading_the_index_does_not_import_skfolio_datasets():
    code = (
        "import sys\n"
        "from quant_assets.tearsheet.benchmark import benchmark_closes\n"
        "benchmark_closes()\n"
        "assert 'skfolio.datasets' not in sys.modules, 'skfolio.datasets was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_align_returns_keeps_common_non_missing_dates():
    dates = pd.date_range("2020-01-01", periods=5, freq="B")
    strategy = pd.Series([0.01, np.nan, 0.03, 0.04, 0.05], index=dates)
    benchmark = pd.Series([0.1, 0.2, 0.3], index=dates[[0, 1, 3]])
    mine, theirs = align_returns(strategy, benchmark)
    assert mine.tolist() == [0.01, 0.04]
    assert theirs.tolist() == [0.1, 0.3]


def test_metrics_match_quantstats_and_numpy(wide: pd.DataFrame, index_returns: pd.Series):
    for name in wide.columns:
        metrics = benchmark_metrics(wide[name], index_returns)
        mine, theirs = align_returns(wide[name], index_returns)
        # quantstats rebuilds a benchmark given on another calendar from prices (its first
        # return becomes 0), so both series go to it on the same dates.
        index = wide[name].dropna().index.intersection(index_returns.index)
        strategy = pd.Series(mine, index=index)
        benchmark = pd.Series(theirs, index=index)
        assert metrics["benchmark_days"] == len(index) > 1000
        assert metrics["beta"] == pytest.approx(qs.stats.greeks(strategy, benchmark)["beta"])
        # quantstats' information ratio is per day: mean(active) / std(active), not annualised.
        assert metrics["information_ratio"] == pytest.approx(
            qs.stats.information_ratio(strategy, benchmark) * np.sqrt(TRADING_DAYS_PER_YEAR)
        )
        excess = qs.stats.cagr(strategy) - qs.stats.cagr(benchmark)
        assert metrics["excess_annual_return"] == pytest.approx(excess, abs=1e-12)
        assert metrics["benchmark_annual_return"] == pytest.approx(qs.stats.cagr(benchmark))
        active = mine - theirs
        assert metrics["tracking_error"] == pytest.approx(
            np.sqrt(
                np.sum((active - active.mean()) ** 2) / (len(active) - 1) * TRADING_DAYS_PER_YEAR
            )
        )
        slope = np.polyfit(theirs, mine, 1)[0]  # least squares slope = beta
        assert metrics["beta"] == pytest.approx(slope)


def test_leaderboard_sharpe_and_volatility_match_quantstats(
    canary_inputs: TearsheetInputs, wide: pd.DataFrame
):
    for row in canary_inputs.leaderboard.itertuples(index=False):
        daily = wide[strategy_name(row.profile, row.engine)].dropna()
        assert row.sharpe == pytest.approx(qs.stats.sharpe(daily), rel=1e-9)
        assert row.annual_volatility == pytest.approx(qs.stats.volatility(daily), rel=1e-9)
        assert row.annual_return == pytest.approx(qs.stats.cagr(daily), rel=1e-9)
        assert row.max_drawdown == pytest.approx(qs.stats.max_drawdown(daily), rel=1e-9)


def test_metrics_of_the_index_against_itself(index_returns: pd.Series):
    metrics = benchmark_metrics(index_returns, index_returns)
    assert metrics["beta"] == pytest.approx(1.0)
    assert metrics["excess_annual_return"] == 0.0
    assert metrics["tracking_error"] == 0.0
    assert np.isnan(metrics["information_ratio"])  # constant active return
    levered = benchmark_metrics(2.0 * index_returns, index_returns)
    assert levered["beta"] == pytest.approx(2.0)


def test_metrics_are_nan_without_overlap(wide: pd.DataFrame, index_returns: pd.Series):
    future = wide.iloc[:, 0].copy()
    future.index = future.index + YEARS_PAST_THE_INDEX
    metrics = benchmark_metrics(future, index_returns)
    assert set(metrics) == set(BENCHMARK_METRIC_COLUMNS)
    assert metrics["benchmark_days"] == 0
    assert all(np.isnan(metrics[k]) for k in BENCHMARK_METRIC_COLUMNS if k != "benchmark_days")
    one_day = benchmark_metrics(index_returns.iloc[:1], index_returns)
    assert one_day["benchmark_days"] == 1 and np.isnan(one_day["beta"])


def test_relative_leaderboard_adds_the_metrics_per_row(
    canary_inputs: TearsheetInputs, wide: pd.DataFrame, index_returns: pd.Series
):
    stored = canary_inputs.leaderboard  # the run's asset already carries the metrics
    board = stored.drop(columns=list(BENCHMARK_METRIC_COLUMNS))
    relative = relative_leaderboard(board, wide, index_returns)
    assert list(relative.columns) == [*board.columns, *BENCHMARK_METRIC_COLUMNS]
    pd.testing.assert_frame_equal(relative[list(stored.columns)], stored)  # the asset's values
    pd.testing.assert_frame_equal(relative[list(board.columns)], board)
    for position, row in relative.iterrows():
        name = strategy_name(row["profile"], row["engine"])
        expected = benchmark_metrics(wide[name], index_returns)
        for key, value in expected.items():
            assert relative.loc[position, key] == pytest.approx(value, nan_ok=True)
    assert relative["benchmark_days"].dtype == "int64"


def test_relative_leaderboard_is_nan_for_synthetic_dates(
    canary_inputs: TearsheetInputs, wide: pd.DataFrame, index_returns: pd.Series
):
    future = wide.copy()
    future.index = future.index + YEARS_PAST_THE_INDEX
    relative = relative_leaderboard(canary_inputs.leaderboard, future, index_returns)
    assert (relative["benchmark_days"] == 0).all()
    assert relative[list(BENCHMARK_METRIC_COLUMNS[1:])].isna().all().all()
