import numpy as np
import pandas as pd
import pytest

from quant_assets.metrics import drawdowns, wealth
from quant_assets.tearsheet import TearsheetInputs
from quant_assets.tearsheet.analytics import (
    ALL_STRATEGIES,
    OTHER_HOLDINGS,
    YEAR_COLUMN,
    cost_summary,
    holdings_over_time,
    monthly_returns,
    regime_counts,
    regime_spans,
    returns_wide,
    selection_frequency,
    veto_counts,
)
from quant_assets.tournament.reporting import strategy_name


@pytest.fixture(scope="module")
def wide(canary_inputs: TearsheetInputs) -> pd.DataFrame:
    return returns_wide(canary_inputs.tournament_returns)


def test_returns_wide_holds_every_long_row(canary_inputs: TearsheetInputs, wide: pd.DataFrame):
    long = canary_inputs.tournament_returns
    assert wide.shape == (long["date"].nunique(), len(canary_inputs.leaderboard))
    assert wide.index.is_monotonic_increasing
    for row in long.sample(50, random_state=0).itertuples(index=False):
        assert wide.loc[row.date, strategy_name(row.profile, row.engine)] == row.net_return
    assert returns_wide(long.iloc[:0]).empty


def test_wealth_and_drawdowns_agree_with_the_leaderboard(
    canary_inputs: TearsheetInputs, wide: pd.DataFrame
):
    growth = wealth(wide)
    falls = drawdowns(wide)
    for row in canary_inputs.leaderboard.itertuples(index=False):
        name = strategy_name(row.profile, row.engine)
        years = row.days / 252
        assert growth[name].iloc[-1] ** (1 / years) - 1 == pytest.approx(row.annual_return)
        assert falls[name].min() == pytest.approx(row.max_drawdown)
    assert (falls <= 0).all().all()


def test_monthly_returns_compound_to_the_year_and_the_total(wide: pd.DataFrame):
    daily = wide.iloc[:, 0].dropna()
    table = monthly_returns(daily)
    assert list(table.columns) == [*range(1, 13), YEAR_COLUMN]
    assert list(table.index) == sorted(set(daily.index.year))
    months = table.drop(columns=[YEAR_COLUMN])
    from_months = (1 + months.fillna(0)).prod(axis=1) - 1
    np.testing.assert_allclose(from_months, table[YEAR_COLUMN], rtol=1e-10)
    assert (1 + table[YEAR_COLUMN]).prod() == pytest.approx((1 + daily).prod(), rel=1e-10)
    first = daily.index[0]
    first_month = daily[(daily.index.year == first.year) & (daily.index.month == first.month)]
    assert table.loc[first.year, first.month] == pytest.approx((1 + first_month).prod() - 1)
    last = daily.index[-1]
    assert last.month < 12  # the canary ends in October 2022: no return after it
    assert np.isnan(table.loc[last.year, last.month + 1])
    assert monthly_returns(daily.iloc[:0]).empty


def test_holdings_over_time_sum_to_each_window_total(canary_inputs: TearsheetInputs):
    best = canary_inputs.leaderboard.iloc[0]
    weights = canary_inputs.tournament_weights
    windows = canary_inputs.tournament_windows
    top = 3
    holdings = holdings_over_time(weights, windows, best["profile"], best["engine"], top)
    assert len(holdings) == (windows["profile"] == best["profile"]).sum()
    assert list(holdings.index) == list(pd.DatetimeIndex(windows["test_start"]))
    assert holdings.columns[-1] == OTHER_HOLDINGS and len(holdings.columns) == top + 1
    mine = weights[(weights["profile"] == best["profile"]) & (weights["engine"] == best["engine"])]
    totals = mine.groupby("window")["weight"].sum().reindex(windows["window"], fill_value=0.0)
    np.testing.assert_allclose(holdings.sum(axis=1).to_numpy(), totals.to_numpy(), atol=1e-12)
    means = mine.pivot_table(index="window", columns="symbol", values="weight", fill_value=0.0)
    means = means.reindex(windows["window"], fill_value=0.0).mean()
    assert set(holdings.columns[:top]) == set(means.nlargest(top).index)


def test_selection_frequency_counts_windows_held(canary_inputs: TearsheetInputs):
    weights = canary_inputs.tournament_weights
    frequency = selection_frequency(weights)
    held = weights[weights["weight"] > 0]
    symbol = frequency.index[0]
    mine = held[held["symbol"] == symbol]
    assert frequency.loc[symbol, "windows_held"] == len(
        mine[["profile", "engine", "window"]].drop_duplicates()
    )
    strategies = held[["profile", "engine", "window"]].drop_duplicates()
    assert frequency.loc[symbol, ALL_STRATEGIES] == pytest.approx(
        frequency.loc[symbol, "windows_held"] / len(strategies)
    )
    assert frequency[ALL_STRATEGIES].is_monotonic_decreasing
    shares = frequency.drop(columns=[ALL_STRATEGIES, "windows_held"])
    assert ((shares >= 0) & (shares <= 1)).all().all()
    # The market engine holds every eligible symbol in every window.
    assert shares["canary/market"].max() == 1.0
    assert selection_frequency(weights.iloc[:0]).empty


def test_cost_summary_agrees_with_the_leaderboard(canary_inputs: TearsheetInputs):
    board = canary_inputs.leaderboard
    costs = cost_summary(canary_inputs.tournament_window_results, board)
    assert list(zip(costs["profile"], costs["engine"], strict=True)) == list(
        zip(board["profile"], board["engine"], strict=True)
    )
    np.testing.assert_allclose(costs["net_annual_return"], board["annual_return"], rtol=1e-9)
    np.testing.assert_allclose(costs["cost_drag"], board["cost_drag"], rtol=1e-12)
    np.testing.assert_allclose(costs["avg_turnover"], board["avg_turnover"], rtol=1e-12)
    assert (costs["return_lost"] > 0).all()  # every strategy paid something


def test_regime_spans_and_counts(canary_inputs: TearsheetInputs):
    regimes = canary_inputs.regimes
    spans = regime_spans(regimes)
    assert spans["days"].sum() == len(regimes)
    assert (spans["label"].to_numpy()[1:] != spans["label"].to_numpy()[:-1]).all()
    assert spans["start"].iloc[0] == regimes["date"].min()
    assert spans["end"].iloc[-1] == regimes["date"].max()
    counts = regime_counts(regimes)
    assert counts["share"].sum() == pytest.approx(1.0)
    expected = regimes["label"].value_counts()
    assert dict(zip(counts["label"], counts["days"], strict=True)) == expected.to_dict()
    assert regime_spans(regimes.iloc[:0]).empty


def test_veto_counts_group_by_reason():
    vetoes = pd.DataFrame(
        {
            "window": [1, 2, 3],
            "train_end": pd.to_datetime(["2020-01-02", "2020-02-03", "2020-03-02"]),
            "profile": ["p", "p", "p"],
            "engine": ["max_sharpe", "max_sharpe", "min_variance"],
            "vetoed_engine": ["max_sharpe", "max_sharpe", "min_variance"],
            "reason": ["no positive return", "no positive return", "ill-conditioned"],
        }
    )
    counts = veto_counts(vetoes)
    assert counts["vetoes"].tolist() == [2, 1]
    assert counts["engine"].tolist() == ["max_sharpe", "min_variance"]
    assert veto_counts(vetoes.iloc[:0]).empty
