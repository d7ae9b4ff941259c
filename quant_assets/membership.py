"""Point-in-time membership: who may be held as of a date, from data up to that date only.

A symbol may be held at a decision date ``t`` (a window's training end, or the run's last
date) when, looking at closes up to ``t`` only:

1. it has a close on every date of the training span ending at ``t`` (``train`` returns, so
   ``train + 1`` closes): engines need complete returns, and this also says it traded at ``t``;
2. it has at least ``min_history`` closes up to ``t`` (seasoning after a listing). A symbol
   already trading on the run's first date counts as seasoned: its listing is older than the
   data the run can see;
3. it misses at most ``max_missing_fraction`` of the dates between its first close and ``t``.

Nothing after ``t`` is read, so a symbol that lists late is not held before it has the history,
and a symbol that dies is held in the windows before its death and never after. The run keeps
every symbol in scope (dead ones included); this module decides, per date, who is eligible.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from quant_assets.settings import Settings

DECISION_QUORUM = 0.5
"""The run's decision date is its last date on which at least this fraction of the symbols
trading over the last ``train`` dates have a close (a stray date of one symbol is not it)."""


@dataclass(frozen=True)
class Membership:
    """Eligibility of every symbol at some decision dates (rows) of a closes panel.

    ``eligible`` and the counts are arrays of shape (n_dates, n_symbols).
    """

    dates: pd.DatetimeIndex
    symbols: list[str]
    eligible: NDArray[np.bool_]
    closes_so_far: NDArray[np.int64]
    missing_fraction: NDArray[np.float64]
    complete_training: NDArray[np.bool_]
    seasoned: NDArray[np.bool_]

    def eligible_at(self, row: int) -> list[str]:
        """Symbols eligible at the ``row``-th decision date, in panel order."""
        return [s for s, ok in zip(self.symbols, self.eligible[row], strict=True) if ok]

    def reasons_at(self, row: int, settings: Settings) -> pd.Series:
        """Why each symbol is not eligible at the ``row``-th date ("" when it is)."""
        reasons = []
        for j in range(len(self.symbols)):
            if self.eligible[row, j]:
                reasons.append("")
            elif self.closes_so_far[row, j] == 0:
                reasons.append("not listed yet")
            elif not self.complete_training[row, j]:
                reasons.append(f"no close on every one of the last {settings.train + 1} dates")
            elif not self.seasoned[row, j]:
                reasons.append(
                    f"only {self.closes_so_far[row, j]} closes, needs "
                    f"min_history={settings.min_history}"
                )
            else:
                reasons.append(
                    f"missing {self.missing_fraction[row, j]:.1%} of dates, above "
                    f"max_missing_fraction={settings.max_missing_fraction:.1%}"
                )
        return pd.Series(reasons, index=pd.Index(self.symbols, name="symbol"), dtype=str)


def membership(closes: pd.DataFrame, dates: pd.DatetimeIndex, settings: Settings) -> Membership:
    """Who may be held at each of ``dates`` (rows of ``closes``), from closes up to each date.

    Parameters
    ----------
    closes : DataFrame of shape (n_panel_dates, n_symbols)
        Wide daily closes, NaN where a symbol did not trade; DatetimeIndex ascending.
    dates : DatetimeIndex
        Decision dates, each a row of ``closes``.
    settings : Settings
        ``train``, ``min_history``, ``max_missing_fraction``.
    """
    observed = closes.notna().to_numpy()
    counts = np.cumsum(observed, axis=0, dtype=np.int64)
    positions = closes.index.get_indexer(dates)
    if (positions < 0).any():
        missing = list(dates[positions < 0][:3].date)
        raise ValueError(f"decision dates {missing} are not dates of the closes panel")
    first = np.where(observed.any(axis=0), observed.argmax(axis=0), len(closes))
    so_far = counts[positions]
    span = positions[:, None] - first[None, :] + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        missing_fraction = np.where(span > 0, 1.0 - so_far / np.maximum(span, 1), 1.0)
    window = settings.train + 1
    before = positions - window
    counts_before = np.where(
        before[:, None] >= 0, counts[np.maximum(before, 0)], np.zeros_like(counts[0])
    )
    complete = (so_far - counts_before == window) & (positions[:, None] + 1 >= window)
    seasoned = (so_far >= settings.min_history) | (first[None, :] == 0)
    eligible = complete & seasoned & (missing_fraction <= settings.max_missing_fraction + 1e-12)
    return Membership(
        dates=pd.DatetimeIndex(dates),
        symbols=[str(s) for s in closes.columns],
        eligible=eligible,
        closes_so_far=so_far,
        missing_fraction=missing_fraction,
        complete_training=complete,
        seasoned=seasoned,
    )


def decision_date(closes: pd.DataFrame, settings: Settings) -> pd.Timestamp:
    """The date the current portfolio is decided on.

    It is the run's last date on which enough of its recent symbols traded (see
    :data:`DECISION_QUORUM`), so a stray later close of one symbol does not move it.
    """
    counts = closes.notna().sum(axis=1)
    recent_peak = counts.iloc[-(settings.train + 1) :].max()
    quorate = counts[counts >= DECISION_QUORUM * recent_peak]
    return pd.Timestamp(quorate.index[-1])
