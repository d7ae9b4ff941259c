"""Benchmark: sweeps, every grid point a profile of one tournament, against points run alone.

Run with ``make bench``. On the bundled data (1990-2022) with the ``production`` profile (371
windows, 7 engines, top-10 selection), in one process:

- one point alone (``run_tournament`` with one profile, serial), and its allocation stage alone
  (what a point cannot share when its selection or weight cap differs from every other's);
- a 10-point grid (``top_n`` 4..12 x ``max_weight`` 0.25, 0.35) run point by point (the way a
  grid ran before sweeps: one tournament per point), then as one sweep, serial and ``local``;
- a 100-point grid (``top_n`` 3..12 x ``max_weight`` 0.34..0.7) as one sweep on ``local``.

Printed with the ratios of interest: the sweep against its points run alone, and each point's
marginal cost against one point's own allocations. Results go to
``benchmarks/results/sweep.json``. Timings share the machine with whatever else runs: compare
the ratios, measured in the same run.
"""

import json
import logging
import os
import time
import warnings
from pathlib import Path

import numpy as np

from quant_assets.hydration.sources import BundledSource
from quant_assets.settings import Settings
from quant_assets.sweep import sweep_profiles
from quant_assets.tournament import run_tournament
from quant_assets.tournament.choices import choose_holdings
from quant_assets.tournament.execution import execute
from quant_assets.tournament.walk_forward import plan_windows, validate_prices

RESULTS = Path(__file__).parent / "results" / "sweep.json"
TEN = {"top_n": [4, 6, 8, 10, 12], "max_weight": [0.25, 0.35]}
HUNDRED = {
    "top_n": list(range(3, 13)),
    "max_weight": [round(w, 2) for w in np.linspace(0.34, 0.7, 10)],
}
"""Every cap at least 1/top_n: a lower one is refused (it would repeat the 1/top_n point)."""


LOADS: list[float] = []
"""The 1-minute load average after each timing: the machine is shared, so say how busy it was."""


def timed(function) -> float:
    start = time.perf_counter()
    function()
    elapsed = time.perf_counter() - start
    LOADS.append(os.getloadavg()[0])
    return elapsed


def main() -> None:
    warnings.filterwarnings("ignore")
    logging.disable(logging.INFO)
    closes = validate_prices(BundledSource()._closes.rename_axis(index="date", columns="symbol"))
    serial = Settings.for_profile("production", executor="serial")
    local = serial.clone(executor="local")
    run_tournament(closes.iloc[:1500], {"warm-up": serial})  # numba, imports

    one = timed(lambda: run_tournament(closes, {"p": serial}))
    windows = plan_windows(closes, {"p": serial})
    choices = choose_holdings(closes, windows, {"p": serial})
    allocations = timed(lambda: execute(closes, windows, choices, {"p": serial}, serial))

    ten = sweep_profiles(serial, TEN)
    alone = sum(timed(lambda p=p, s=s: run_tournament(closes, {p: s})) for p, s in ten.items())
    ten_serial = timed(lambda: run_tournament(closes, ten, base=serial))
    ten_local = timed(lambda: run_tournament(closes, sweep_profiles(local, TEN), base=local))
    hundred = sweep_profiles(local, HUNDRED)
    hundred_local = timed(lambda: run_tournament(closes, hundred, base=local))

    report = {
        "cpus": os.cpu_count(),
        "load_averages": LOADS,
        "windows": len(windows),
        "engines": len(serial.engines),
        "one_point_seconds": one,
        "one_point_allocations_seconds": allocations,
        "ten_points_alone_seconds": alone,
        "ten_sweep_serial_seconds": ten_serial,
        "ten_sweep_local_seconds": ten_local,
        "hundred_sweep_local_seconds": hundred_local,
    }
    print(
        f"sweeps, bundled 1990-2022, production: {len(windows)} windows x "
        f"{len(serial.engines)} engines per point, {os.cpu_count()} CPUs"
    )
    print(f"  one point alone (serial)            {one:7.2f} s")
    print(f"  ... of which its allocations        {allocations:7.2f} s")
    print(f"  10 points, each alone (serial)      {alone:7.2f} s")
    print(
        f"  10-point sweep, serial              {ten_serial:7.2f} s   {alone / ten_serial:4.1f}x "
        f"faster than alone; {ten_serial / 10:.2f} s a point = "
        f"{ten_serial / 10 / allocations:.2f} x one point's allocations  (target < 8 s)"
    )
    print(
        f"  10-point sweep, local               {ten_local:7.2f} s   "
        f"{ten_serial / ten_local:4.2f}x serial  (target: faster than serial)"
    )
    print(
        f"  100-point sweep, local              {hundred_local:7.2f} s   "
        f"{hundred_local / 100:.2f} s a point  (target < 60 s)"
    )
    print(f"  1-minute load averages after each timing: {', '.join(f'{x:.1f}' for x in LOADS)}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
