"""Benchmark the synthetic market: does it look like a stock market, and how fast is it made?

Generates ``SyntheticSource(1000, 10, date(2024, 12, 31), 7)`` with ``fetch_many`` (a fresh
source, so the shared factors are generated inside the timing; best of REPEATS) and prints:

- the mean pairwise correlation of daily simple returns (pairs overlapping >= MIN_OVERLAP days,
  each pair on the days both trade; target 0.15-0.45);
- the equal-weight portfolio of the symbols alive each day (daily rebalanced, a symbol enters the
  day after its listing and leaves after its last bar): annual volatility (target 10-30%), mean
  annual return (target 0-15%), compound annual growth and Sharpe ratio (no risk-free rate);
- the share of symbols listing after the first date and delisting before the last (target >= 10%
  each), acquisitions and bankruptcies, and the share of crisis days;
- the generation time (target < 5 s) and, for scale, one symbol by ``fetch``.

Run with ``python benchmarks/bench_synthetic.py [n_symbols years seed]``.
"""

import sys
import time
from datetime import date

import numpy as np
import pandas as pd

from quant_assets.hydration.synthetic import TRADING_DAYS_PER_YEAR, SyntheticSource

N_SYMBOLS, YEARS, SEED = 1000, 10, 7
END = date(2024, 12, 31)
REPEATS = 3
MIN_OVERLAP = 63


def daily_returns(bars: dict[str, pd.DataFrame], dates: pd.DatetimeIndex) -> np.ndarray:
    """Simple returns, shape (n_days, n_symbols); NaN where a symbol does not trade both days."""
    closes = np.full((len(dates), len(bars)), np.nan)
    for column, frame in enumerate(bars.values()):
        closes[dates.get_indexer(frame["date"]), column] = frame["close"].to_numpy()
    returns: np.ndarray = closes[1:] / closes[:-1] - 1.0
    return returns


def mean_pairwise_correlation(returns: np.ndarray, min_overlap: int = MIN_OVERLAP) -> float:
    """Mean Pearson correlation over symbol pairs, each on the days both have a return."""
    present = (~np.isnan(returns)).astype(np.float64)
    x = np.nan_to_num(returns)
    count = present.T @ present
    sum_x = x.T @ present  # [i, j]: sum of i's returns on the days j also trades
    sum_xx = (x * x).T @ present
    sum_xy = x.T @ x
    covariance = count * sum_xy - sum_x * sum_x.T
    variance = count * sum_xx
    denominator = np.sqrt((variance - sum_x**2) * (variance.T - sum_x.T**2))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = covariance / denominator
    upper = np.triu(count >= min_overlap, k=1)
    return float(np.nanmean(correlation[upper]))


def equal_weight(returns: np.ndarray) -> dict[str, float]:
    """Annual statistics of the daily-rebalanced equal-weight portfolio of live symbols."""
    portfolio = np.nanmean(returns, axis=1)
    mean, sd = portfolio.mean(), portfolio.std(ddof=1)
    years = len(portfolio) / TRADING_DAYS_PER_YEAR
    return {
        "annual_return": mean * TRADING_DAYS_PER_YEAR,
        "annual_volatility": sd * np.sqrt(TRADING_DAYS_PER_YEAR),
        "cagr": float(np.prod(1.0 + portfolio) ** (1.0 / years) - 1.0),
        "sharpe": mean / sd * np.sqrt(TRADING_DAYS_PER_YEAR),
    }


def main(n_symbols: int, years: int, seed: int) -> None:
    timings = []
    for _ in range(REPEATS):
        source = SyntheticSource(n_symbols, years, END, seed)
        started = time.perf_counter()
        bars = source.fetch_many(source.symbols())
        timings.append(time.perf_counter() - started)
    one = SyntheticSource(n_symbols, years, END, seed)
    started = time.perf_counter()
    one.fetch(one.symbols()[0])
    single = time.perf_counter() - started

    returns = daily_returns(bars, source.dates)
    profiles = [source.profile(symbol) for symbol in source.symbols()]
    fates = pd.Series([p.fate for p in profiles]).value_counts()
    stats = equal_weight(returns)
    print(f"SyntheticSource({n_symbols}, {years}, {END}, seed={seed}): {len(source.dates)} days")
    print(f"generation, fetch_many of all: {min(timings):.2f} s (best of {REPEATS})")
    print(f"one fetch on a fresh source:   {single * 1e3:.0f} ms")
    print(f"mean pairwise correlation:     {mean_pairwise_correlation(returns):.3f}")
    print(f"equal-weight annual vol:       {stats['annual_volatility']:.1%}")
    print(f"equal-weight annual return:    {stats['annual_return']:.1%} (CAGR {stats['cagr']:.1%})")
    print(f"equal-weight Sharpe:           {stats['sharpe']:.2f}")
    print(f"listing after the first date:  {np.mean([p.first_index > 0 for p in profiles]):.1%}")
    print(f"delisted before the last date: {np.mean([p.fate != 'listed' for p in profiles]):.1%}")
    print(f"  acquired {fates.get('acquired', 0)}, bankrupt {fates.get('bankrupt', 0)}")
    print(f"crisis days:                   {source.crisis.mean():.1%}")


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:4]]
    main(*(arguments or [N_SYMBOLS, YEARS, SEED]))
