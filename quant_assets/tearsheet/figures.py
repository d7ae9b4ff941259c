"""The one figure pipeline (matplotlib figures to inline PNG) and the figures of returns.

Every figure is a :class:`matplotlib.figure.Figure` built without pyplot (no global state, safe
in threads; no backend is chosen), saved as PNG without metadata, and embedded as a ``data:`` URI
so the document needs nothing from the network: in the tear-sheet as an ``<img>`` tag
(:func:`img_tag`), in Dagster's asset metadata as Markdown (:func:`png_markdown`).

Every function named ``*_figure`` returns the :class:`~matplotlib.figure.Figure` itself (tests
read the plotted data back from it); :func:`png_bytes` turns it into the PNG. This module holds
the figures of returns (equity and drawdowns, monthly heat map, rolling Sharpe);
:mod:`.portfolio_figures` holds those of holdings, costs, regimes and selection.
"""

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from quant_assets.metrics import drawdowns, wealth
from quant_assets.tearsheet.analytics import YEAR_COLUMN

DPI = 80
WIDE = 13.0
"""Width of every figure, in inches (1,040 pixels at ``DPI``)."""
PANEL_HEIGHT = 3.6
BENCHMARK_STYLE: dict[str, Any] = {"color": "black", "linestyle": "--", "linewidth": 1.2}
PALETTE = "tab10"
HEATMAP_COLORS = "RdYlGn"
HEATMAP_ROW_INCHES = 0.26
MONTH_LABELS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LEGEND_OUTSIDE: dict[str, Any] = {
    "loc": "upper left",
    "bbox_to_anchor": (1.0, 1.0),
    "fontsize": "small",
}
"""Legends sit right of the axes: they hide no data, and matplotlib need not search for the
least crowded corner ("best" placement costs seconds on 8,000-point lines)."""
LABELLED_MINOR_SPAN = 10.0
"""A log axis whose top is less than this multiple of its bottom labels its minor ticks."""
PNG_METADATA: dict[str, str | None] = {"Software": None}
"""Leave matplotlib's name and address out of the PNG."""


def new_figure(height: float = PANEL_HEIGHT) -> Figure:
    """A blank figure ``WIDE`` inches wide and ``height`` high, laid out by constraints."""
    return Figure(figsize=(WIDE, height), dpi=DPI, layout="constrained")


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG bytes, without metadata."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata=PNG_METADATA)
    return buffer.getvalue()


