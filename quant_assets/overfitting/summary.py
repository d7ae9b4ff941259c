"""One line for run summaries (``quant run``, ``quant show``): the winner's DSR beside the PBO."""

import math

import pandas as pd

__all__ = ["luck_summary"]


def luck_summary(board: pd.DataFrame | None, overfitting: pd.DataFrame | None) -> str | None:
    """``best: P/E, Sharpe 0.95, DSR 0.42 over 7 trials (0.61 over 3.2 effective); PBO 0.38``.

    None when the leaderboard is missing or empty, or predates the DSR; the PBO part is left out
    when the run has no (or an empty) ``overfitting`` frame.
    """
    if board is None or board.empty or "dsr" not in board:
        return None
    best = board.iloc[0]
    text = f"best: {best['profile']}/{best['engine']}, Sharpe {best['sharpe']:.2f}"
    dsr, effective = float(best["dsr"]), float(best["effective_trials"])
    if math.isfinite(dsr):
        text += f", DSR {dsr:.2f} over {int(best['n_trials'])} trials"
        if math.isfinite(effective):
            text += f" ({float(best['dsr_effective']):.2f} over {effective:.1f} effective)"
    if overfitting is not None and not overfitting.empty:
        text += f"; PBO {float(overfitting['pbo'].iloc[0]):.2f} over {len(overfitting):,} splits"
    return text
