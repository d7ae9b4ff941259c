"""The ``quant`` subcommands: each reads its parsed arguments, calls the SDK, prints the result.

Every handler takes ``(args, out)`` and returns the exit code. The SDK, and with it Dagster, is
imported only when a handler needs it (:func:`make_sdk`), so ``quant --help`` and
``quant settings`` stay quick.
"""

import argparse
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lakehouse.location import is_remote
from quant_assets.hydration.screener import DEFAULT_EXCHANGES
from quant_assets.hydration.symbol_lists import read_symbol_list
from quant_assets.settings import Settings
from quant_assets.settings_sources import ENVIRONMENT, OVERRIDE, explain_settings
from quant_sdk.console import Output, error_line, setting_text

if TYPE_CHECKING:
    from quant_sdk.run_catalog import RunSummary
    from quant_sdk.sdk import QuantSDK

EXIT_OK = 0
EXIT_FAILED = 1
"""A run or backfill failed, damage was found, or an unexpected error."""
EXIT_USAGE = 2
"""A user error: arguments, settings, run id, asset name, SQL."""
EXIT_INTERRUPTED = 130
CLI_DAGSTER_LOG_LEVEL = "CRITICAL"
"""Dagster's console logger in CLI runs: silent; our loggers tell the progress, and a failed run
ends in one error line (Dagster's ERROR events would print a traceback per step)."""
DEBUG_DAGSTER_LOG_LEVEL = "DEBUG"
DEFAULT_PROFILE = "canary"
RUN_LIST_COLUMNS = {
    "run_id": "run_id",
    "profile": "profile",
    "status": "status",
    "created_at": "when (UTC)",
    "best_engine": "best engine",
    "best_sharpe": "sharpe",
}
SYMBOLS_LISTED = 12
"""Symbols named in ``quant show``'s data line; more are counted."""
LEADERBOARD_TITLE = "leaderboard (out of sample, after costs)"
DAGSTER_URL_ENV = "QUANT_DAGSTER_URL"
"""The address of a team's ``dagster-webserver``, for ``--submit`` (read here, at the edge)."""
DAGSTER_HOME_ENV = "DAGSTER_HOME"


class UsageError(ValueError):
    """A mistake in the command line's arguments or environment (exit code 2).

    ``hint`` says what to do about it, when the message alone does not.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


# Building the SDK ---------------------------------------------------------------------------


def base_settings(args: argparse.Namespace) -> tuple[Settings, dict[str, str]]:
    """Settings from ``QUANT_*`` variables (read here, once) and ``--root``; their sources."""
    try:
        settings = Settings.from_environment()
        sources = dict.fromkeys(Settings.environment_fields(), ENVIRONMENT)
    except ValueError as error:
        raise UsageError(
            f"bad QUANT_* environment variable: {error_line(error)}",
            hint="fix or unset it (`env | grep ^QUANT_` lists them)",
        ) from error
    if args.root:
        settings = settings.clone(data_root=args.root)
        sources["data_root"] = OVERRIDE
    return settings, sources


def make_sdk(args: argparse.Namespace) -> "QuantSDK":
    """The SDK over :func:`base_settings`, Dagster's console quiet unless ``--debug``."""
    from quant_sdk.sdk import QuantSDK

    settings, sources = base_settings(args)
    level = DEBUG_DAGSTER_LOG_LEVEL if args.debug else CLI_DAGSTER_LOG_LEVEL
    dagster_url = getattr(args, "dagster_url", None) or os.environ.get(DAGSTER_URL_ENV) or None
    return QuantSDK(
        settings=settings,
        dagster_log_level=level,
        setting_sources=sources,
        dagster_url=dagster_url,
    )


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["top_n=5", 'engines=["hrp"]']`` -> ``{"top_n": 5, "engines": ["hrp"]}`` (JSON values).

    A value that is not JSON is taken as a string (``source=synthetic``).
    """
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(
                f"--set expects key=value, got {pair!r}",
                hint="`quant settings` lists every setting and its current value",
            )
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


# Hydration and runs -------------------------------------------------------------------------


def hydrate(args: argparse.Namespace, out: Output) -> int:
    """``quant hydrate``: bring market data into the lakehouse; print what is stored."""
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()] if args.symbols else None
    if args.symbols_file:
        symbols = _symbols_of_file(args.symbols_file)
    sdk = make_sdk(args)
    if args.submit:
        _require_dagster_url(sdk)
        submitted = sdk.submit_hydration(args.source, symbols, args.path, full=args.full)
        if out.json_mode:
            out.json([vars(run) for run in submitted])
        else:
            for run in submitted:
                out.line(f"hydration {run.run_id}: Dagster run {run.dagster_run_id} (queued)")
        return EXIT_OK
    stored = sdk.hydrate(args.source, symbols, args.path, full=args.full)
    if out.json_mode:
        out.json(stored)
    else:
        out.table(stored, limit=args.limit)
    return EXIT_OK


def screen(args: argparse.Namespace, out: Output) -> int:
    """``quant screen``: symbols from TradingView's screener; print them (and write ``--out``)."""
    found = make_sdk(args).screen(
        args.exchange or DEFAULT_EXCHANGES,
        args.min_market_cap,
        args.min_dollar_volume,
        args.limit,
        out=args.out,
    )
    if out.json_mode:
        out.json(found)
    elif found.empty:
        out.line("no listing passes these floors: lower --min-market-cap or --min-dollar-volume")
    else:
        out.table(found, title=f"{len(found)} symbols, largest market cap first:")
    return EXIT_OK


