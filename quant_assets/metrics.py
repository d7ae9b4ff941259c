"""Performance metrics of daily returns: the one place the leaderboard, tear-sheet and charts use.

Conventions, shared by every function here:

- returns are simple daily returns; a year is :data:`TRADING_DAYS_PER_YEAR` (252) return days;
- annual returns are geometric (compounded): ``prod(1 + r) ** (252 / n) - 1``;
- volatility is the sample standard deviation (``ddof=1``) times ``sqrt(252)``;
- the Sharpe ratio is ``mean(r - rf) / std(r, ddof=1) * sqrt(252)`` with ``rf`` the daily
  risk-free rate; the Sortino ratio divides by the root mean square of the negative excess
  returns instead (the downside deviation against 0, as quantstats computes it);
- wealth starts at 1 (the initial capital) and a NaN return counts as 0 (flat wealth); a
  drawdown is the fall from the running peak of wealth, the peak starting at 1: ``-0.3`` is 30%
  below it; Calmar is the annual return over the maximum drawdown's size.

Undefined ratios (zero deviation, no drawdown, no returns) are NaN.

References
----------
quantstats (``qs.stats.sharpe``, ``sortino``, ``max_drawdown``, ``cagr``, ``calmar``) computes the
same numbers; the tests compare against it.
"""

from typing import TypeVar

import numpy as np
import pandas as pd

from quant_assets.calendar import TRADING_DAYS_PER_YEAR

ANNUALISER = float(np.sqrt(TRADING_DAYS_PER_YEAR))
"""Factor turning a daily Sharpe ratio or standard deviation into an annual one."""
PERFORMANCE_METRICS = (
    "annual_return",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
)
"""The keys of :func:`performance`, in the leaderboard's order."""
MIN_DAILY_STDEV = 1e-12
"""A daily standard deviation at or below this is the rounding noise of a constant series (the
sample deviation of 252 returns of 0.001 is about 1e-19, not 0): its Sharpe ratio is NaN."""

Returns = TypeVar("Returns", np.ndarray, pd.Series, pd.DataFrame)


def daily_rate(annual_rate: float) -> float:
    """The simple daily rate of an annual one (e.g. the risk-free rate): ``annual / 252``."""
    return annual_rate / TRADING_DAYS_PER_YEAR


def years_of(days: int) -> float:
    """How many years ``days`` return days make (NaN for none)."""
    return days / TRADING_DAYS_PER_YEAR if days > 0 else float("nan")


def annualised(growth: float, days: int) -> float:
    """The yearly rate that compounds to ``growth`` (wealth at the end over 1) in ``days`` days."""
    return float(growth ** (1.0 / years_of(days)) - 1.0) if days > 0 else float("nan")


def per_year(total: float, days: int) -> float:
    """A total accrued over ``days`` return days, per year (e.g. trading costs: cost drag)."""
    return float(total / years_of(days)) if days > 0 else float("nan")


def annual_return(daily: np.ndarray) -> float:
    """Geometric annual return of a 1-D series of daily returns (NaN for none)."""
    return annualised(float(np.prod(1.0 + daily)), len(daily))


def wealth(daily: Returns) -> Returns:
    """Growth of 1 along the first axis; a NaN return counts as 0 (flat wealth)."""
    if isinstance(daily, np.ndarray):
        return np.cumprod(1.0 + np.nan_to_num(daily, nan=0.0), axis=0)
    return (1.0 + daily.fillna(0.0)).cumprod()


def drawdowns(daily: Returns) -> Returns:
    """Fall from the running peak of wealth: 0 at a peak, -0.3 is 30% below it (peak >= 1)."""
    growth = wealth(daily)
    if isinstance(growth, np.ndarray):
        falls: np.ndarray = growth / np.maximum(np.maximum.accumulate(growth, axis=0), 1.0) - 1.0
        return falls
    return growth / growth.cummax().clip(lower=1.0) - 1.0


def max_drawdown(daily: np.ndarray) -> float:
    """The deepest drawdown of a 1-D series of daily returns (0 when it never falls)."""
    return min(float(np.min(drawdowns(daily))), 0.0) if len(daily) else float("nan")


def sharpe_ratio(daily: np.ndarray, daily_risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio of a 1-D series of daily returns (NaN when it does not move)."""
    stdev = float(daily.std(ddof=1)) if len(daily) > 1 else float("nan")
    if not stdev > MIN_DAILY_STDEV:
        return float("nan")
    return float((daily - daily_risk_free).mean() / stdev * ANNUALISER)


def sortino_ratio(daily: np.ndarray, daily_risk_free: float = 0.0) -> float:
    """Annualised Sortino ratio: mean excess return over the downside deviation against 0."""
    excess = daily - daily_risk_free
    downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))) if len(daily) else 0.0
    return float(excess.mean() / downside * ANNUALISER) if downside > 0 else float("nan")


def performance(daily: np.ndarray, daily_risk_free: float = 0.0) -> dict[str, float]:
    """Annual return and volatility, Sharpe, Sortino, max drawdown and Calmar of daily returns.

    Parameters
    ----------
    daily : ndarray of shape (n_days,)
        Daily simple returns, no NaN.
    daily_risk_free : float
        The risk-free rate per day (annual rate / 252), subtracted in the Sharpe and Sortino
        ratios.

    Returns
    -------
    dict of str to float
        The keys of :data:`PERFORMANCE_METRICS`; all NaN for an empty series.
    """
    n = len(daily)
    if n == 0:
        return dict.fromkeys(PERFORMANCE_METRICS, float("nan"))
    yearly = annual_return(daily)
    deepest = max_drawdown(daily)
    volatility = float(daily.std(ddof=1)) * ANNUALISER if n > 1 else float("nan")
    return {
        "annual_return": yearly,
        "annual_volatility": volatility,
        "sharpe": sharpe_ratio(daily, daily_risk_free),
        "sortino": sortino_ratio(daily, daily_risk_free),
        "max_drawdown": deepest,
        "calmar": yearly / -deepest if deepest < 0 else float("nan"),
    }


def rolling_sharpe(daily: pd.DataFrame, window: int, daily_risk_free: float = 0.0) -> pd.DataFrame:
    """Sharpe ratio of each column over trailing ``window`` days, annualised as above.

    NaN until ``window`` returns are available and where the standard deviation is zero. NaN
    returns are skipped (a window needs ``window`` non-NaN returns).
    """
    excess = daily - daily_risk_free
    mean = excess.rolling(window, min_periods=window).mean()
    stdev = daily.rolling(window, min_periods=window).std(ddof=1)
    return (mean / stdev.where(stdev > MIN_DAILY_STDEV) * ANNUALISER).astype("float64")
