"""The section "Is the winner luck?": deflated Sharpe ratios, the PBO's logits and splits.

It reads the leaderboard's luck columns (:mod:`quant_assets.overfitting.leaderboard_luck`) and
the run's ``overfitting`` frame (:mod:`quant_assets.overfitting.run_overfitting`); a run stored
before they existed gets a sentence saying so.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from quant_assets.overfitting.leaderboard_luck import LUCK_COLUMNS
from quant_assets.tearsheet.context import TearsheetContext
from quant_assets.tearsheet.document import Section, paragraph, scrolling
from quant_assets.tearsheet.figures import img_tag, new_figure, png_bytes
from quant_assets.tearsheet.tables import DECIMAL, INTEGER, PERCENT, RATIO, html_table

SECTION_ID = "luck"
TITLE = "Is the winner luck?"
LOGIT_BINS = 40
TABLE_KINDS = {
    "sharpe": RATIO,
    "psr": PERCENT,
    "n_trials": INTEGER,
    "dsr": PERCENT,
    "effective_trials": DECIMAL,
    "dsr_effective": PERCENT,
    "min_track_record": DECIMAL,
    "sharpe_low": RATIO,
    "sharpe_high": RATIO,
    "annual_return_low": PERCENT,
    "annual_return_high": PERCENT,
    "max_drawdown_low": PERCENT,
    "max_drawdown_high": PERCENT,
    "spa_pvalue": DECIMAL,
}
DEFINITIONS = (
    "PSR: the probability that the true Sharpe ratio is above 0, given the length, skewness and "
    "kurtosis of the returns (Bailey and Lopez de Prado 2012). DSR: the same against the Sharpe "
    "ratio the best of n trials shows by luck alone (2014); the trials are every distinct "
    "strategy evaluated on these closes and out-of-sample dates, this run's and earlier runs'. "
    "Effective trials: the effective rank of the trials' return correlations, and the DSR under "
    "it. Min track record: years of such returns needed for 95% confidence that the Sharpe "
    "ratio is above 0. Low/high: 90% stationary-bootstrap intervals (Politis and Romano 1994, "
    "block length by Politis and White). SPA p-value: Hansen's test that the strategy beats "
    "the market baseline (small is better). PBO: the share of the C(S, S/2) splits of the "
    "out-of-sample dates in which the in-sample winner ranked at or below the median out of "
    "sample (Bailey, Borwein, Lopez de Prado and Zhu 2017)."
)


def luck_section(context: TearsheetContext) -> Section:
    """One plain sentence, the DSR table, the logit histogram and the IS/OOS scatter."""
    board = context.board
    columns = [c for c in LUCK_COLUMNS if c in board.columns]
    if board.empty or not columns:
        return Section(SECTION_ID, TITLE, paragraph("This run has no deflated Sharpe ratios."))
    names = board["profile"].astype(str) + "/" + board["engine"].astype(str)
    table = board[["sharpe", *columns]].assign(strategy=names.to_numpy())
    table = table[["strategy", "sharpe", *columns]]
    overfitting = context.inputs.overfitting
    parts = [paragraph(verdict(board, overfitting))]
    parts.append(scrolling(html_table(table, table_id="luck-table", kinds=TABLE_KINDS)))
    if overfitting is not None and not overfitting.empty:
        parts.append(img_tag(png_bytes(logit_figure(overfitting)), "PBO logit histogram"))
        parts.append(
            img_tag(png_bytes(split_scatter_figure(overfitting)), "in- vs out-of-sample Sharpe")
        )
    parts.append(paragraph(DEFINITIONS, "note"))
    return Section(SECTION_ID, TITLE, "".join(parts))


def verdict(board: pd.DataFrame, overfitting: pd.DataFrame | None) -> str:
    """The answer in one sentence, e.g. "the best of 77 strategies has a 31% chance ..."."""
    best = board.iloc[0]
    name = f"{best['profile']}/{best['engine']}"
    dsr = float(best.get("dsr", np.nan))
    trials = int(best.get("n_trials", 0))
    if not np.isfinite(dsr):
        text = f"The best strategy, {name}, has no deflated Sharpe ratio (too few returns)."
    else:
        text = (
            f"The best of {trials} strategies tried on these data and dates, {name}, has a "
            f"{1.0 - dsr:.0%} chance of being no better than zero (deflated Sharpe ratio "
            f"{dsr:.2f})"
        )
    if overfitting is not None and not overfitting.empty and np.isfinite(dsr):
        pbo = float(overfitting["pbo"].iloc[0])
        text += (
            f", and the in-sample winner of {len(overfitting):,} splits of the out-of-sample "
            f"dates ranked at or below the median out of sample in {pbo:.0%} of them (PBO)."
        )
    elif np.isfinite(dsr):
        text += "."
    return text


def logit_figure(overfitting: pd.DataFrame) -> Figure:
    """Histogram of the logits of the in-sample winner's out-of-sample rank, 0 marked."""
    figure = new_figure()
    axes = figure.add_subplot()
    axes.hist(overfitting["logit"].to_numpy(), bins=LOGIT_BINS, color="tab:blue", alpha=0.8)
    axes.axvline(0.0, color="black", linewidth=1)
    pbo = float(overfitting["pbo"].iloc[0])
    axes.set_title(f"Logits of the in-sample winner's out-of-sample rank: PBO {pbo:.0%}")
    axes.set_xlabel("logit (at or below 0: at or below the median out of sample)")
    axes.set_ylabel("splits")
    return figure


def split_scatter_figure(overfitting: pd.DataFrame) -> Figure:
    """The winner's out-of-sample on its in-sample Sharpe ratio per split, with the fitted line."""
    figure = new_figure()
    axes = figure.add_subplot()
    x = overfitting["in_sample_sharpe"].to_numpy()
    y = overfitting["out_of_sample_sharpe"].to_numpy()
    axes.scatter(x, y, s=4, alpha=0.3, color="tab:blue")
    slope = float(overfitting["degradation_slope"].iloc[0])
    intercept = float(overfitting["degradation_intercept"].iloc[0])
    if np.isfinite(slope):
        line = np.linspace(np.nanmin(x), np.nanmax(x), 2)
        axes.plot(line, intercept + slope * line, color="tab:red", label=f"slope {slope:.2f}")
        axes.legend(loc="upper left")
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.set_title("In-sample winner per split: annual Sharpe ratio in and out of sample")
    axes.set_xlabel("in-sample Sharpe ratio")
    axes.set_ylabel("out-of-sample Sharpe ratio")
    return figure
