import numpy as np
import pandas as pd

from quant_assets.tearsheet import TearsheetInputs
from quant_assets.tearsheet.analytics import (
    ALL_STRATEGIES,
    cost_summary,
    holdings_over_time,
    returns_wide,
    selection_frequency,
)
from quant_assets.tearsheet.figures import strategy_colors
from quant_assets.tearsheet.portfolio_figures import (
    SELECTION_CHART_SYMBOLS,
    holdings_area_figure,
    regime_timeline_figure,
    selection_frequency_figure,
    turnover_and_cost_figure,
)


def test_holdings_area_stacks_each_symbols_weights(canary_inputs: TearsheetInputs):
    inputs = canary_inputs
    best = inputs.leaderboard.iloc[0]
    holdings = holdings_over_time(
        inputs.tournament_weights, inputs.tournament_windows, best["profile"], best["engine"], 5
    )
    end = pd.Timestamp(inputs.tournament_windows["test_end"].max())
    axes = holdings_area_figure(holdings, end, "weights").axes[0]
    assert len(axes.collections) == len(holdings.columns)  # one band per symbol (+ other)
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == list(holdings.columns)[::-1]  # top of the legend = top of the stack
    assert axes.get_ylim()[1] >= float(holdings.sum(axis=1).max())


def test_turnover_and_cost_bars_are_the_cost_summary(canary_inputs: TearsheetInputs):
    inputs = canary_inputs
    costs = cost_summary(inputs.tournament_window_results, inputs.leaderboard)
    colors = strategy_colors(list(returns_wide(inputs.tournament_returns).columns))
    turnover, drag, cumulative = turnover_and_cost_figure(
        costs, inputs.tournament_window_results, colors
    ).axes
    widths = [bar.get_width() for bar in turnover.patches]
    np.testing.assert_allclose(widths, costs["avg_turnover"].to_numpy())
    np.testing.assert_allclose(
        [bar.get_width() for bar in drag.patches], costs["cost_drag"].to_numpy() * 100.0
    )
    lines = {line.get_label(): line.get_ydata() for line in cumulative.lines}
    for row in costs.itertuples(index=False):
        final = lines[f"{row.profile}/{row.engine}"][-1]
        assert (
            final == np.float64(row.total_cost * 100.0) or abs(final - row.total_cost * 100) < 1e-9
        )


def test_regime_timeline_draws_the_market_level(canary_inputs: TearsheetInputs):
    regimes = canary_inputs.regimes.sort_values("date")
    top, bottom = regime_timeline_figure(regimes).axes
    market = top.lines[0].get_ydata()
    expected = np.exp(regimes["market_return"].fillna(0.0).cumsum().to_numpy())
    np.testing.assert_allclose(market, expected)
    labels = {text.get_text() for text in top.get_legend().get_texts()}
    assert labels == {"market", *regimes["label"].astype(str).unique()}
    np.testing.assert_allclose(
        bottom.lines[0].get_ydata(), regimes["market_volatility"].to_numpy(), equal_nan=True
    )


def test_the_selection_chart_of_thousands_of_symbols_shows_the_most_held():
    symbols = [f"S{i:04d}" for i in range(3000)]
    shares = [1.0 - i / 3000 for i in range(3000)]  # sorted, most held first
    frequency = pd.DataFrame({ALL_STRATEGIES: shares}, index=pd.Index(symbols, name="symbol"))
    axes = selection_frequency_figure(frequency).axes[0]
    bars = [bar.get_width() for bar in axes.patches]
    np.testing.assert_allclose(bars, np.array(shares[:SELECTION_CHART_SYMBOLS]) * 100.0)
    ticks = [label.get_text() for label in axes.get_yticklabels()]
    assert ticks == symbols[:SELECTION_CHART_SYMBOLS]
    assert f"{SELECTION_CHART_SYMBOLS} most held of 3,000" in axes.get_title()


def test_selection_chart_of_a_real_run(canary_inputs: TearsheetInputs):
    frequency = selection_frequency(canary_inputs.tournament_weights)
    axes = selection_frequency_figure(frequency).axes[0]
    shown = frequency.head(SELECTION_CHART_SYMBOLS)
    np.testing.assert_allclose(
        [bar.get_width() for bar in axes.patches], shown[ALL_STRATEGIES].to_numpy() * 100.0
    )


def test_holdings_figure_of_an_empty_strategy():
    empty = pd.DataFrame(index=pd.DatetimeIndex([], name="test_start"))
    axes = holdings_area_figure(empty, None, "nothing held").axes[0]
    assert len(axes.collections) == 0 and axes.get_ylim() == (0.0, 1.0)
