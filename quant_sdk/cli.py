"""The ``quant`` command line: hydrate, screen, run, list, show, compare and query runs.

Every subcommand has ``--help``; those that print data take ``--json``. Exit codes: 0 done;
1 a run or backfill failed (or an unexpected error); 2 a user error (arguments, settings, run
id, asset name, SQL). An error prints one line and a hint; ``--debug`` adds the traceback and
Dagster's own event log. Progress goes to stderr, data to stdout.
"""

import argparse
import errno
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from importlib import metadata
from typing import Any

from quant_assets.hydration.screener import (
    DEFAULT_LIMIT,
    DEFAULT_MIN_DOLLAR_VOLUME,
    DEFAULT_MIN_MARKET_CAP,
    SCREENER_EXCHANGES,
)
from quant_assets.settings import PROFILES
from quant_sdk import commands, maintenance_commands
from quant_sdk.commands import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from quant_sdk.console import Output, error_line, platform_logging

BACKFILL_POLICY_BETA_WARNING = (
    r"Parameter `backfill_policy` of function `asset` is currently in beta"
)
"""Dagster's BetaWarning about ``market_data``'s single-run backfill policy, filtered here."""
DISTRIBUTION = "quant-lakehouse"
STORAGE_HINTS = {
    errno.ENOSPC: "free space on that disk (or use --root elsewhere) and run again: "
    "nothing half-written was published",
    errno.EDQUOT: "free space within your disk quota and run again",
    errno.EROFS: "the lakehouse is on a read-only file system: remount it writable or use --root "
    "(read-only commands: runs, show, query, stale, doctor without --repair)",
    errno.EACCES: "you may not write there: check the folder's owner and permissions",
    errno.EPERM: "you may not write there: check the folder's owner and permissions",
    errno.EIO: "the disk reported an input/output error: check it (dmesg), then `quant doctor`",
}
"""Hints for the platform's own storage errors, by errno: a cause, never "probably a bug"."""
RUN_ID_HELP = "a run id, YYYYMMDD-HHMMSS-xxxx (`quant runs` lists them)"
Handler = Callable[[argparse.Namespace, Output], int]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``quant`` and every subcommand."""
    parser = argparse.ArgumentParser(
        prog="quant",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="`quant COMMAND --help` describes a command and its flags.",
    )
    _global_options(parser, top_level=True)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, text: str, data: bool = True, **kw: Any) -> Any:
        sub = subcommands.add_parser(name, help=text, description=text, **kw)
        _global_options(sub, top_level=False)
        if data:
            sub.add_argument("--json", action="store_true", help="print JSON (for scripts)")
        sub.set_defaults(handler=handler)
        return sub

    hydrate = add(
        "hydrate", commands.hydrate, "bring market data into the lakehouse (one Dagster run)"
    )
    hydrate.add_argument("--source", help="bundled (default), synthetic, files or yfinance")
    chosen = hydrate.add_mutually_exclusive_group()
    chosen.add_argument("--symbols", metavar="A,B", help="comma-separated symbols (default: all)")
    chosen.add_argument(
        "--symbols-file", metavar="FILE", help="symbols one per line (`quant screen --out FILE`)"
    )
    hydrate.add_argument("--path", metavar="DIR", help="folder of <SYMBOL>.csv|.parquet (files)")
    hydrate.add_argument("--full", action="store_true", help="re-fetch whole histories")
    _submit_options(hydrate)
    _limit(hydrate)

    screen = add(
        "screen",
        commands.screen,
        "find symbols on TradingView's screener for a yfinance hydration (online extra)",
    )
    screen.add_argument(
        "--exchange",
        action="append",
        type=str.upper,
        choices=SCREENER_EXCHANGES,
        metavar="X",
        help=f"{', '.join(SCREENER_EXCHANGES)}; repeatable (default: NASDAQ and NYSE)",
    )
    screen.add_argument(
        "--min-market-cap",
        type=float,
        default=DEFAULT_MIN_MARKET_CAP,
        metavar="USD",
        help="market cap floor (default: %(default).0e)",
    )
    screen.add_argument(
        "--min-dollar-volume",
        type=float,
        default=DEFAULT_MIN_DOLLAR_VOLUME,
        metavar="USD",
        help="floor of the 30-day average dollar volume (default: %(default).0e)",
    )
    screen.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help="symbols kept, largest market cap first (default: %(default)s)",
    )
    screen.add_argument("--out", metavar="FILE", help="also write the symbols there, one a line")

    new_run = add("new-run", commands.new_run, "mint and register a run id; print it")
    _settings_options(new_run)
    run = add("run", commands.run, "run the production job for a new run id; print its leaderboard")
    _settings_options(run)
    run.add_argument("--run-id", metavar="ID", help="(re)materialize an existing run instead")
    _submit_options(run)
    team_home = add(
        "team-home",
        commands.team_home,
        "write the dagster.yaml of a team's instance on PostgreSQL (queue, run monitoring)",
    )
    team_home.add_argument(
        "--postgres-url",
        required=True,
        metavar="URL",
        help="postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE of the instance's storage",
    )
    team_home.add_argument(
        "--home", metavar="DIR", help="the team's Dagster home (default: $DAGSTER_HOME)"
    )

    sweep = add(
        "sweep",
        commands.sweep,
        "run a grid of settings as one production run; print its leaderboard",
    )
    _settings_options(sweep)
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a setting and its values (top_n=5,10,20; engines=hrp,min_variance); repeatable: "
        "every combination is a point",
    )
    _limit(sweep)

    add("runs", commands.runs, "list every run: status, profile, when, best engine and Sharpe")
    show = add(
        "show", commands.show, "one run: leaderboard, settings changed, data span; or one asset"
    )
    show.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    show.add_argument("asset", metavar="ASSET", nargs="?", help="print this stored asset instead")
    _limit(show)
    load = add("load", commands.load, "print one run's stored asset (same as `show RUN_ID ASSET`)")
    load.add_argument("asset", metavar="ASSET", help="a stored asset, e.g. leaderboard")
    load.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    _limit(load)
    compare = add(
        "compare", commands.compare, "two runs' leaderboards side by side, and differing settings"
    )
    compare.add_argument("run_a", metavar="RUN_A", help="the first run (a)")
    compare.add_argument("run_b", metavar="RUN_B", help="the second run (b); differences are b - a")
    query = add(
        "query",
        commands.query,
        "read-only SQL over every asset (one DuckDB view each)",
        aliases=["sql"],
    )
    query.add_argument(
        "sql", metavar="SQL", help='e.g. "SELECT run_id, engine, sharpe FROM leaderboard"'
    )
    _limit(query)
    settings = add("settings", commands.settings, "the resolved settings and where each comes from")
    _settings_options(settings)
    settings.add_argument("--changed", action="store_true", help="only values not from defaults")

    stale = add(
        "stale",
        maintenance_commands.stale,
        "stale, new and vanished symbols (lakehouse alone)",
    )
    stale.add_argument("--source", help="bundled, synthetic, files or yfinance (default: settings)")
    stale.add_argument("--all", action="store_true", help="also list the fresh symbols")
    _limit(stale)
    backfill = add(
        "backfill-stale",
        maintenance_commands.backfill_stale,
        "one Dagster backfill of the stale and new symbols",
    )
    backfill.add_argument("--source", help="bundled, synthetic, files or yfinance")
    backfill.add_argument(
        "--wait", action="store_true", help="wait until the daemon has run it (needs make dev)"
    )
    report = add("report", commands.report, "write a run's self-contained HTML tear-sheet")
    report.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    report.add_argument(
        "--out", metavar="FILE", help="also write it here (default: beside the run)"
    )
    doctor = add(
        "doctor",
        maintenance_commands.doctor,
        "check every stored file (readable, checksum, contract)",
    )
    doctor.add_argument(
        "--repair",
        action="store_true",
        help="move damaged files aside and re-hydrate damaged market data in full",
    )
    _limit(doctor)
    prune = add(
        "prune",
        maintenance_commands.prune,
        "remove all but the newest runs (lakehouse and Dagster)",
    )
    prune.add_argument("--keep-last", type=int, required=True, metavar="N", help="runs to keep")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``quant``; return the exit code (argparse exits 2 itself on bad arguments)."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    with platform_logging(debug=args.debug), warnings.catch_warnings():
        if not args.debug:
            _quiet_library_warnings()
        try:
            return handler(args, Output(json_mode=getattr(args, "json", False)))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:  # the reader stopped early (`quant runs | head`): not an error
            _silence_stdout()
            return 0
        except Exception as error:
            return _report(error, args.debug)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's flush at exit does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. captured in tests)
        pass


def _global_options(parser: argparse.ArgumentParser, top_level: bool) -> None:
    """``--root`` and ``--debug``, accepted before or after the subcommand.

    A subcommand's copies default to SUPPRESS, so they do not overwrite a value given before
    the subcommand.
    """
    parser.add_argument(
        "--root",
        metavar="DIR",
        default=None if top_level else argparse.SUPPRESS,
        help="lakehouse root (default: $QUANT_DATA_ROOT or data/lakehouse)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="on error, print the traceback; show Dagster's event log and warnings",
    )


def _settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), help="named settings profile (default: canary)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, value as JSON (top_n=5, engines='[\"hrp\"]'); repeatable",
    )


def _submit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--submit",
        action="store_true",
        help="queue the run(s) on the team's Dagster (through its webserver) and return",
    )
    parser.add_argument(
        "--dagster-url",
        metavar="URL",
        help="the team's Dagster webserver for --submit (default: $QUANT_DAGSTER_URL)",
    )


def _limit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="rows to print (default: 40 in a table, all with --json; 0: all)",
    )


def _quiet_library_warnings() -> None:
    """Filter Dagster's BetaWarning about ``backfill_policy`` (by its exact message)."""
    from dagster import BetaWarning

    warnings.filterwarnings("ignore", message=BACKFILL_POLICY_BETA_WARNING, category=BetaWarning)


