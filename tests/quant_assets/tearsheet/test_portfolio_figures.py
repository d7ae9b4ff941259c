import io

import pandas as pd
from PIL import Image

from quant_assets.tearsheet import TearsheetInputs
from quant_assets.tearsheet.analytics import (
    cost_summary,
    holdings_over_time,
    returns_wide,
    selection_frequency,
)
from quant_assets.tearsheet.figures import DPI, WIDE, strategy_colors
from quant_assets.tearsheet.portfolio_figures import (
    SELECTION_CHART_SYMBOLS,
    holdings_area_png,
    regime_timeline_png,
    selection_frequency_png,
    turnover_and_cost_png,
)


def _size(png: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.size


def test_portfolio_figures_render(canary_inputs: TearsheetInputs):
    inputs = canary_inputs
    best = inputs.leaderboard.iloc[0]
    holdings = holdings_over_time(
        inputs.tournament_weights, inputs.tournament_windows, best["profile"], best["engine"], 5
    )
    end = pd.Timestamp(inputs.tournament_windows["test_end"].max())
    costs = cost_summary(inputs.tournament_window_results, inputs.leaderboard)
    colors = strategy_colors(list(returns_wide(inputs.tournament_returns).columns))
    figures = [
        holdings_area_png(holdings, end, "weights"),
        turnover_and_cost_png(costs, inputs.tournament_window_results, colors),
        regime_timeline_png(inputs.regimes),
        selection_frequency_png(selection_frequency(inputs.tournament_weights)),
    ]
    for png in figures:
        width, height = _size(png)
        assert width == int(WIDE * DPI) and height > 100


def test_holdings_figure_of_an_empty_strategy():
    empty = pd.DataFrame(index=pd.DatetimeIndex([], name="test_start"))
    width, _ = _size(holdings_area_png(empty, None, "nothing held"))
    assert width == int(WIDE * DPI)


def test_the_selection_chart_of_thousands_of_symbols_shows_the_most_held():
    symbols = [f"S{i:04d}" for i in range(3000)]
    shares = [1.0 - i / 3000 for i in range(3000)]  # sorted, most held first
    frequency = pd.DataFrame({"all": shares}, index=pd.Index(symbols, name="symbol"))
    few = frequency.head(SELECTION_CHART_SYMBOLS)
    assert _size(selection_frequency_png(frequency)) == _size(selection_frequency_png(few))
    assert _size(selection_frequency_png(few.head(5)))[1] < _size(selection_frequency_png(few))[1]
