"""Benchmark: the whole Dagster path on large synthetic universes, with time and memory per stage.

Run with ``make bench-scale`` (or ``python benchmarks/bench_scale.py [--symbols 1000 5000]``).
For each universe size, a fresh child process, in a fresh lakehouse and Dagster home under a
temporary folder:

1. hydrates ``N`` synthetic symbols x ``--years`` years (the realistic generator) in ONE Dagster
   run (``QuantSDK.hydrate``);
2. mints a ``production`` run (every engine, monthly windows, top-N selection) and materializes
   it end to end (``QuantSDK.run``) on the ``--executor`` (default ``local``).

Then a second fresh child writes the same synthetic market as a folder of ``N`` CSV files (one
per symbol: date, open, high, low, close, volume; not timed) and hydrates it with the ``files``
source through the same Dagster path: its hydration time is printed beside the synthetic
source's (target: within :data:`FILES_TARGET_RATIO` of it). ``--hydration-only`` runs just
these two hydrations per size (no ``production`` run), the smallest run that shows the figure,
and writes ``benchmarks/results/scale_hydration.json``.

The parent samples the resident memory (RSS) of the child and all its descendants (pool workers,
Ray) every :data:`SAMPLE_SECONDS`, and reads each Dagster step's start and end from the run's
event log. Stages group the steps (a check's step counts with its asset's stage):

    hydrate | universe/closes | features | regimes | selection | tournament | report

The table printed gives each stage's seconds and the peak RSS of any one process while it ran,
the totals, and the targets; then where the hydration run's time went: creating the Dagster
run (it logs one "planned" event per symbol partition), fetching, validating, writing and
recording the symbols (a materialization each; a check result where the quarantine status
changed: a batch is recorded while the next is written, so the two overlap), and the step's
end (the run's summary), read from the timestamps of the run's event log. Results are written
to ``benchmarks/results/scale.json``.

``--instance postgres`` (``make bench-scale ARGS="--instance postgres"``) measures a team's
instance instead: for each child the benchmark starts a PostgreSQL server of its own
(:mod:`quant_sdk.local_postgres`, a fresh cluster on a free loopback port) and writes the team
``dagster.yaml`` (:func:`dagster_defs.team.write_team_home`) into the child's Dagster home; the
SDK runs in the child's process, holding pooled connections (runs the daemon launches would
not: :func:`quant_sdk.execution.hold_pooled_connections`). It hydrates each size (default
2,000 and 5,000 symbols; targets :data:`POSTGRES_TARGETS`) on it, then runs ``production`` on
the smallest size on PostgreSQL and in laptop mode (the default SQLite home), in
:data:`PRODUCTION_ROUNDS` rounds of one child each (PostgreSQL, then laptop), each child
running it :data:`PRODUCTION_REPEATS` times, and prints the ratio of the medians (target:
PostgreSQL within :data:`PRODUCTION_TARGET_RATIO` of the laptop).
Results go to ``benchmarks/results/scale_postgres.json``.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from dagster_defs.team import write_team_home
from quant_sdk import local_postgres

RESULTS = Path(__file__).parent / "results" / "scale.json"
HYDRATION_RESULTS = RESULTS.with_name("scale_hydration.json")
POSTGRES_RESULTS = RESULTS.with_name("scale_postgres.json")
POSTGRES_TARGETS = {2000: 40.0, 5000: 60.0}
"""Symbols -> seconds a hydration on a PostgreSQL instance may take."""
PRODUCTION_TARGET_RATIO = 1.10
"""A ``production`` run on PostgreSQL may take at most this multiple of the laptop mode's."""
PRODUCTION_REPEATS = 3
"""``production`` runs in each child of ``--instance postgres``."""
PRODUCTION_ROUNDS = 2
"""Children per instance, PostgreSQL and laptop in turn, so that a noisy minute on a shared
machine falls on both; the medians of all their runs are compared (one run each measured the
machine's noise: the same code gave ratios from 0.95 to 1.17)."""
LAPTOP = "laptop"
POSTGRES = "postgres"
SAMPLE_SECONDS = 0.1
GIB = 1024**3
YEARS = 10
TARGETS = {  # symbols -> (hydrate seconds, production seconds, peak RSS GiB)
    1000: (20.0, 90.0, 1.5),
    5000: (60.0, 300.0, 3.0),
}
FILES_TARGET_RATIO = 1.5
"""The ``files`` source may take at most this multiple of the synthetic source's hydration."""
FILES_BLOCK = 256
"""Symbols generated at once while writing the CSV folder."""
MEMORY_GROWTH_LIMIT = 4.0
"""RSS at the largest universe may be at most this multiple of the smallest's."""
STAGES = (
    "hydrate",
    "universe/closes",
    "features",
    "regimes",
    "selection",
    "tournament",
    "report",
)
STEP_STAGES = {
    "run_manifest": "universe/closes",
    "universe": "universe/closes",
    "closes": "universe/closes",
    "features": "features",
    "regimes": "regimes",
    "selections": "selection",
    "allocations": "selection",
    "tournament_windows": "tournament",
    "tournament_allocations": "tournament",
    "tournament_weights": "tournament",
    "tournament_guard": "tournament",
    "tournament_vetoes": "tournament",
    "tournament_report": "report",
    "tournament_returns": "report",
    "tournament_window_results": "report",
    "leaderboard": "report",
    "overfitting": "report",
    "tearsheet": "report",
}
"""Dagster step -> stage; a step not listed here fails the benchmark (its time would be lost)."""