def new_run(args: argparse.Namespace, out: Output) -> int:
    """``quant new-run``: mint and register a run id; print it."""
    profile = args.profile or DEFAULT_PROFILE
    run_id = make_sdk(args).new_run(profile, **parse_overrides(args.set))
    if out.json_mode:
        out.json({"run_id": run_id, "profile": profile})
    else:
        out.line(run_id)
    return EXIT_OK


def run(args: argparse.Namespace, out: Output) -> int:
    """``quant run``: run ``production`` for a (new) run id; print where and its leaderboard."""
    if args.run_id and (args.set or args.profile):
        raise UsageError(
            f"--profile and --set choose the settings of a new run; run {args.run_id} "
            "already has its own",
            hint="drop --run-id to start a new run with them",
        )
    sdk = make_sdk(args)
    if args.submit:
        return _submit(sdk, args, out)
    run_id = args.run_id or sdk.new_run(
        args.profile or DEFAULT_PROFILE, **parse_overrides(args.set)
    )
    leaderboard = sdk.run(run_id=run_id)
    from quant_assets.tearsheet import tearsheet_path  # (matplotlib: not for `quant --help`)

    luck = _luck(sdk, run_id, leaderboard)

    example = sdk.store.run_dir("leaderboard", run_id)
    report = tearsheet_path(sdk.store, run_id)
    if out.json_mode:
        out.json(
            {
                "run_id": run_id,
                "lakehouse": str(sdk.store.root),
                "report": str(report),
                "luck": luck,
                "leaderboard": leaderboard,
            }
        )
        return EXIT_OK
    out.fields(
        [
            ("run_id:", run_id),
            ("lakehouse:", f"{sdk.store.root}  (e.g. {example})"),
            ("report:", f"{report}  ({_how_to_open(report, run_id)})"),
            *([("luck:", luck)] if luck else []),
        ]
    )
    out.table(leaderboard, title=f"{LEADERBOARD_TITLE}:")
    return EXIT_OK


def _submit(sdk: "QuantSDK", args: argparse.Namespace, out: Output) -> int:
    """``quant run --submit``: queue the run on the team's Dagster; print both run ids."""
    _require_dagster_url(sdk)
    profile = args.profile or DEFAULT_PROFILE
    submitted = sdk.submit(profile, run_id=args.run_id, **parse_overrides(args.set))
    if out.json_mode:
        out.json({**vars(submitted), "dagster_url": sdk.dagster_url})
        return EXIT_OK
    out.fields(
        [
            ("run_id:", submitted.run_id),
            ("dagster run:", f"{submitted.dagster_run_id}  (queued)"),
            ("follow it:", f"{sdk.dagster_url}/runs/{submitted.dagster_run_id}, `quant runs`"),
        ]
    )
    return EXIT_OK


