"""Figures of what the strategies held and paid: holdings, turnover and costs, regimes, selection.

Drawn like :mod:`.figures` (matplotlib ``Figure`` without pyplot, PNG bytes without metadata).
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from quant_assets.tearsheet.analytics import ALL_STRATEGIES, OTHER_HOLDINGS
from quant_assets.tearsheet.figures import (
    PANEL_HEIGHT,
    new_figure,
    outside_legend,
    plain_log_ticks,
)

HOLDINGS_PALETTE = "tab20"
OTHER_COLOR = "lightgrey"
REGIME_COLORS = {
    "bull": "#2ca02c",
    "volatile_bull": "#bcbd22",
    "bear": "#d62728",
    "volatile_bear": "#ff7f0e",
    "unknown": "#c7c7c7",
}
"""Background colour of each regime label (any other label is grey)."""
UNKNOWN_REGIME_COLOR = "#7f7f7f"
REGIME_ALPHA = 0.3
BAR_ROW_INCHES = 0.22
MIN_BAR_HEIGHT = 2.5
SELECTION_CHART_SYMBOLS = 40
"""Symbols drawn in the selection-frequency chart (the most held; the table lists all)."""


def holdings_area_figure(holdings: pd.DataFrame, end: pd.Timestamp | None, title: str) -> Figure:
    """Stacked area of target weights per window (held from each ``test_start``), step-wise.

    ``holdings`` is :func:`~quant_assets.tearsheet.analytics.holdings_over_time`: dates x
    symbols, the ``other`` column last and grey; the last row is held until ``end`` (the last
    test day). The white gap above the stack is cash.
    """
    if end is not None and len(holdings) and end > holdings.index[-1]:
        holdings = pd.concat([holdings, holdings.iloc[[-1]].set_axis([end])])
    from matplotlib import colormaps

    figure = new_figure(height=1.3 * PANEL_HEIGHT)
    axes = figure.add_subplot()
    palette = colormaps[HOLDINGS_PALETTE]
    colors = [
        OTHER_COLOR if name == OTHER_HOLDINGS else palette(i % palette.N)
        for i, name in enumerate(holdings.columns)
    ]
    if not holdings.empty:
        axes.stackplot(
            holdings.index,
            holdings.to_numpy(dtype="float64").T,
            labels=list(holdings.columns),
            colors=colors,
            step="post",
        )
    axes.set_ylim(0.0, max(1.0, float(holdings.sum(axis=1).max()) if len(holdings) else 1.0))
    axes.set_ylabel("target weight")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    outside_legend(axes, reverse=True)  # top of the legend = top of the stack
    return figure


def turnover_and_cost_figure(
    costs: pd.DataFrame,
    window_results: pd.DataFrame,
    colors: dict[str, tuple[float, float, float, float]],
) -> Figure:
    """Average turnover and annual cost drag per strategy (bars), and cumulative cost over time.

    ``costs`` is :func:`~quant_assets.tearsheet.analytics.cost_summary` (its order is kept);
    ``window_results`` the stored per-window frame, for the cumulative cost lines; ``colors``
    the colour of each ``profile/engine``.
    """
    figure = new_figure(height=2 * PANEL_HEIGHT)
    grid = figure.add_gridspec(2, 2)
    turnover_axes = figure.add_subplot(grid[0, 0])
    drag_axes = figure.add_subplot(grid[0, 1])
    cumulative_axes = figure.add_subplot(grid[1, :])
    names = [f"{p}/{e}" for p, e in zip(costs["profile"], costs["engine"], strict=True)]
    positions = np.arange(len(names))
    bar_colors = [colors.get(name) for name in names]
    turnover_axes.barh(positions, costs["avg_turnover"].to_numpy(dtype="float64"), color=bar_colors)
    turnover_axes.set_title("average turnover per window")
    drag_axes.barh(
        positions, costs["cost_drag"].to_numpy(dtype="float64") * 100.0, color=bar_colors
    )
    drag_axes.set_title("cost drag (% a year)")
    for axes in (turnover_axes, drag_axes):
        axes.set_yticks(positions, names, fontsize="small")
        axes.invert_yaxis()
        axes.grid(True, axis="x", alpha=0.3)
    for (profile, engine), mine in window_results.groupby(["profile", "engine"], sort=False):
        ordered = mine.sort_values("test_start")
        cumulative_cost = ordered["cost"].cumsum().to_numpy(dtype="float64") * 100.0
        name = f"{profile}/{engine}"
        cumulative_axes.plot(
            pd.DatetimeIndex(ordered["test_start"]),
            cumulative_cost,
            label=name,
            color=colors.get(name),
            lw=1,
        )
    cumulative_axes.set_title("cumulative cost (% of capital, summed per window)")
    cumulative_axes.grid(True, alpha=0.3)
    outside_legend(cumulative_axes)
    return figure


def regime_timeline_figure(regimes: pd.DataFrame) -> Figure:
    """The market's growth of 1 over regime-coloured spans, and its volatility vs threshold.

    ``regimes`` is the stored frame; its ``market_return`` is a daily log return, so the
    market's level is ``exp(cumsum(market_return))``.
    """
    figure = new_figure(height=2 * PANEL_HEIGHT)
    top, bottom = figure.subplots(2, 1, sharex=True)
    ordered = regimes.sort_values("date")
    dates = pd.DatetimeIndex(ordered["date"])
    log_level = ordered["market_return"].fillna(0.0).cumsum().to_numpy(dtype="float64")
    top.plot(dates, np.exp(log_level), color="black", linewidth=1.0, label="market")
    labels = ordered["label"].astype(str).to_numpy()
    for label in dict.fromkeys(labels):
        color = REGIME_COLORS.get(label, UNKNOWN_REGIME_COLOR)
        for axes in (top, bottom):
            axes.fill_between(
                dates,
                0.0,
                1.0,
                where=labels == label,
                step="post",
                transform=axes.get_xaxis_transform(),
                color=color,
                alpha=REGIME_ALPHA,
                linewidth=0,
                label=label if axes is top else None,
            )
    top.set_yscale("log")
    plain_log_ticks(top)
    top.set_ylabel("growth of 1 (log)")
    top.set_title("market and regimes")
    outside_legend(top)
    bottom.plot(dates, ordered["market_volatility"].to_numpy(dtype="float64"), label="volatility")
    bottom.plot(
        dates,
        ordered["volatility_threshold"].to_numpy(dtype="float64"),
        label="threshold",
        linestyle="--",
    )
    bottom.set_ylabel("market volatility")
    outside_legend(bottom)
    for axes in (top, bottom):
        axes.grid(True, alpha=0.3)
    return figure


def selection_frequency_figure(frequency: pd.DataFrame) -> Figure:
    """Horizontal bars: the share of all strategies' windows in which each symbol was held.

    Only the :data:`SELECTION_CHART_SYMBOLS` most held (``frequency`` is sorted, most held
    first): a bar per symbol of a universe of thousands would be a picture nobody can read, and
    seconds of drawing per thousand bars.
    """
    held = len(frequency)
    frequency = frequency.head(SELECTION_CHART_SYMBOLS)
    rows = max(len(frequency), 1)
    figure = new_figure(height=max(MIN_BAR_HEIGHT, 0.8 + BAR_ROW_INCHES * rows))
    axes = figure.add_subplot()
    positions = np.arange(len(frequency))
    axes.barh(positions, frequency[ALL_STRATEGIES].to_numpy(dtype="float64") * 100.0)
    axes.set_yticks(positions, [str(s) for s in frequency.index], fontsize="small")
    axes.invert_yaxis()
    axes.set_xlim(0.0, 100.0)
    axes.set_xlabel("% of windows held (all strategies)")
    shown = "" if held <= len(frequency) else f": the {len(frequency)} most held of {held:,}"
    axes.set_title(f"selection frequency{shown}")
    axes.grid(True, axis="x", alpha=0.3)
    return figure