PROGRESS_DONE = re.compile(r"hydrated (\d+)/\1 symbols from \w+")
"""The hydration step's last progress line: every symbol stored and recorded."""


def stage_of(step_key: str) -> str:
    """The stage of a Dagster step: its asset's, for a check (``<asset>_<check name>``)."""
    if step_key in STEP_STAGES:
        return STEP_STAGES[step_key]
    for asset in sorted(STEP_STAGES, key=len, reverse=True):
        if step_key.startswith(f"{asset}_"):
            return STEP_STAGES[asset]
    raise ValueError(f"step {step_key!r} has no stage: add its asset to STEP_STAGES")


# The child: one universe size, timed from inside -------------------------------------------


def step_windows(dagster_run_id: str) -> list[dict[str, Any]]:
    """Every step of a Dagster run with its wall-clock start and end (epoch seconds)."""
    import dagster as dg

    from dagster_defs.instance import dagster_instance

    windows: dict[str, dict[str, Any]] = {}
    with dagster_instance() as instance:
        for entry in instance.all_logs(dagster_run_id):
            event = entry.dagster_event
            if event is None and PROGRESS_DONE.fullmatch(entry.user_message or ""):
                key = str(entry.step_key)
                windows.setdefault(key, {"step": key})["hydrated"] = entry.timestamp
            if event is None or entry.step_key is None:
                continue
            window = windows.setdefault(entry.step_key, {"step": entry.step_key})
            if event.event_type == dg.DagsterEventType.STEP_START:
                window["start"] = entry.timestamp
            elif event.event_type in (
                dg.DagsterEventType.STEP_SUCCESS,
                dg.DagsterEventType.STEP_FAILURE,
            ):
                window["end"] = entry.timestamp
    return [w for w in windows.values() if "start" in w and "end" in w]


def latest_dagster_run(job_name: str) -> str:
    """The id of the newest Dagster run of ``job_name``."""
    import dagster as dg

    from dagster_defs.instance import dagster_instance

    with dagster_instance() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name=job_name), limit=1)
        return str(runs[0].run_id)


def write_csv_folder(settings: Any, folder: Path) -> Path:
    """Write the synthetic market of ``settings`` as ``<folder>/<SYMBOL>.csv`` files."""
    from quant_assets.hydration import make_source

    market = make_source(settings)
    fetch_many = getattr(market, "fetch_many")  # noqa: B009 -- the synthetic source has it
    names = market.symbols()
    folder.mkdir(parents=True)
    for first in range(0, len(names), FILES_BLOCK):
        for symbol, bars in fetch_many(names[first : first + FILES_BLOCK]).items():
            bars.to_csv(folder / f"{symbol}.csv", index=False)
    return folder