def _require_dagster_url(sdk: "QuantSDK") -> None:
    if sdk.dagster_url is None:
        raise UsageError(
            "--submit needs the address of the team's Dagster webserver",
            hint=f"pass --dagster-url http://HOST:3000 or set {DAGSTER_URL_ENV}",
        )


def team_home(args: argparse.Namespace, out: Output) -> int:
    """``quant team-home``: write the dagster.yaml of a team's instance on PostgreSQL."""
    from pathlib import Path

    from dagster_defs.team import write_team_home

    folder = args.home or os.environ.get(DAGSTER_HOME_ENV)
    if not folder:
        raise UsageError(
            "which folder is the team's Dagster home?",
            hint=f"pass --home DIR or set {DAGSTER_HOME_ENV}",
        )
    try:
        home = write_team_home(Path(folder), args.postgres_url)
    except ValueError as error:
        raise UsageError(str(error)) from error
    if out.json_mode:
        out.json({"dagster_home": str(home)})
    else:
        out.line(
            f"wrote {home / 'dagster.yaml'}; start `dagster-daemon run` and `dagster-webserver` "
            f"with DAGSTER_HOME={home}"
        )
    return EXIT_OK


def parse_grid(pairs: list[str]) -> dict[str, list[Any]]:
    """``["top_n=5,10", "engines=hrp,min_variance"]`` -> ``{"top_n": [5, 10], "engines": [...]}``.

    Values are split at commas outside brackets and read as JSON where they are JSON
    (``5``, ``0.1``, ``["hrp","market"]``), else as strings (``hrp``, ``pkg.mod:Name?x=1``).
    """
    grid: dict[str, list[Any]] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key or not text:
            raise UsageError(
                f"--grid expects setting=value,value,..., got {pair!r}",
                hint="e.g. --grid top_n=5,10,20 --grid max_weight=0.1,0.2",
            )
        if key in grid:
            raise UsageError(f"--grid {key} is given twice", hint="list all its values once")
        values = []
        for item in _split_outside_brackets(text):
            try:
                values.append(json.loads(item))
            except json.JSONDecodeError:
                values.append(item)
        grid[key] = values
    return grid


def _split_outside_brackets(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p.strip() for p in [*parts, current] if p.strip()]


def sweep(args: argparse.Namespace, out: Output) -> int:
    """``quant sweep``: one production run holding every point of a grid; its leaderboard."""
    grid = parse_grid(args.grid)
    if not grid:
        raise UsageError("quant sweep needs at least one --grid", hint="e.g. --grid top_n=5,10")
    sdk = make_sdk(args)
    run_id = sdk.new_run(args.profile or DEFAULT_PROFILE, grid=grid, **parse_overrides(args.set))
    started = time.perf_counter()
    leaderboard = sdk.run(run_id=run_id)
    elapsed = time.perf_counter() - started
    points = len(sdk.load("run_manifest", run_id).get("points", {}))
    from quant_assets.tearsheet import tearsheet_path  # (matplotlib: not for `quant --help`)

    report = tearsheet_path(sdk.store, run_id)
    if out.json_mode:
        out.json(
            {
                "run_id": run_id,
                "points": points,
                "seconds": round(elapsed, 2),
                "report": str(report),
                "leaderboard": leaderboard,
            }
        )
        return EXIT_OK
    out.fields(
        [
            ("run_id:", run_id),
            ("sweep:", f"{points} points of {grid} in one run, {elapsed:.1f} s"),
            ("report:", f"{report}  ({_how_to_open(report, run_id)})"),
        ]
    )
    out.table(leaderboard, title=f"{LEADERBOARD_TITLE}:", limit=args.limit)
    return EXIT_OK


def runs(args: argparse.Namespace, out: Output) -> int:
    """``quant runs``: every run with its status, when it ran, and its best engine."""
    sdk = make_sdk(args)
    table = sdk.runs()
    if out.json_mode:
        out.json(table)
    elif table.empty:
        out.line(f"no runs in {sdk.store.root} yet: start one with `quant run`")
    else:
        shown = table.assign(created_at=table["created_at"].map(_when))
        out.table(shown[list(RUN_LIST_COLUMNS)].rename(columns=RUN_LIST_COLUMNS), limit=0)
    return EXIT_OK


