"""The ``quant`` command line: a thin wrapper over :class:`quant_sdk.sdk.QuantSDK`."""

import argparse
import json
import logging
import sys
from typing import Any

import pandas as pd

from lakehouse import InvalidRunId, InvalidSymbol
from quant_assets.settings import Settings
from quant_sdk.sdk import QuantSDK

PRINT_ROWS = 40
STATUSES = ("stale", "new", "vanished", "fresh")


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["top_n=5", 'engines=["hrp"]']`` -> ``{"top_n": 5, "engines": ["hrp"]}`` (JSON values)."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects key=value, got {pair!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def _print_frame(frame: pd.DataFrame) -> None:
    with pd.option_context("display.width", 160, "display.max_columns", 30):
        print(frame.head(PRINT_ROWS).to_string(index=False))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="quant", description=__doc__)
    parser.add_argument(
        "--root", help="lakehouse root (default: $QUANT_DATA_ROOT or data/lakehouse)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    hydrate = commands.add_parser("hydrate", help="bring market data into the lakehouse")
    hydrate.add_argument("--source", help="bundled (default), synthetic, files or yfinance")
    hydrate.add_argument("--symbols", help="comma-separated symbols (default: all of the source)")
    hydrate.add_argument("--path", help="folder of <SYMBOL>.csv|.parquet for --source files")
    hydrate.add_argument("--full", action="store_true", help="re-fetch whole histories")

    for name, text in (
        ("new-run", "mint and register a run_id; print it"),
        ("run", "run the production job for a run_id (new by default); print the leaderboard"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--profile", default="canary", help="canary (default) or production")
        sub.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a setting (JSON value), repeatable",
        )
        if name == "run":
            sub.add_argument("--run-id", help="an existing run id to (re)materialize")

    sql = commands.add_parser("sql", help="query every asset with DuckDB (one view per asset)")
    sql.add_argument("query", help='e.g. "SELECT run_id, count(*) FROM features GROUP BY 1"')

    load = commands.add_parser("load", help="print one run's stored asset")
    load.add_argument("asset")
    load.add_argument("run_id")

    commands.add_parser("runs", help="list run ids with stored assets")

    stale = commands.add_parser(
        "stale", help="list stale, new and vanished symbols (from the lakehouse alone)"
    )
    stale.add_argument("--source", help="bundled, synthetic, files or yfinance (default: settings)")
    stale.add_argument("--all", action="store_true", help="also list the fresh symbols")

    backfill = commands.add_parser(
        "backfill-stale",
        help="launch one Dagster backfill of market_data for the stale and new symbols",
    )
    backfill.add_argument("--source", help="bundled, synthetic, files or yfinance")
    backfill.add_argument(
        "--wait", action="store_true", help="wait until the daemon has run it (needs make dev)"
    )

    prune = commands.add_parser(
        "prune", help="remove all but the newest runs from the lakehouse and Dagster"
    )
    prune.add_argument("--keep-last", type=int, required=True, metavar="N", help="runs to keep")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``quant`` command line."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for package in ("quant_assets", "quant_sdk", "dagster_defs"):
        logging.getLogger(package).setLevel(logging.INFO)
    try:
        settings = Settings.from_environment()  # the one read of QUANT_* variables
    except ValueError as error:
        print(f"error: bad QUANT_* environment variable: {error}", file=sys.stderr)
        return 2
    sdk = QuantSDK(root=args.root, settings=settings)
    try:
        return _dispatch(sdk, args)
    except (InvalidRunId, InvalidSymbol, FileNotFoundError, LookupError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _dispatch(sdk: QuantSDK, args: argparse.Namespace) -> int:
    if args.command == "hydrate":
        symbols = args.symbols.split(",") if args.symbols else None
        _print_frame(sdk.hydrate(args.source, symbols, args.path, full=args.full))
    elif args.command == "new-run":
        print(sdk.new_run(args.profile, **parse_overrides(args.set)))
    elif args.command == "run":
        run_id = args.run_id or sdk.new_run(args.profile, **parse_overrides(args.set))
        leaderboard = sdk.run(run_id=run_id)
        print(f"run_id:     {run_id}")
        print(f"lakehouse:  {sdk.store.root}  (e.g. {sdk.store.run_dir('features', run_id)})")
        print("leaderboard (out of sample, after costs):")
        _print_frame(leaderboard)
    elif args.command == "sql":
        _print_frame(sdk.query(args.query))
    elif args.command == "load":
        value = sdk.load(args.asset, args.run_id)
        if isinstance(value, pd.DataFrame):
            _print_frame(value)
        else:
            print(json.dumps(value, indent=2))
    elif args.command == "runs":
        print("\n".join(sdk.run_ids()))
    elif args.command == "stale":
        status = sdk.stale_symbols(args.source)
        counts = status["status"].value_counts()
        print(", ".join(f"{counts.get(name, 0)} {name}" for name in STATUSES))
        shown = status if args.all else status[status["status"] != "fresh"]
        if len(shown):
            _print_frame(shown)
    elif args.command == "backfill-stale":
        try:
            backfill_id = sdk.backfill_stale(args.source, wait=args.wait)
        except (RuntimeError, TimeoutError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(backfill_id or "every symbol is fresh: no backfill")
    elif args.command == "prune":
        pruned = sdk.prune_runs(args.keep_last)
        print(f"pruned {len(pruned)} runs" + "".join(f"\n  {run_id}" for run_id in pruned))
    return 0


if __name__ == "__main__":
    sys.exit(main())
