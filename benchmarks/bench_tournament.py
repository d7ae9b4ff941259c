"""Benchmark: our walk-forward against skfolio's, and the whole production tournament.

Run with ``make bench``. In one process, on the bundled data from 2010 on, a long-only
minimum-variance walk-forward (train 252, test 21, sample covariance, whole universe, daily
rebalancing, no costs, no cap, simple returns) is timed for skfolio's
``cross_val_predict(MeanRisk(), X, cv=WalkForward(252, 21))`` and for ours, best of N after a
warm-up; parity figures are printed beside the ratio. Then the bundled ``production``
tournament (every engine, every window, 1990-2022) is timed on each executor. Results are also
written to ``benchmarks/results/tournament.json``.
"""

import json
import logging
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from quant_assets.hydration.sources import BundledSource
from quant_assets.settings import Settings
from quant_assets.tournament import run_tournament

REPEATS = 5
RESULTS = Path(__file__).parent / "results" / "tournament.json"


def best_of(repeats: int, function) -> tuple[float, object]:
    function()  # warm-up
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def parity(closes: pd.DataFrame) -> dict:
    from skfolio.model_selection import WalkForward, cross_val_predict
    from skfolio.optimization import MeanRisk
    from skfolio.preprocessing import prices_to_returns

    prices = closes.loc["2010":]
    returns = prices_to_returns(prices)
    settings = Settings.for_profile(
        "canary",
        engines=["min_variance"],
        train=252,
        test=21,
        covariance="sample",
        selection="all",
        drift=False,
        cost_bps=0.0,
        max_weight=1.0,
        min_effective_holdings=1.0,
        executor="serial",
    )
    skfolio_seconds, predicted = best_of(
        REPEATS,
        lambda: cross_val_predict(
            MeanRisk(), returns, cv=WalkForward(train_size=252, test_size=21)
        ),
    )
    ours_seconds, ours = best_of(REPEATS, lambda: run_tournament(prices, {"p": settings}))
    theirs = pd.Series(predicted.returns, index=pd.DatetimeIndex(predicted.observations))
    mine = ours.returns["p/min_variance"]
    weight_gap, variance_ratio = 0.0, 0.0
    for window, portfolio in zip(ours.windows.itertuples(), predicted.portfolios, strict=True):
        train = returns.loc[window.train_start : window.train_end]
        cov = np.cov(train.to_numpy(), rowvar=False)
        w = (
            ours.weights.query("window == @window.window")
            .set_index("symbol")["weight"]
            .reindex(train.columns)
            .to_numpy()
        )
        weight_gap = max(weight_gap, float(np.abs(w - portfolio.weights).max()))
        variance_ratio = max(
            variance_ratio, float((w @ cov @ w) / (portfolio.weights @ cov @ portfolio.weights))
        )
    return {
        "windows": len(ours.windows),
        "same_test_dates": bool(mine.index.equals(theirs.index)),
        "max_daily_return_gap": float(np.abs(mine.to_numpy() - theirs.to_numpy()).max()),
        "max_weight_gap": weight_gap,
        "worst_in_sample_variance_ratio_ours_over_skfolio": variance_ratio,
        "skfolio_seconds": skfolio_seconds,
        "ours_seconds": ours_seconds,
        "speedup": skfolio_seconds / ours_seconds,
    }


def production(closes: pd.DataFrame) -> dict:
    timings = {}
    for executor in ("serial", "local", "ray"):
        settings = Settings.for_profile("production", executor=executor)
        start = time.perf_counter()
        result = run_tournament(closes, {"production": settings})
        timings[executor] = {
            "seconds": time.perf_counter() - start,
            "windows": len(result.windows),
            "engines": len(settings.engines),
            "vetoes": len(result.vetoes),
        }
    return timings


def main() -> None:
    warnings.filterwarnings("ignore")
    logging.disable(logging.INFO)
    closes = BundledSource()._closes.astype("float64")
    report = {"cpus": os.cpu_count(), "parity": parity(closes), "production": production(closes)}
    p = report["parity"]
    print(
        f"min-variance walk-forward, bundled 2010-2022, {p['windows']} windows (best of {REPEATS})"
    )
    print(f"  skfolio cross_val_predict  {p['skfolio_seconds'] * 1e3:8.1f} ms")
    print(f"  ours                       {p['ours_seconds'] * 1e3:8.1f} ms")
    print(f"  speedup                    {p['speedup']:8.1f}x   (target >= 10x)")
    print(f"  same test dates: {p['same_test_dates']}")
    print(f"  max daily return gap {p['max_daily_return_gap']:.2e} (bar 5e-5)")
    print(f"  max weight gap {p['max_weight_gap']:.2e} (skfolio's interior point stops short)")
    ratio = p["worst_in_sample_variance_ratio_ours_over_skfolio"]
    print(f"  worst in-sample variance ours/skfolio {ratio:.12f} (bar <= 1 + 1e-9)")
    print("production tournament, bundled 1990-2022, all engines (target < 60 s):")
    for executor, row in report["production"].items():
        print(
            f"  {executor:7s} {row['seconds']:6.1f} s  {row['windows']} windows x "
            f"{row['engines']} engines, {row['vetoes']} vetoes"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