# Reading runs -------------------------------------------------------------------------------


def show(args: argparse.Namespace, out: Output) -> int:
    """``quant show RUN_ID [ASSET]``: a run at a glance, or one of its stored assets."""
    sdk = make_sdk(args)
    if args.asset:
        return _print_asset(sdk.load(args.asset, args.run_id), args, out)
    summary = sdk.show(args.run_id)
    luck = _luck(sdk, summary.run_id, summary.leaderboard)
    if out.json_mode:
        out.json({**_summary_fields(summary), "luck": luck, "leaderboard": summary.leaderboard})
        return EXIT_OK
    out.fields(
        [
            ("run", summary.run_id),
            ("status", summary.status),
            *(("failed at", f"{step}: {error}") for step, error in summary.failures),
            ("profile", summary.profile or "(not recorded)"),
            ("when", f"{_when(summary.created_at)} UTC"),
            ("data", _span(summary.data)),
            ("assets", f"{len(summary.assets)} stored: {', '.join(summary.assets)}"),
            *([("luck", luck)] if luck else []),
        ]
    )
    out.line()
    if summary.settings is None:
        out.line("settings: not recorded (no manifest or run request)")
    elif summary.settings_changes.empty:
        out.line(f"settings: the {summary.profile} profile's, unchanged")
    else:
        changes = _as_text(summary.settings_changes, ["value", "profile_value"]).rename(
            columns={"profile_value": summary.profile}
        )
        out.table(
            changes, title=f"settings that differ from the {summary.profile} profile:", limit=0
        )
    out.line()
    if summary.leaderboard is None:
        out.line("leaderboard: not stored (see the status above)")
    elif summary.status != "complete":
        title = f"{LEADERBOARD_TITLE}, stored by a run that did not complete (status above):"
        out.table(summary.leaderboard, title=title, limit=0)
    else:
        out.table(summary.leaderboard, title=f"{LEADERBOARD_TITLE}:", limit=0)
    out.line(f"\none asset in full: quant show {summary.run_id} ASSET")
    return EXIT_OK


def load(args: argparse.Namespace, out: Output) -> int:
    """``quant load ASSET RUN_ID``: the old spelling of ``quant show RUN_ID ASSET``."""
    return _print_asset(make_sdk(args).load(args.asset, args.run_id), args, out)


def compare(args: argparse.Namespace, out: Output) -> int:
    """``quant compare RUN_A RUN_B``: leaderboards side by side and the settings that differ."""
    comparison = make_sdk(args).compare(args.run_a, args.run_b)
    if out.json_mode:
        out.json(
            {
                "run_a": _summary_fields(comparison.run_a),
                "run_b": _summary_fields(comparison.run_b),
                "settings": comparison.settings,
                "leaderboard": comparison.leaderboard,
            }
        )
        return EXIT_OK
    out.fields(
        (label, f"{s.run_id}  {s.profile or '?'}  {s.status}  {_span(s.data, names=False)}")
        for label, s in (("A", comparison.run_a), ("B", comparison.run_b))
    )
    out.line()
    if comparison.settings.empty:
        out.line("settings: the same")
    else:
        out.table(_as_text(comparison.settings, ["a", "b"]), title="settings that differ:", limit=0)
    out.line()
    keys = [c for c in ("profile", "engine") if c in comparison.leaderboard.columns]
    out.table(
        _metric_rows(comparison.leaderboard, keys),
        title=f"{LEADERBOARD_TITLE}, b - a:",
        limit=0,
        sections=keys[-1],
    )
    return EXIT_OK


def query(args: argparse.Namespace, out: Output) -> int:
    """``quant query SQL``: read-only SQL over every asset (one DuckDB view each)."""
    result = make_sdk(args).query(args.sql)
    if out.json_mode:
        out.json(result if args.limit is None else result.head(args.limit))
    else:
        out.table(result, limit=args.limit)
    return EXIT_OK


def settings(args: argparse.Namespace, out: Output) -> int:
    """``quant settings``: the resolved settings and where each value came from."""
    base, sources = base_settings(args)
    profile = args.profile or DEFAULT_PROFILE
    explained = explain_settings(profile, parse_overrides(args.set), base, sources)
    if args.changed:
        explained = explained[explained["source"] != "default"]
    if out.json_mode:
        out.json(explained)
    else:
        out.table(explained.assign(value=explained["value"].map(setting_text)), limit=0)
    return EXIT_OK


