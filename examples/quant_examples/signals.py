"""A signal: 12-1 momentum, the return from 12 months ago to 1 month ago.

A signal is a function from the wide closes panel (dates x symbols, NaN where a symbol is not
listed) to a panel of the same shape. Its value at a date may use closes up to that date only:
the platform recomputes it on cut panels and refuses it otherwise.
"""

import pandas as pd

TRADING_DAYS_PER_MONTH = 21


def momentum_12_1(closes: pd.DataFrame, months: int = 12, skip: int = 1) -> pd.DataFrame:
    """``close[t - skip months] / close[t - months] - 1`` (Jegadeesh and Titman's momentum).

    Parameters
    ----------
    closes : DataFrame of shape (n_dates, n_symbols)
        Daily closes; NaN where not listed (the result is NaN there and during warm-up).
    months, skip : int
        The look-back and the most recent months left out (short-term reversal), in months of
        21 trading days.
    """
    recent = closes.shift(skip * TRADING_DAYS_PER_MONTH)
    past = closes.shift(months * TRADING_DAYS_PER_MONTH)
    return recent / past - 1.0