def child(
    symbols: int,
    years: int,
    executor: str,
    folder: Path,
    out: Path,
    mode: str = "full",
    repeats: int = 1,
) -> None:
    """Hydrate (and, in mode ``full``, run ``production`` ``repeats`` times); write the timings.

    Mode ``files`` hydrates the synthetic market written as a folder of CSV files instead;
    modes ``files`` and ``hydrate`` stop after the hydration. The steps recorded are the first
    ``production`` run's; every run's seconds are in ``production_runs``.
    """
    import quant_kernels.predictability  # noqa: F401 -- compile (or load) the kernels first
    from quant_assets.settings import Settings
    from quant_sdk import QuantSDK

    settings = Settings(
        data_root=folder / "lakehouse",
        source="synthetic",
        synthetic_symbols=symbols,
        synthetic_years=years,
        executor=executor,
    )
    if mode == "files":
        source_path = write_csv_folder(settings, folder / "source")
        settings = settings.clone(source="files", source_path=source_path)
    sdk = QuantSDK(settings=settings)
    started = time.time()
    sdk.hydrate()
    hydrated = time.time()
    hydrate_steps = step_windows(latest_dagster_run("hydrate"))
    if mode != "full":
        result: dict[str, Any] = {
            "symbols": symbols,
            "years": years,
            "source": settings.source,
            "hydrate": {"start": started, "end": hydrated},
            "hydrate_steps": hydrate_steps,
            "stored_symbols": len(sdk.store.symbols()),
        }
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        return
    run_id = sdk.new_run("production")
    run_started = time.time()
    board = sdk.run(run_id=run_id)
    finished = time.time()
    steps = step_windows(latest_dagster_run("production"))
    production_runs = [finished - run_started]
    for _ in range(repeats - 1):
        again = time.time()
        sdk.run(run_id=sdk.new_run("production"))
        production_runs.append(time.time() - again)
    result = {
        "symbols": symbols,
        "years": years,
        "executor": executor,
        "hydrate": {"start": started, "end": hydrated},
        "hydrate_steps": hydrate_steps,
        "production": {"start": run_started, "end": finished},
        "production_runs": production_runs,
        "steps": steps,
        "strategies": len(board),
        "best": f"{board['engine'].iloc[0]} (Sharpe {board['sharpe'].iloc[0]:.2f})",
    }
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")


# The parent: runs a child per size and watches its memory -----------------------------------


class MemorySampler(threading.Thread):
    """Samples (time, largest RSS of one process, RSS of the whole tree) of a process tree."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.samples: list[tuple[float, int, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            sizes = []
            for process in processes:
                try:
                    sizes.append(process.memory_info().rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            if sizes:
                self.samples.append((time.time(), max(sizes), sum(sizes)))
            self.done.wait(SAMPLE_SECONDS)

    def peak(self, start: float = 0.0, end: float = float("inf")) -> tuple[int, int]:
        """Largest (one process, whole tree) RSS sampled between ``start`` and ``end``."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if not inside:
            return 0, 0
        return max(s[1] for s in inside), max(s[2] for s in inside)


def run_child(
    symbols: int,
    years: int,
    executor: str,
    mode: str,
    instance: str = LAPTOP,
    repeats: int = 1,
) -> tuple[dict[str, Any], MemorySampler]:
    """Run one child process in a fresh temporary folder; its result and memory samples.

    ``instance`` ``postgres``: the child's Dagster home is a team home on a PostgreSQL server
    started for it (stopped and deleted after); ``laptop``: the default SQLite home.
    """
    with tempfile.TemporaryDirectory(prefix="qscale") as scratch, _instance(instance) as url:
        folder = Path(scratch)
        out = folder / "result.json"
        if url is not None:
            write_team_home(folder / "dagster_home", url)
        env = {
            **os.environ,
            "DAGSTER_HOME": str(folder / "dagster_home"),
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        }
        command = [
            sys.executable,
            __file__,
            "--child",
            str(symbols),
            "--years",
            str(years),
            "--executor",
            executor,
            "--folder",
            str(folder),
            "--out",
            str(out),
            "--mode",
            mode,
            "--repeats",
            str(repeats),
        ]
        process = subprocess.Popen(command, env=env)
        sampler = MemorySampler(process.pid)
        sampler.start()
        code = process.wait()
        sampler.done.set()
        sampler.join()
        if code != 0:
            raise SystemExit(f"the {symbols}-symbol {mode} run failed (exit code {code})")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result, sampler


@contextmanager
def _instance(instance: str) -> Iterator[str | None]:
    """A fresh PostgreSQL server's URL for ``postgres`` (stopped and deleted after), else None."""
    if instance == LAPTOP:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="qscale-pg-"))  # the postgres user must reach it
    try:
        yield local_postgres.start(folder, port)
    finally:
        local_postgres.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


def hydrate_parts(result: dict[str, Any]) -> dict[str, float]:
    """Where the hydration run's seconds went, from its event log's timestamps."""
    hydrate = result["hydrate"]
    (step,) = [w for w in result["hydrate_steps"] if w["step"] == "market_data"]
    hydrated = step.get("hydrated", step["end"])
    return {
        "Dagster run creation (a planned event per symbol)": step["start"] - hydrate["start"],
        "fetch, validate, write and record each symbol": hydrated - step["start"],
        "the step's end (the run's summary)": step["end"] - hydrated,
        "rest (definitions, summary query)": hydrate["end"] - step["end"],
    }