def report(args: argparse.Namespace, out: Output) -> int:
    """``quant report RUN_ID [--out FILE]``: write the run's self-contained HTML tear-sheet."""
    path = make_sdk(args).report(args.run_id, args.out)
    if out.json_mode:
        out.json({"run_id": args.run_id, "path": str(path)})
    else:
        out.line(str(path))
    return EXIT_OK


# Helpers ------------------------------------------------------------------------------------


def _symbols_of_file(path: str) -> list[str]:
    """The symbols of a symbol list file; a missing or bad file is a :class:`UsageError`."""
    try:
        return read_symbol_list(path)
    except (OSError, ValueError) as error:
        raise UsageError(
            error_line(error),
            hint="a symbol list holds one symbol per line (# comments); "
            "`quant screen --out FILE` writes one",
        ) from error


def _print_asset(value: Any, args: argparse.Namespace, out: Output) -> int:
    if not isinstance(value, pd.DataFrame):
        out.json(value)  # a JSON document prints as JSON either way
    elif out.json_mode:
        out.json(value if args.limit is None else value.head(args.limit))
    else:
        out.table(value, limit=args.limit)
    return EXIT_OK


def _as_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame.assign(**{column: frame[column].map(setting_text) for column in columns})


def _metric_rows(side_by_side: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per engine and metric: ``a``, ``b``, ``b - a`` (narrow enough for a terminal)."""
    from quant_sdk.run_catalog import COMPARED_METRICS

    rows = [
        (
            *(row[k] for k in keys),
            metric,
            row[f"{metric}_a"],
            row[f"{metric}_b"],
            row[f"{metric}_diff"],
        )
        for _, row in side_by_side.iterrows()
        for metric in COMPARED_METRICS
    ]
    return pd.DataFrame(rows, columns=[*keys, "metric", "a", "b", "b - a"]).astype(
        {"a": "float64", "b": "float64", "b - a": "float64"}
    )


def _luck(sdk: "QuantSDK", run_id: str, leaderboard: pd.DataFrame | None) -> str | None:
    """The best strategy's DSR and the run's PBO in one line (None for runs before them)."""
    from quant_assets.overfitting.summary import luck_summary

    folder = sdk.store.run_dir("overfitting", run_id)
    overfitting = sdk.load("overfitting", run_id) if folder.exists() else None
    return luck_summary(leaderboard, overfitting if isinstance(overfitting, pd.DataFrame) else None)


def _summary_fields(summary: "RunSummary") -> dict[str, Any]:
    return {
        "run_id": summary.run_id,
        "status": summary.status,
        "profile": summary.profile,
        "created_at": summary.created_at,
        "dagster_status": summary.dagster_status,
        "data": summary.data,
        "assets": summary.assets,
        "settings_changes": summary.settings_changes,
        "failures": [{"step": step, "error": error} for step, error in summary.failures],
    }


def _when(created_at: str) -> str:
    """``2026-11-26T02:49:36+00:00`` -> ``2026-11-26 02:49:36``."""
    return created_at[: len("2026-11-26T02:49:36")].replace("T", " ")


def _span(data: dict[str, Any], names: bool = True) -> str:
    symbols = data["symbols"]
    text = f"{len(symbols)} symbols"
    if not data["first_date"]:
        text += " in the lakehouse when it ran (closes not stored)"
    if data["first_date"]:
        text += f", {data['first_date']} to {data['last_date']} ({data['days']:,} days)"
    if names and symbols:
        listed = ", ".join(symbols[:SYMBOLS_LISTED])
        more = len(symbols) - SYMBOLS_LISTED
        text += f": {listed}" + (f" and {more:,} more" if more > 0 else "")
    return text


def _how_to_open(report: Path, run_id: str) -> str:
    """How to open a stored tear-sheet: in a browser, or first copied out of object storage."""
    if is_remote(report):
        return f"`quant report {run_id} --out report.html` writes a copy to open in a browser"
    return "open it in a browser"
