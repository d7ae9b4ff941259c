"""The S&P 500 benchmark: its daily returns and every strategy's metrics measured against it.

The index is the one skfolio ships in its wheel (``sp500_index.csv.gz``, daily closes
1990-01-02 to 2022-12-28). It is read with pandas from the installed package's folder, without
importing :mod:`skfolio.datasets` (which pulls in scikit-learn, cvxpy and plotly). Annualisation
is :mod:`quant_assets.metrics`': 252 trading days a year, geometric (compounded) annual returns,
sample (``ddof=1``) standard deviations.

The index is a *price* index (359.69 on 1990-01-02): it leaves dividends out, while the bundled
stock closes are adjusted for them. Excess returns against it are therefore flattered by about
the index's dividend yield (roughly 2% a year on average over 1990-2022); beta and the tracking
error are hardly affected.
"""

import importlib.resources
from functools import lru_cache

import numpy as np
import pandas as pd

from quant_assets.metrics import ANNUALISER, annual_return
from quant_assets.tournament.reporting import strategy_name

BENCHMARK_NAME = "S&P 500"
BENCHMARK_PACKAGE = "skfolio"
BENCHMARK_RESOURCE = "datasets/data/sp500_index.csv.gz"
"""Daily closes of the S&P 500 index, shipped inside skfolio's wheel (research use only)."""
BENCHMARK_DATE_COLUMN = "Date"
BENCHMARK_CLOSE_COLUMN = "SP500"
MIN_OVERLAP_DAYS = 2
"""Fewest common dates for which the relative metrics are defined (a standard deviation)."""
BENCHMARK_METRIC_COLUMNS = (
    "benchmark_days",
    "benchmark_annual_return",
    "excess_annual_return",
    "beta",
    "tracking_error",
    "information_ratio",
)
"""The keys of :func:`benchmark_metrics`, and the columns :func:`relative_leaderboard` adds."""


@lru_cache(maxsize=1)
def _benchmark_closes() -> pd.Series:
    resource = importlib.resources.files(BENCHMARK_PACKAGE) / BENCHMARK_RESOURCE
    with importlib.resources.as_file(resource) as csv_path:
        frame = pd.read_csv(csv_path, parse_dates=[BENCHMARK_DATE_COLUMN])
    closes = frame.set_index(BENCHMARK_DATE_COLUMN)[BENCHMARK_CLOSE_COLUMN].astype("float64")
    closes.index = pd.DatetimeIndex(closes.index, name="date").as_unit("ns")
    return closes.rename(BENCHMARK_NAME).sort_index()


def benchmark_closes() -> pd.Series:
    """Daily closes of the S&P 500 index, indexed by date (1990-01-02 to 2022-12-28).

    Returns
    -------
    Series
        float64 closes, shape (8313,), a sorted ``DatetimeIndex`` named ``date``; no NaN.
        A fresh copy each call (the file is read once per process).
    """
    return _benchmark_closes().copy()


def benchmark_returns(closes: pd.Series | None = None) -> pd.Series:
    """Daily simple returns of the index: ``close[t] / close[t-1] - 1`` on its own calendar.

    Parameters
    ----------
    closes : Series, optional
        Closes indexed by date; default :func:`benchmark_closes`.

    Returns
    -------
    Series
        One return per date after the first, shape (len(closes) - 1,); no NaN.
    """
    series = benchmark_closes() if closes is None else closes.sort_index()
    return series.pct_change().iloc[1:].rename(BENCHMARK_NAME)


