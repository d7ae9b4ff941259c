import base64
import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from quant_assets.metrics import drawdowns, rolling_sharpe, wealth
from quant_assets.tearsheet import TearsheetInputs
from quant_assets.tearsheet.analytics import YEAR_COLUMN, monthly_returns, returns_wide
from quant_assets.tearsheet.benchmark import BENCHMARK_NAME, benchmark_returns
from quant_assets.tearsheet.figures import (
    DPI,
    WIDE,
    equity_and_drawdown_figure,
    img_tag,
    monthly_heatmap_figure,
    png_bytes,
    png_markdown,
    rolling_sharpe_figure,
    strategy_colors,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def wide(canary_inputs: TearsheetInputs) -> pd.DataFrame:
    return returns_wide(canary_inputs.tournament_returns)


def _lines(axes) -> dict[str, np.ndarray]:
    return {str(line.get_label()): np.asarray(line.get_ydata(), dtype=float) for line in axes.lines}


def test_equity_figure_plots_each_strategys_wealth_and_drawdowns(wide: pd.DataFrame):
    colors = strategy_colors(list(wide.columns))
    benchmark = benchmark_returns().reindex(wide.index)
    figure = equity_and_drawdown_figure(wide, benchmark, colors, "t")
    top, bottom = figure.axes
    plotted = _lines(top)
    assert list(plotted) == [*wide.columns, BENCHMARK_NAME]
    for name in wide.columns:
        observed = wide[name].notna().to_numpy()
        np.testing.assert_allclose(plotted[name][observed], wealth(wide[name]).to_numpy()[observed])
        assert np.isnan(plotted[name][~observed]).all()  # no line where nothing was returned
        assert top.lines[list(plotted).index(name)].get_color() is not None
    falls = [np.asarray(line.get_ydata(), dtype=float) for line in bottom.lines]
    first = wide.columns[0]
    np.testing.assert_allclose(
        np.nan_to_num(falls[0]), np.nan_to_num(drawdowns(wide[first]).where(wide[first].notna()))
    )
    np.testing.assert_allclose(plotted[BENCHMARK_NAME], wealth(benchmark).to_numpy())
    assert top.get_yscale() == "log"
    without = equity_and_drawdown_figure(wide, None, colors, "t")
    assert list(_lines(without.axes[0])) == list(wide.columns)


def test_monthly_heatmap_shows_the_table(wide: pd.DataFrame):
    table = monthly_returns(wide.iloc[:, 0])
    figure = monthly_heatmap_figure(table, "monthly")
    shown = figure.axes[0].images[0].get_array()
    months = table.drop(columns=[YEAR_COLUMN]).to_numpy()
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), np.isnan(months))
    np.testing.assert_allclose(shown.compressed(), months[~np.isnan(months)])
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels[0] == f"{months[~np.isnan(months)][0]:.1%}"
    assert len(labels) == int((~np.isnan(months)).sum())


def test_rolling_sharpe_figure_plots_the_metric(wide: pd.DataFrame):
    sharpe = rolling_sharpe(wide, 126)
    figure = rolling_sharpe_figure(sharpe, None, strategy_colors(list(wide.columns)), "rolling")
    plotted = _lines(figure.axes[0])
    for name in wide.columns:
        np.testing.assert_allclose(plotted[name], sharpe[name].to_numpy(), equal_nan=True)


def test_png_bytes_are_a_clean_png_of_the_figure_width(wide: pd.DataFrame):
    figure = equity_and_drawdown_figure(wide, None, strategy_colors(list(wide.columns)), "t")
    png = png_bytes(figure)
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    assert image.width == int(WIDE * DPI)
    assert b"matplotlib" not in png  # no Software metadata
    assert isinstance(figure, Figure)


def test_img_tag_and_markdown_are_inline_data_uris():
    png = b"\x89PNG fake"
    tag = img_tag(png, 'a "quoted" <alt>')
    source = tag.split('src="', 1)[1].split('"', 1)[0]
    assert source.startswith("data:image/png;base64,")
    assert base64.b64decode(source.split(",", 1)[1]) == png
    assert 'alt="a &quot;quoted&quot; &lt;alt&gt;"' in tag
    markdown = png_markdown(png, "curves")
    assert markdown.startswith("![curves](data:image/png;base64,")
    assert base64.b64decode(markdown.split(",", 1)[1].rstrip(")")) == png


def test_strategy_colors_are_stable_and_distinct():
    names = [f"p/e{i}" for i in range(5)]
    colors = strategy_colors(names)
    assert colors == strategy_colors(names)
    assert len(set(colors.values())) == len(names)
