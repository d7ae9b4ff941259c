"""Walk-forward windowing: training and test spans on trading dates, as a table.

Windows live on the dates of daily returns (the first price date has none). Window ``k``
trains on ``train`` returns starting at ``k * step`` (``rolling``) or at the first return
(``expanding``) and tests on the ``test`` returns right after. Only complete test spans are
kept, as skfolio's ``WalkForward`` does, so every window is scored on the same number of days.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from quant_assets.contracts import TournamentWindowsContract, column_names
from quant_assets.settings import Settings

WINDOW_COLUMNS = column_names(TournamentWindowsContract)


class NotEnoughHistoryError(ValueError):
    """The dates cannot hold one training span plus one test span."""


def make_windows(return_dates: pd.DatetimeIndex, settings: Settings, profile: str) -> pd.DataFrame:
    """The walk-forward windows of one profile over ``return_dates``.

    Parameters
    ----------
    return_dates : DatetimeIndex
        Sorted dates of daily returns.
    settings : Settings
        ``train``, ``test``, ``step`` and ``window_mode``.
    profile : str
        Name stored in the ``profile`` column.

    Returns
    -------
    DataFrame
        :data:`WINDOW_COLUMNS`, one row per window, ``window`` numbered from 0.

    Raises
    ------
    NotEnoughHistoryError
        When fewer than ``train + test`` returns are given.
    """
    n = len(return_dates)
    train, test, step = settings.train, settings.test, settings.step
    if n < train + test:
        raise NotEnoughHistoryError(
            f"profile {profile!r} needs train + test = {train} + {test} = {train + test} daily "
            f"returns, but the prices give {n} ({_span(return_dates)}); pass a longer price "
            f"history or lower `train`/`test`"
        )
    starts = np.arange(0, n - train - test + 1, step)
    firsts = np.zeros_like(starts) if settings.window_mode == "expanding" else starts
    train_ends = starts + train  # exclusive positions
    return pd.DataFrame(
        {
            "profile": profile,
            "window": np.arange(len(starts), dtype=np.int64),
            "train_start": return_dates[firsts],
            "train_end": return_dates[train_ends - 1],
            "test_start": return_dates[train_ends],
            "test_end": return_dates[train_ends + test - 1],
            "train_days": train_ends - firsts,
            "test_days": test,
        },
        columns=list(WINDOW_COLUMNS),
    )


def date_position(dates: pd.DatetimeIndex, date: Any) -> int:
    """Position of ``date`` in ``dates`` (sorted, unique); ``KeyError`` if it is not there."""
    position = dates.get_loc(pd.Timestamp(date))
    if not isinstance(position, int):
        raise KeyError(f"{date} is not one date of the index (repeated dates?)")
    return position


def price_positions(price_dates: pd.DatetimeIndex, window: Mapping[str, Any]) -> tuple[int, int]:
    """Positions ``(train_first, test_first)`` of a window row's first training and test returns.

    Positions count returns: return ``k`` is the close at ``price_dates[k + 1]`` over the one
    before, so the training returns need the closes ``train_first .. test_first``.
    """
    train_first = date_position(price_dates, window["train_start"]) - 1
    test_first = date_position(price_dates, window["test_start"]) - 1
    return train_first, test_first


def _span(dates: pd.DatetimeIndex) -> str:
    if len(dates) == 0:
        return "no dates"
    return f"{dates[0].date()} to {dates[-1].date()}"