def img_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` showing ``png`` inline as a base64 ``data:`` URI, ``alt`` escaped."""
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt, quote=True)}">'


def png_markdown(png: bytes, alt: str) -> str:
    """Markdown that shows ``png`` inline (Dagster renders it in the asset's metadata)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def strategy_colors(names: Sequence[str]) -> dict[str, tuple[float, float, float, float]]:
    """One fixed colour per strategy (cycling the palette), the same in every figure."""
    from matplotlib import colormaps

    palette = colormaps[PALETTE]
    count = palette.N
    return {name: palette(i % count) for i, name in enumerate(names)}


def equity_and_drawdown_figure(
    daily: pd.DataFrame,
    benchmark: pd.Series | None,
    colors: dict[str, tuple[float, float, float, float]],
    title: str,
) -> Figure:
    """Growth of 1 (log scale) and drawdowns of every column of ``daily``, plus the benchmark.

    Parameters
    ----------
    daily : DataFrame
        Daily net returns, dates x strategies (NaN before a strategy starts).
    benchmark : Series or None
        Daily benchmark returns on the same dates (dashed black), or None to leave it out.
    colors : dict
        Colour of each strategy (see :func:`strategy_colors`).
    title : str
        Title of the upper panel.
    """
    figure = new_figure(height=2 * PANEL_HEIGHT)
    top, bottom = figure.subplots(2, 1, sharex=True)
    frame = daily.copy()
    if benchmark is not None:
        frame[str(benchmark.name)] = benchmark.reindex(frame.index)
    observed = frame.notna()  # no line where a series has no return (before start, past end)
    growth = wealth(frame).where(observed)
    falls = drawdowns(frame).where(observed)
    for name in frame.columns:
        style = (
            BENCHMARK_STYLE
            if benchmark is not None and name == benchmark.name
            else {"color": colors.get(name), "linewidth": 1.0}
        )
        top.plot(growth.index, growth[name].to_numpy(), label=name, **style)
        bottom.plot(falls.index, falls[name].to_numpy(), **style)
    top.set_yscale("log")
    plain_log_ticks(top)
    top.set_title(title)
    top.set_ylabel("growth of 1 (log)")
    top.grid(True, which="both", alpha=0.3)
    outside_legend(top)
    bottom.set_ylabel("drawdown")
    bottom.yaxis.set_major_formatter(_percent_formatter())
    bottom.grid(True, alpha=0.3)
    return figure


def monthly_heatmap_figure(table: pd.DataFrame, title: str) -> Figure:
    """Monthly returns (years x months) as a red-green heat map, each cell labelled in percent.

    ``table`` is :func:`~quant_assets.tearsheet.analytics.monthly_returns`; its ``year`` column
    is labelled on the right. A NaN month is left blank.
    """
    months = table.drop(columns=[YEAR_COLUMN]).to_numpy(dtype="float64")
    rows = max(len(table), 1)
    figure = new_figure(height=1.2 + HEATMAP_ROW_INCHES * rows)
    axes = figure.add_subplot()
    finite = months[np.isfinite(months)]
    limit = float(np.max(np.abs(finite))) if finite.size else 1.0
    limit = limit if limit > 0 else 1.0
    norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
    axes.imshow(np.ma.masked_invalid(months), cmap=HEATMAP_COLORS, norm=norm, aspect="auto")
    for row, column in zip(*np.nonzero(np.isfinite(months)), strict=True):
        axes.text(column, row, f"{months[row, column]:.1%}", ha="center", va="center", fontsize=7)
    axes.set_xticks(range(len(MONTH_LABELS)), MONTH_LABELS)
    axes.set_yticks(range(len(table)), [str(year) for year in table.index])
    right = axes.secondary_yaxis("right")
    right.set_yticks(
        range(len(table)),
        [f"{value:.1%}" if np.isfinite(value) else "" for value in table[YEAR_COLUMN]],
    )
    right.set_ylabel("year")
    axes.set_title(title)
    return figure


def rolling_sharpe_figure(
    sharpe: pd.DataFrame,
    benchmark: pd.Series | None,
    colors: dict[str, tuple[float, float, float, float]],
    title: str,
) -> Figure:
    """Rolling Sharpe ratio of every column of ``sharpe`` over time, plus the benchmark's."""
    figure = new_figure()
    axes = figure.add_subplot()
    for name in sharpe.columns:
        axes.plot(sharpe.index, sharpe[name].to_numpy(), label=name, color=colors.get(name), lw=1)
    if benchmark is not None:
        axes.plot(benchmark.index, benchmark.to_numpy(), label=benchmark.name, **BENCHMARK_STYLE)
    axes.axhline(0.0, color="grey", linewidth=0.8)
    axes.set_title(title)
    axes.set_ylabel("Sharpe ratio (annualised)")
    axes.grid(True, alpha=0.3)
    outside_legend(axes)
    return figure


def outside_legend(axes: Axes, reverse: bool = False) -> None:
    """A legend right of ``axes`` (reversed if asked), or none when nothing drawn has a label."""
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        order = slice(None, None, -1) if reverse else slice(None)
        axes.legend(handles[order], labels[order], **LEGEND_OUTSIDE)


def plain_log_ticks(axes: Axes) -> None:
    """Write a log y axis' ticks as plain numbers (``2``, ``0.5``), not powers of ten.

    Call it after plotting: minor ticks (2, 3, ... 9 times a power of ten) are labelled only
    when the axis spans less than ``LABELLED_MINOR_SPAN`` (beyond that they would overlap).
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axes.yaxis.set_major_formatter(plain)
    low, high = axes.get_ylim()
    few_decades = low > 0 and high / low < LABELLED_MINOR_SPAN
    axes.yaxis.set_minor_formatter(plain if few_decades else NullFormatter())


def _percent_formatter() -> object:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)
