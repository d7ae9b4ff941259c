import base64
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from quant_assets.tearsheet import TearsheetInputs
from quant_assets.tearsheet.analytics import monthly_returns, returns_wide, rolling_sharpe
from quant_assets.tearsheet.benchmark import benchmark_returns
from quant_assets.tearsheet.figures import (
    DPI,
    WIDE,
    equity_and_drawdown_png,
    img_tag,
    monthly_heatmap_png,
    rolling_sharpe_png,
    strategy_colors,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def wide(canary_inputs: TearsheetInputs) -> pd.DataFrame:
    return returns_wide(canary_inputs.tournament_returns)


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _distinct_colors(png: bytes) -> int:
    return len(np.unique(np.asarray(_image(png).convert("RGB")).reshape(-1, 3), axis=0))


def test_equity_figure_with_and_without_benchmark(wide: pd.DataFrame):
    colors = strategy_colors(list(wide.columns))
    benchmark = benchmark_returns().reindex(wide.index)
    with_index = equity_and_drawdown_png(wide, benchmark, colors, "t")
    without = equity_and_drawdown_png(wide, None, colors, "t")
    assert _image(with_index).width == int(WIDE * DPI)
    assert with_index != without
    assert _distinct_colors(with_index) > 20  # lines were drawn, not a blank canvas
    assert b"matplotlib" not in with_index  # no Software metadata


def test_monthly_heatmap_and_rolling_sharpe(wide: pd.DataFrame):
    heatmap = monthly_heatmap_png(monthly_returns(wide.iloc[:, 0]), "monthly")
    assert _image(heatmap).height > 100 and _distinct_colors(heatmap) > 20
    sharpe = rolling_sharpe(wide, 126)
    png = rolling_sharpe_png(sharpe, None, strategy_colors(list(wide.columns)), "rolling")
    assert _image(png).width == int(WIDE * DPI)


def test_img_tag_is_an_inline_data_uri():
    png = b"\x89PNG fake"
    tag = img_tag(png, 'a "quoted" <alt>')
    source = tag.split('src="', 1)[1].split('"', 1)[0]
    assert source.startswith("data:image/png;base64,")
    assert base64.b64decode(source.split(",", 1)[1]) == png
    assert 'alt="a &quot;quoted&quot; &lt;alt&gt;"' in tag


def test_strategy_colors_are_stable_and_distinct():
    names = [f"p/e{i}" for i in range(5)]
    colors = strategy_colors(names)
    assert colors == strategy_colors(names)
    assert len(set(colors.values())) == len(names)