def align_returns(
    strategy_returns: pd.Series, benchmark_returns: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """The two return series on the dates both observed (NaN on either side drops the date).

    Returns
    -------
    tuple of ndarray
        Strategy and benchmark daily returns, each of shape (n_common,), in date order.
    """
    both = pd.concat(
        [strategy_returns.rename("strategy"), benchmark_returns.rename("benchmark")],
        axis=1,
        join="inner",
    ).dropna()
    both = both.sort_index()
    return (
        both["strategy"].to_numpy(dtype="float64", copy=True),
        both["benchmark"].to_numpy(dtype="float64", copy=True),
    )


def benchmark_metrics(
    strategy_returns: pd.Series, benchmark_returns: pd.Series
) -> dict[str, float]:
    r"""A strategy's return and risk relative to a benchmark, over the dates both have.

    With :math:`r_t` the strategy's and :math:`b_t` the benchmark's daily simple returns on the
    :math:`n` common dates, :math:`a_t = r_t - b_t` the active return, and :math:`s(\cdot)` the
    sample standard deviation (``ddof=1``):

    - ``benchmark_days``: :math:`n`.
    - ``benchmark_annual_return``: :math:`\left(\prod_t (1 + b_t)\right)^{252/n} - 1`.
    - ``excess_annual_return``: :math:`R_r - R_b`, the strategy's geometric annual return over
      the common dates minus the benchmark's (each as ``annual_return`` in
      :func:`~quant_assets.metrics.performance`).
    - ``beta``: :math:`\operatorname{cov}(r, b) / \operatorname{var}(b)` (both ``ddof=1``).
    - ``tracking_error``: :math:`s(a) \sqrt{252}`.
    - ``information_ratio``: :math:`\bar a / s(a) \cdot \sqrt{252}`, the arithmetic mean active
      return over its standard deviation, annualised like the Sharpe ratio in ``performance``
      (so it is *not* ``excess_annual_return / tracking_error``, whose numerator is geometric).

    Parameters
    ----------
    strategy_returns, benchmark_returns : Series
        Daily simple returns indexed by date. NaN values are dropped, then only the dates in
        both series are used.

    Returns
    -------
    dict of str to float
        The keys of ``BENCHMARK_METRIC_COLUMNS``. With fewer than ``MIN_OVERLAP_DAYS`` common
        dates (e.g. synthetic data after 2022) every value but ``benchmark_days`` is NaN;
        ``beta`` is NaN when the benchmark does not move, ``information_ratio`` when the active
        return is constant.

    Notes
    -----
    Dates are matched, not intervals: on a shared trading calendar (the bundled stocks and the
    index) both returns of a date span the same close-to-close interval. A strategy on another
    calendar (e.g. synthetic business days) is compared on the dates both have, and the index's
    return of a date the strategy lacks is left out. quantstats instead rebuilds the benchmark
    from prices on the strategy's dates (and sets its first return to 0); the tests compare the
    two on already aligned series.
    """
    strategy, benchmark = align_returns(strategy_returns, benchmark_returns)
    days = len(strategy)
    metrics = dict.fromkeys(BENCHMARK_METRIC_COLUMNS, float("nan"))
    metrics["benchmark_days"] = float(days)
    if days < MIN_OVERLAP_DAYS:
        return metrics
    strategy_annual = annual_return(strategy)
    benchmark_annual = annual_return(benchmark)
    active = strategy - benchmark
    active_stdev = float(active.std(ddof=1))
    benchmark_variance = float(benchmark.var(ddof=1))
    covariance = float(np.cov(strategy, benchmark, ddof=1)[0, 1])
    metrics["benchmark_annual_return"] = benchmark_annual
    metrics["excess_annual_return"] = strategy_annual - benchmark_annual
    metrics["tracking_error"] = active_stdev * ANNUALISER
    if benchmark_variance > 0:
        metrics["beta"] = covariance / benchmark_variance
    if active_stdev > 0:
        metrics["information_ratio"] = float(active.mean()) / active_stdev * ANNUALISER
    return metrics


def relative_leaderboard(
    leaderboard: pd.DataFrame, returns_wide: pd.DataFrame, benchmark: pd.Series
) -> pd.DataFrame:
    """The leaderboard with the columns of :func:`benchmark_metrics` appended.

    Parameters
    ----------
    leaderboard : DataFrame
        One row per strategy, with ``profile`` and ``engine`` columns (the ``leaderboard``
        asset); its row order is kept.
    returns_wide : DataFrame
        Daily net returns, dates x ``profile/engine`` columns (NaN where a strategy has none).
    benchmark : Series
        Daily benchmark returns indexed by date (see :func:`benchmark_returns`).

    Returns
    -------
    DataFrame
        A copy of ``leaderboard`` plus ``BENCHMARK_METRIC_COLUMNS``; a strategy with no returns
        column, or no date in common with the benchmark, gets NaN metrics (``benchmark_days``
        is an int, 0 then).
    """
    leaderboard = leaderboard.drop(columns=list(BENCHMARK_METRIC_COLUMNS), errors="ignore")
    rows = []
    for profile, engine in zip(leaderboard["profile"], leaderboard["engine"], strict=True):
        name = strategy_name(str(profile), str(engine))
        daily = returns_wide[name] if name in returns_wide else pd.Series(dtype="float64")
        rows.append(benchmark_metrics(daily, benchmark))
    extra = pd.DataFrame(rows, columns=list(BENCHMARK_METRIC_COLUMNS), index=leaderboard.index)
    extra["benchmark_days"] = extra["benchmark_days"].astype("int64")
    return pd.concat([leaderboard, extra], axis=1)