def measure_hydration(
    symbols: int, years: int, executor: str, mode: str, instance: str = LAPTOP
) -> dict[str, Any]:
    """Hydrate ``symbols`` in a child (``mode`` ``hydrate``: synthetic, ``files``: CSV files)."""
    result, sampler = run_child(symbols, years, executor, mode, instance)
    if result["stored_symbols"] != symbols:
        raise SystemExit(f"{mode}: {result['stored_symbols']} of {symbols} symbols stored")
    hydrate = result["hydrate"]
    return {
        "symbols": symbols,
        "years": years,
        "instance": instance,
        "source": result["source"],
        "seconds": hydrate["end"] - hydrate["start"],
        "peak_rss_gib": sampler.peak(hydrate["start"], hydrate["end"])[0] / GIB,
        "hydrate_parts": hydrate_parts(result),
    }


def measure(
    symbols: int, years: int, executor: str, instance: str = LAPTOP, repeats: int = 1
) -> dict[str, Any]:
    """Run one child for ``symbols`` and return its stage times and memory.

    With ``repeats`` > 1 the child runs ``production`` that many times: the stages are the
    first run's, ``production_seconds`` the median run's.
    """
    result, sampler = run_child(symbols, years, executor, "full", instance, repeats)
    seconds = dict.fromkeys(STAGES, 0.0)
    peaks = dict.fromkeys(STAGES, 0)
    hydrate = result["hydrate"]
    seconds["hydrate"] = hydrate["end"] - hydrate["start"]
    peaks["hydrate"] = sampler.peak(hydrate["start"], hydrate["end"])[0]
    for step in result["steps"]:
        stage = stage_of(step["step"])
        if stage not in seconds:
            continue
        seconds[stage] += step["end"] - step["start"]
        peaks[stage] = max(peaks[stage], sampler.peak(step["start"], step["end"])[0])
    process_peak, tree_peak = sampler.peak()
    return {
        "symbols": symbols,
        "years": years,
        "executor": executor,
        "instance": instance,
        "seconds": seconds,
        "stage_peak_rss_gib": {k: v / GIB for k, v in peaks.items()},
        "production_seconds": statistics.median(result["production_runs"]),
        "production_runs": result["production_runs"],
        "peak_rss_gib": process_peak / GIB,
        "peak_tree_rss_gib": tree_peak / GIB,
        "strategies": result["strategies"],
        "best": result["best"],
        "steps": {s["step"]: s["end"] - s["start"] for s in result["steps"]},
        "hydrate_parts": hydrate_parts(result),
    }


def table(results: list[dict[str, Any]]) -> str:
    """Markdown table: a row per stage (seconds, peak RSS), then the totals and targets."""
    header = "| stage | " + " | ".join(f"{r['symbols']:,} symbols" for r in results) + " |"
    lines = [header, "| --- |" + " --- |" * len(results)]
    for stage in STAGES:
        cells = [
            f"{r['seconds'][stage]:.1f} s, {r['stage_peak_rss_gib'][stage]:.2f} GB" for r in results
        ]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")

    def row(name: str, cell: Any) -> None:
        lines.append(f"| {name} | " + " | ".join(cell(r) for r in results) + " |")

    def target(r: dict[str, Any], index: int) -> str:
        bound = TARGETS.get(r["symbols"])
        return "" if bound is None else f" (< {bound[index]:g})"

    row("**hydrate (one run)**", lambda r: f"**{r['seconds']['hydrate']:.1f} s**{target(r, 0)}")
    row(
        "**production, end to end**",
        lambda r: f"**{r['production_seconds']:.1f} s**{target(r, 1)}",
    )
    row("**peak RSS, any process**", lambda r: f"**{r['peak_rss_gib']:.2f} GB**{target(r, 2)}")
    row("peak RSS, all processes", lambda r: f"{r['peak_tree_rss_gib']:.2f} GB")
    return "\n".join(lines)


