"""Survivorship bias, measured once: point-in-time membership against a whole-history universe.

The old rule (before point-in-time membership) decided the run's universe on the WHOLE history:
only symbols with a close on the panel's last date, enough closes and few gaps over all dates,
entered the run, so every window saw survivors only. This script runs the production profile's
tournament on the synthetic market both ways and prints the two leaderboards side by side.
It is a measurement, not a setting: the platform only runs point in time.

    python benchmarks/measure_survivorship_bias.py [--symbols 1000] [--years 10]
"""

import argparse
import json
import time
from datetime import date
from pathlib import Path

import pandas as pd

from quant_assets.hydration import SyntheticSource
from quant_assets.settings import Settings
from quant_assets.tournament import run_tournament

RESULTS = Path(__file__).with_name("results") / "survivorship_bias.json"
DATA_ROOT = Path("data/lakehouse")
"""Where the local executor's scratch folder goes (beside it, in data/tmp)."""


def whole_history_survivors(closes: pd.DataFrame, settings: Settings) -> list[str]:
    """The old rule: alive on the last date, enough closes and few gaps over the whole history."""
    alive = closes.iloc[-1].notna()
    observations = closes.notna().sum()
    first = closes.apply(pd.Series.first_valid_index)
    span = pd.Series({s: int((closes.index >= first[s]).sum()) for s in closes.columns})
    missing = 1.0 - observations / span
    keep = (
        alive & (observations >= settings.min_history) & (missing <= settings.max_missing_fraction)
    )
    return sorted(keep[keep].index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    source = SyntheticSource(args.symbols, args.years, date(2024, 12, 31), args.seed)
    bars = source.fetch_many(source.symbols())
    closes = pd.DataFrame({s: b.set_index("date")["close"] for s, b in bars.items()}).sort_index()
    settings = Settings.for_profile(
        "production", executor="local", data_root=Path("data/lakehouse")
    )
    survivors = whole_history_survivors(closes, settings)
    print(
        f"{args.symbols} symbols x {args.years} years; {len(survivors)} survive the whole history"
    )
    boards = {}
    for name, prices in (("point_in_time", closes), ("whole_history", closes[survivors])):
        started = time.perf_counter()
        board = run_tournament(prices, {name: settings}).leaderboard
        print(f"{name}: {time.perf_counter() - started:.1f} s")
        boards[name] = board.set_index("engine")[["annual_return", "sharpe", "max_drawdown"]]
    both = boards["point_in_time"].join(boards["whole_history"], suffixes=("_pit", "_survivors"))
    both["sharpe_bias"] = both["sharpe_survivors"] - both["sharpe_pit"]
    both["return_bias"] = both["annual_return_survivors"] - both["annual_return_pit"]
    shown = {
        "display.width": 250,
        "display.max_columns": 20,
        "display.float_format": "{:.4f}".format,
    }
    with pd.option_context(*[item for pair in shown.items() for item in pair]):
        print(both.sort_values("sharpe_pit", ascending=False))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"survivors": len(survivors), **both.to_dict()}, indent=1))


main()
