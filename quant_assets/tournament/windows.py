"""Walk-forward windowing: training and test spans on trading dates, as a table.

Windows live on the dates of daily returns (the first price date has none). Window ``k``
trains on ``train`` returns starting at ``k * step`` (``rolling``) or at the first return
(``expanding``) and tests on the ``test`` returns right after. Only complete test spans are
kept, as skfolio's ``WalkForward`` does, so every window is scored on the same number of days.
"""

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
    rows = []
    for number, start in enumerate(range(0, n - train - test + 1, step)):
        first = 0 if settings.window_mode == "expanding" else start
        train_end = start + train  # exclusive position
        rows.append(
            {
                "profile": profile,
                "window": number,
                "train_start": return_dates[first],
                "train_end": return_dates[train_end - 1],
                "test_start": return_dates[train_end],
                "test_end": return_dates[train_end + test - 1],
                "train_days": train_end - first,
                "test_days": test,
            }
        )
    return pd.DataFrame(rows, columns=list(WINDOW_COLUMNS))


def window_positions(return_dates: pd.DatetimeIndex, window: pd.Series) -> tuple[int, int, int]:
    """Positions ``(train_first, test_first, test_stop)`` of a window row in ``return_dates``."""
    train_first = int(return_dates.get_loc(window["train_start"]))
    test_first = int(return_dates.get_loc(window["test_start"]))
    return train_first, test_first, test_first + int(window["test_days"])


def _span(dates: pd.DatetimeIndex) -> str:
    if len(dates) == 0:
        return "no dates"
    return f"{dates[0].date()} to {dates[-1].date()}"