def hydrate_table(results: list[dict[str, Any]]) -> str:
    """Markdown table: where each hydration run's seconds went."""
    header = "| hydrate | " + " | ".join(f"{r['symbols']:,} symbols" for r in results) + " |"
    lines = [header, "| --- |" + " --- |" * len(results)]
    for part in results[0]["hydrate_parts"]:
        cells = [f"{r['hydrate_parts'][part]:.1f} s" for r in results]
        lines.append(f"| {part} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sources_table(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> str:
    """Markdown table: hydration from the synthetic source and from CSV files, per size."""
    header = "| hydrate | " + " | ".join(
        f"{s['symbols']:,} synthetic | {s['symbols']:,} CSV files" for s, _ in pairs
    )
    lines = [header + " |", "| --- |" + " --- | --- |" * len(pairs)]
    for part in pairs[0][0]["hydrate_parts"]:
        cells = [
            f"{s['hydrate_parts'][part]:.1f} s | {f['hydrate_parts'][part]:.1f} s" for s, f in pairs
        ]
        lines.append(f"| {part} | " + " | ".join(cells) + " |")
    cells = [f"**{s['seconds']:.1f} s** | **{f['seconds']:.1f} s**" for s, f in pairs]
    lines.append("| **hydrate (one run)** | " + " | ".join(cells) + " |")
    cells = [f"{s['peak_rss_gib']:.2f} GB | {f['peak_rss_gib']:.2f} GB" for s, f in pairs]
    lines.append("| peak RSS, any process | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def files_verdict(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    """The files source's hydration time against the synthetic source's, per size."""
    lines = []
    for synthetic, files in pairs:
        ratio = files["seconds"] / max(synthetic["seconds"], 1e-9)
        met = "met" if ratio <= FILES_TARGET_RATIO else "MISSED"
        lines.append(
            f"{files['symbols']:,} CSV files: {files['seconds']:.1f} s vs "
            f"{synthetic['seconds']:.1f} s synthetic, {ratio:.2f}x "
            f"({met}: at most {FILES_TARGET_RATIO:g}x)"
        )
    return lines


def verdict(results: list[dict[str, Any]]) -> list[str]:
    """Which targets were met."""
    lines = []
    for r in results:
        bound = TARGETS.get(r["symbols"])
        if bound is None:
            continue
        met = (
            r["seconds"]["hydrate"] < bound[0],
            r["production_seconds"] < bound[1],
            r["peak_rss_gib"] < bound[2],
        )
        lines.append(
            f"{r['symbols']:,} symbols: hydrate {'met' if met[0] else 'MISSED'}, production "
            f"{'met' if met[1] else 'MISSED'}, memory {'met' if met[2] else 'MISSED'}"
        )
    if len(results) > 1:
        growth = results[-1]["peak_rss_gib"] / max(results[0]["peak_rss_gib"], 1e-9)
        ok = growth <= MEMORY_GROWTH_LIMIT
        lines.append(
            f"memory growth {results[0]['symbols']:,} -> {results[-1]['symbols']:,} symbols: "
            f"{growth:.2f}x ({'met' if ok else 'MISSED'}: at most {MEMORY_GROWTH_LIMIT:g}x)"
        )
    return lines


def pooled_rounds(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The first round's stages and memory, with every round's ``production`` runs and median."""
    every_run = [seconds for result in results for seconds in result["production_runs"]]
    return {
        **results[0],
        "production_runs": every_run,
        "production_seconds": statistics.median(every_run),
    }


def postgres_report(
    hydrations: list[dict[str, Any]], postgres: dict[str, Any], laptop: dict[str, Any]
) -> list[str]:
    """Hydration times on PostgreSQL against their targets; production PostgreSQL vs laptop."""
    lines = []
    for h in hydrations:
        bound = POSTGRES_TARGETS.get(h["symbols"])
        met = (
            ""
            if bound is None
            else f" ({'met' if h['seconds'] < bound else 'MISSED'}: < {bound:g} s)"
        )
        lines.append(f"hydrate {h['symbols']:,} symbols on PostgreSQL: {h['seconds']:.1f} s{met}")
    size = postgres["symbols"]
    pg_hydrate, laptop_hydrate = postgres["seconds"]["hydrate"], laptop["seconds"]["hydrate"]
    lines.append(
        f"hydrate {size:,} symbols: PostgreSQL {pg_hydrate:.1f} s, laptop {laptop_hydrate:.1f} s, "
        f"ratio {pg_hydrate / max(laptop_hydrate, 1e-9):.2f}"
    )
    pg_run, laptop_run = postgres["production_seconds"], laptop["production_seconds"]
    ratio = pg_run / max(laptop_run, 1e-9)
    met = "met" if ratio <= PRODUCTION_TARGET_RATIO else "MISSED"

    def runs(result: dict[str, Any]) -> str:
        return ", ".join(f"{seconds:.1f}" for seconds in result["production_runs"])

    lines.append(
        f"production on {size:,} symbols, median of {len(postgres['production_runs'])} runs: "
        f"PostgreSQL {pg_run:.1f} s ({runs(postgres)}), laptop {laptop_run:.1f} s "
        f"({runs(laptop)}), ratio {ratio:.2f} ({met}: at most {PRODUCTION_TARGET_RATIO:g})"
    )
    return lines


def main_postgres(sizes: list[int], years: int, executor: str) -> None:
    """``--instance postgres``: hydrations on PostgreSQL, then production there and on a laptop."""
    hydrations = []
    for symbols in sizes:
        print(f"{symbols:,} symbols x {years} years, hydrate on PostgreSQL ...", flush=True)
        hydrations.append(measure_hydration(symbols, years, executor, "hydrate", POSTGRES))
        print(json.dumps(hydrations[-1]["hydrate_parts"], indent=1), flush=True)
    size = min(sizes)
    rounds: dict[str, list[dict[str, Any]]] = {POSTGRES: [], LAPTOP: []}
    for number in range(1, PRODUCTION_ROUNDS + 1):
        for instance in (POSTGRES, LAPTOP):
            print(
                f"{size:,} symbols, hydrate and production on {instance} "
                f"(round {number}/{PRODUCTION_ROUNDS}) ...",
                flush=True,
            )
            rounds[instance].append(measure(size, years, executor, instance, PRODUCTION_REPEATS))
            print(json.dumps(rounds[instance][-1]["production_runs"]), flush=True)
    runs = {instance: pooled_rounds(results) for instance, results in rounds.items()}
    print()
    rows = table([runs[POSTGRES], runs[LAPTOP]]).splitlines()[1:]
    header = f"| stage | {size:,} symbols, PostgreSQL | {size:,} symbols, laptop |"
    print("\n".join([header, *rows]))
    print()
    print("\n".join(postgres_report(hydrations, runs[POSTGRES], runs[LAPTOP])))
    document = {"hydrations": hydrations, "production": runs}
    RESULTS.parent.mkdir(exist_ok=True)
    POSTGRES_RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, nargs="+")
    parser.add_argument(
        "--instance",
        default=LAPTOP,
        choices=[LAPTOP, POSTGRES],
        help="the Dagster instance: the laptop's SQLite home, or a PostgreSQL server started for "
        "each child (hydrations of each size, production on the smallest against the laptop)",
    )
    parser.add_argument("--years", type=int, default=YEARS)
    parser.add_argument("--executor", default="local", choices=["serial", "local", "ray"])
    parser.add_argument(
        "--hydration-only",
        action="store_true",
        help="only hydrate each size from the synthetic source and from as many CSV files "
        "(no production run)",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="full", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.years, args.executor, args.folder, args.out, args.mode, args.repeats)
        return
    if args.instance == POSTGRES:
        main_postgres(args.symbols or sorted(POSTGRES_TARGETS), args.years, args.executor)
        return
    args.symbols = args.symbols or sorted(TARGETS)
    results = []
    pairs = []
    for symbols in args.symbols:
        print(f"{symbols:,} symbols x {args.years} years ...", flush=True)
        if args.hydration_only:
            synthetic = measure_hydration(symbols, args.years, args.executor, "hydrate")
        else:
            results.append(measure(symbols, args.years, args.executor))
            print(json.dumps(results[-1]["steps"], indent=1), flush=True)
            print(json.dumps(results[-1]["hydrate_parts"], indent=1), flush=True)
            synthetic = {**results[-1], "seconds": results[-1]["seconds"]["hydrate"]}
            synthetic["peak_rss_gib"] = results[-1]["stage_peak_rss_gib"]["hydrate"]
        print(f"{symbols:,} CSV files x {args.years} years ...", flush=True)
        pairs.append((synthetic, measure_hydration(symbols, args.years, args.executor, "files")))
        print(json.dumps(pairs[-1][1]["hydrate_parts"], indent=1), flush=True)
    if results:
        print()
        print(table(results))
        print()
        print(hydrate_table(results))
    print()
    print(sources_table(pairs))
    print()
    print("\n".join([*(verdict(results) if results else []), *files_verdict(pairs)]))
    RESULTS.parent.mkdir(exist_ok=True)
    if args.hydration_only:
        document: Any = [{"synthetic": s, "files": f} for s, f in pairs]
        HYDRATION_RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        return
    for result, (_, files) in zip(results, pairs, strict=True):
        result["files_hydrate"] = files
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