def _report(error: Exception, debug: bool) -> int:
    """Print one error line and a hint (or the traceback with ``--debug``); the exit code."""
    code, hint = _classify(error)
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    print(f"error: {error_line(error)}", file=sys.stderr)
    if not debug:
        print(f"hint: {hint}; --debug shows the traceback", file=sys.stderr)
    return code


def _classify(error: Exception) -> tuple[int, str]:
    """(exit code, hint) for ``error``."""
    from lakehouse import InvalidRunId, InvalidSymbol
    from lakehouse.commits import NO_WRITE_ERRNOS
    from quant_assets.hydration.online import MissingExtraError, SourceUnreachable
    from quant_sdk.execution import RunFailedError
    from quant_sdk.sdk import NothingStoredError

    if isinstance(error, commands.UsageError) and error.hint:
        return EXIT_USAGE, error.hint
    if isinstance(error, MissingExtraError):
        return EXIT_USAGE, f"install the online sources: {error.install}"
    if isinstance(error, SourceUnreachable):
        return EXIT_FAILED, "online sources need internet access (and any proxy set up)"
    if isinstance(error, RunFailedError):
        return EXIT_FAILED, "the run's full event log is in the Dagster UI (`make dev`)"
    if isinstance(error, InvalidRunId | LookupError):
        return EXIT_USAGE, "`quant runs` lists the run ids"
    if isinstance(error, InvalidSymbol):
        return EXIT_USAGE, '`quant query "SELECT DISTINCT symbol FROM market_data"` lists them'
    if isinstance(error, FileNotFoundError):
        return EXIT_USAGE, "`quant show RUN_ID` lists a run's stored assets"
    if _is_duckdb_error(error):
        return EXIT_USAGE, "each stored asset is a view of the same name (leaderboard, features...)"
    if isinstance(error, ValueError):
        return EXIT_USAGE, "`quant settings` lists the settings; `quant COMMAND --help` the flags"
    if isinstance(error, NothingStoredError):
        return EXIT_FAILED, "each refused symbol's reason is in quarantine/symbol=<SYM>/"
    if isinstance(error, OSError) and error.errno in NO_WRITE_ERRNOS:
        return EXIT_FAILED, STORAGE_HINTS.get(error.errno, "check the lakehouse's disk")
    if isinstance(error, RuntimeError | TimeoutError):
        return EXIT_FAILED, "see the log lines above"
    return EXIT_FAILED, f"unexpected {type(error).__name__}, probably a bug"


def _is_duckdb_error(error: Exception) -> bool:
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(error, duckdb.Error)


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
