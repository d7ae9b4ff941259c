"""What the lakehouse knows about runs: status, when, best engine, data span, settings, comparisons.

Every function reads the lakehouse alone (run folders, manifests, requests, leaderboards and
closes); the status of the last Dagster run of each partition is passed in by the caller
(:class:`quant_sdk.sdk.QuantSDK` asks the Dagster instance), so a run the instance has no
record of is still listed, from its stored assets.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from lakehouse import LakehouseStore, validate_run_id
from lakehouse.commits import TEMP_FILE_PREFIX
from lakehouse.frames import StoredFrame
from lakehouse.location import file_names, subfolders
from lakehouse.sealing import CHECKSUM_SUFFIX
from lakehouse.store import JSON_FILE, PARQUET_FILE, RUN_ID_FOLDER_KEY, RUN_MANIFEST
from quant_assets.provenance import RUN_REQUESTS
from quant_assets.settings import Settings

COMPLETE = "complete"
PARTIAL = "partial"
FAILED = "failed"
RUNNING = "running"
REQUESTED = "requested"
RUN_STATUSES = (COMPLETE, PARTIAL, FAILED, RUNNING, REQUESTED)
"""``complete``: its leaderboard is stored and its last Dagster run did not fail; ``failed``: its
last Dagster run failed (a step, or a blocking check: a leaderboard stored by a run whose
checks then failed is not complete) or its process died; ``running``: its last Dagster run has
not finished and its process lives; ``partial``: some assets are stored, no leaderboard, no
failure on record; ``requested``: minted, nothing stored yet."""
FAILED_DAGSTER_STATUSES = frozenset({"FAILURE", "CANCELED"})
UNFINISHED_DAGSTER_STATUSES = frozenset(
    {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"}
)
LEADERBOARD = "leaderboard"
CLOSES = "closes"
RUN_OUTCOME = "run_outcome"
"""Folder of the document the SDK writes when a run ends: ``status`` (``complete`` or
``failed``), ``failures`` (``[step, error]`` pairs), ``dagster_run_id`` and ``recorded_at``. It
marks a failed run's stored frames as such even where the Dagster instance has no record."""
PROCESS_STEP = "process"
"""The ``failed at`` step named when a run's process died (no step failed on record)."""
BOOKKEEPING_ASSETS = frozenset({RUN_REQUESTS, RUN_OUTCOME})
"""Folders of a run that record it rather than hold its results: not counted as assets."""
RUN_COLUMNS = (
    "run_id",
    "profile",
    "status",
    "created_at",
    "best_engine",
    "best_sharpe",
    "assets",
    "dagster_status",
)
COMPARED_METRICS = ("sharpe", "dsr", "annual_return", "annual_volatility", "max_drawdown")
"""What ``quant compare`` puts side by side (``dsr``: the deflated Sharpe ratio; NaN for runs
stored before the leaderboard had it)."""
"""Leaderboard columns :func:`compare_leaderboards` puts side by side."""
LOCATION_FIELDS = frozenset({"data_root"})
"""Settings that say where the lakehouse is, not what a run computed: left out of diffs."""
RUN_ID_TIME_FORMAT = "%Y%m%d-%H%M%S"
RUN_ID_TIME_CHARS = len("20260101-000000")
"""A run id starts with its UTC minting time, ``YYYYMMDD-HHMMSS``."""


@dataclass(frozen=True)
class RunSummary:
    """One run as ``quant show`` prints it."""

    run_id: str
    profile: str | None
    status: str
    created_at: str
    assets: list[str]
    data: dict[str, Any]
    """``first_date``, ``last_date``, ``days`` and ``symbols`` of the run's closes."""
    settings_changes: pd.DataFrame
    """``setting``, ``value``, ``profile_value``: where the run differs from its profile."""
    leaderboard: pd.DataFrame | None
    dagster_status: str | None
    settings: Settings | None
    """The run's frozen settings (manifest, else request); None when neither is stored."""
    failures: list[tuple[str, str]]
    """``(step, error)`` of each failed step of its latest Dagster run, if that failed."""


@dataclass(frozen=True)
class RunComparison:
    """Two runs as ``quant compare`` prints them."""

    run_a: RunSummary
    run_b: RunSummary
    leaderboard: pd.DataFrame
    """One row per engine: each metric of A, of B and B - A (see :func:`compare_leaderboards`)."""
    settings: pd.DataFrame
    """``setting``, ``a``, ``b``: the settings that differ between the runs."""


def stored_assets(store: LakehouseStore) -> dict[str, list[str]]:
    """Run id -> names of the assets it has a folder under (``run_requests`` included), sorted."""
    found: dict[str, list[str]] = {}
    prefix = f"{RUN_ID_FOLDER_KEY}="
    for asset_dir in subfolders(store.root):
        for child in subfolders(asset_dir):
            if child.name.startswith(prefix) and holds_stored_file(child):
                found.setdefault(child.name[len(prefix) :], []).append(asset_dir.name)
    return dict(sorted(found.items()))


def holds_stored_file(folder: Path) -> bool:
    """Whether ``folder`` (a partition folder) holds a published file (Parquet, JSON, report).

    An empty folder, or one holding only a temporary file or a checksum record (a write that
    failed, e.g. on a full disk), is not a stored asset.
    """
    return any(
        not name.startswith(TEMP_FILE_PREFIX) and not name.endswith(CHECKSUM_SUFFIX)
        for name in file_names(folder)
    )


def is_run_id(key: str) -> bool:
    """Whether ``key`` (e.g. a ``run_id`` partition key added by hand) is a well-formed run id."""
    try:
        validate_run_id(key)
    except ValueError:
        return False
    return True


def run_status(
    assets: list[str],
    dagster_status: str | None,
    outcome: Mapping[str, Any] | None = None,
    abandoned: bool = False,
) -> str:
    """The status of a run from its stored ``assets`` and its last Dagster run's status.

    A failed Dagster run makes the run ``failed`` even when it stored a leaderboard (a blocking
    check failed after the asset was written). Without a Dagster record, the stored
    :data:`RUN_OUTCOME` says whether the run failed. An ``abandoned`` run (Dagster says it is in
    progress, but the process running it is gone) is ``failed``.
    """
    if abandoned:
        return FAILED
    if dagster_status in UNFINISHED_DAGSTER_STATUSES:
        return RUNNING
    if dagster_status in FAILED_DAGSTER_STATUSES:
        return FAILED
    if dagster_status is None and outcome is not None and outcome.get("status") == FAILED:
        return FAILED
    if LEADERBOARD in assets:
        return COMPLETE
    if set(assets) - BOOKKEEPING_ASSETS:
        return PARTIAL
    return REQUESTED


def run_outcome(store: LakehouseStore, run_id: str) -> dict[str, Any] | None:
    """The :data:`RUN_OUTCOME` document the SDK stored when ``run_id`` last ended, or None."""
    folder = store.run_dir(RUN_OUTCOME, run_id)
    if not (folder / JSON_FILE).is_file():
        return None
    document: dict[str, Any] = store.read_document(folder)
    return document


def run_table(
    store: LakehouseStore,
    dagster_statuses: Mapping[str, str],
    abandoned: Collection[str] = (),
) -> pd.DataFrame:
    """Every run with stored assets or a Dagster record, oldest first.

    Dagster partitions whose keys are not run ids are left out; runs in ``abandoned`` (their
    process is gone, judged by the caller when it lists) are ``failed``.

    Returns
    -------
    DataFrame
        :data:`RUN_COLUMNS`: ``created_at`` is ISO 8601 UTC; ``best_engine`` and
        ``best_sharpe`` are the leaderboard's first row (None without a leaderboard);
        ``best_engine`` and ``best_sharpe`` are None unless the run is ``complete``;
        ``assets`` counts stored assets (run requests not counted); ``dagster_status`` is
        the last Dagster run's status, None when the instance has no record.
    """
    assets_by_run = stored_assets(store)
    run_ids = sorted(set(assets_by_run) | {k for k in dagster_statuses if is_run_id(k)})
    rows = []
    for run_id in run_ids:
        assets = assets_by_run.get(run_id, [])
        status = dagster_statuses.get(run_id)
        document = _manifest_or_request(store, run_id, assets)
        outcome = run_outcome(store, run_id) if RUN_OUTCOME in assets else None
        state = run_status(assets, status, outcome, abandoned=run_id in abandoned)
        best = _best_row(store, run_id) if state == COMPLETE else None  # only complete runs rank
        rows.append(
            (
                run_id,
                None if document is None else document.get("profile"),
                state,
                _created_at(run_id, document),
                None if best is None else best["engine"],
                None if best is None else float(best["sharpe"]),
                len(set(assets) - BOOKKEEPING_ASSETS),
                status,
            )
        )
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def summarize_run(
    store: LakehouseStore,
    run_id: str,
    dagster_status: str | None,
    failures: list[tuple[str, str]] | None = None,
    abandoned: bool = False,
) -> RunSummary:
    """Status, data span, settings changes and leaderboard of one run.

    Raises
    ------
    InvalidRunId
        If ``run_id`` is malformed.
    LookupError
        If nothing is stored for ``run_id`` and Dagster has no record of it.
    """
    assets = stored_assets_of(store, validate_run_id(run_id))
    if not assets and dagster_status is None:
        raise LookupError(f"no run {run_id} in the lakehouse at {store.root} nor in Dagster")
    document = _manifest_or_request(store, run_id, assets)
    settings = None if document is None else Settings.model_validate(document["settings"])
    changes = (
        settings_changes(settings, Settings().with_profile(settings.profile))
        if settings is not None
        else pd.DataFrame(columns=["setting", "value", "profile_value"])
    )
    outcome = run_outcome(store, run_id) if RUN_OUTCOME in assets else None
    recorded = [(str(s), str(e)) for s, e in (outcome or {}).get("failures", [])]
    status = run_status(assets, dagster_status, outcome, abandoned)
    return RunSummary(
        run_id=run_id,
        profile=None if settings is None else settings.profile,
        status=status,
        created_at=_created_at(run_id, document),
        assets=[a for a in assets if a not in BOOKKEEPING_ASSETS],
        data=data_span(store, run_id, document),
        settings_changes=changes.rename(columns={"reference": "profile_value"}),
        leaderboard=_read(store, LEADERBOARD, run_id) if LEADERBOARD in assets else None,
        dagster_status=dagster_status,
        settings=settings,
        failures=list(failures or (recorded if status == FAILED else [])),
    )


def stored_assets_of(store: LakehouseStore, run_id: str) -> list[str]:
    """Names of the assets with a stored file for ``run_id`` (``run_requests`` included), sorted."""
    asset_dirs = sorted(store.root.iterdir()) if store.root.is_dir() else []
    return [d.name for d in asset_dirs if holds_stored_file(d / f"{RUN_ID_FOLDER_KEY}={run_id}")]


def settings_changes(settings: Settings, reference: Settings) -> pd.DataFrame:
    """``setting``, ``value``, ``reference``: fields where ``settings`` differs from ``reference``.

    :data:`LOCATION_FIELDS` are left out. Values are JSON-ready (as in ``snapshot()``).
    """
    ours, theirs = settings.snapshot(), reference.snapshot()
    rows = [
        (name, value, theirs[name])
        for name, value in ours.items()
        if name not in LOCATION_FIELDS and value != theirs[name]
    ]
    return pd.DataFrame(rows, columns=["setting", "value", "reference"])


def data_span(
    store: LakehouseStore, run_id: str, document: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """First and last date, trading days and symbols of a run's ``closes``.

    Without stored closes, the symbols are those whose data the manifest hashed and the dates
    are None.
    """
    folder = store.run_dir(CLOSES, run_id)
    if (folder / PARQUET_FILE).exists():
        closes = StoredFrame(folder / PARQUET_FILE).read(columns=["date", "symbol"])
        dates = pd.to_datetime(closes["date"])
        return {
            "first_date": None if closes.empty else str(dates.min().date()),
            "last_date": None if closes.empty else str(dates.max().date()),
            "days": int(dates.nunique()),
            "symbols": sorted(str(s) for s in closes["symbol"].unique()),
        }
    hashed = ((document or {}).get("inputs") or {}).get("market_data") or {}
    return {"first_date": None, "last_date": None, "days": None, "symbols": sorted(hashed)}


def compare_leaderboards(a: pd.DataFrame | None, b: pd.DataFrame | None) -> pd.DataFrame:
    """Two leaderboards side by side: each metric of A, of B, and B - A.

    Rows are matched by ``engine`` when each run has one profile (the usual case, so a canary
    run compares with a production run), else by ``profile`` and ``engine``; an engine only one
    run has gets NaN for the other.

    Returns
    -------
    DataFrame
        Key columns, then ``<metric>_a``, ``<metric>_b``, ``<metric>_diff`` for every metric of
        :data:`COMPARED_METRICS`; ordered by B's Sharpe, best first.
    """
    columns = ["profile", "engine", *COMPARED_METRICS]
    a = a if a is not None else pd.DataFrame(columns=columns)
    b = b if b is not None else pd.DataFrame(columns=columns)
    single = a["profile"].nunique() <= 1 and b["profile"].nunique() <= 1
    keys = ["engine"] if single else ["profile", "engine"]
    wanted = [*keys, *COMPARED_METRICS]
    merged = a.reindex(columns=wanted).merge(
        b.reindex(columns=wanted), on=keys, how="outer", suffixes=("_a", "_b")
    )
    ordered = list(keys)
    for metric in COMPARED_METRICS:
        for side in ("_a", "_b"):
            merged[metric + side] = pd.to_numeric(merged[metric + side], errors="coerce")
        merged[f"{metric}_diff"] = merged[f"{metric}_b"] - merged[f"{metric}_a"]
        ordered += [f"{metric}_a", f"{metric}_b", f"{metric}_diff"]
    ranked = merged.sort_values(["sharpe_b", "sharpe_a"], ascending=False, na_position="last")
    return ranked[ordered].reset_index(drop=True)


def compare_runs(summary_a: RunSummary, summary_b: RunSummary) -> RunComparison:
    """Leaderboards side by side and the settings that differ between two runs."""
    if summary_a.settings is None or summary_b.settings is None:
        differing = pd.DataFrame(columns=["setting", "a", "b"])
    else:
        differing = settings_changes(summary_a.settings, summary_b.settings).rename(
            columns={"value": "a", "reference": "b"}
        )
    return RunComparison(
        run_a=summary_a,
        run_b=summary_b,
        leaderboard=compare_leaderboards(summary_a.leaderboard, summary_b.leaderboard),
        settings=differing,
    )


def _manifest_or_request(
    store: LakehouseStore, run_id: str, assets: list[str]
) -> dict[str, Any] | None:
    """The run's manifest, else its request (both hold ``profile`` and ``settings``), else None."""
    for asset in (RUN_MANIFEST, RUN_REQUESTS):
        folder = store.run_dir(asset, run_id)
        if asset in assets and store.has_document(folder):
            document: dict[str, Any] = store.read_document(folder)
            return document
    return None


def _created_at(run_id: str, document: Mapping[str, Any] | None) -> str:
    """The manifest's ``created_at``, the request's ``requested_at``, else the run id's time."""
    for key in ("created_at", "requested_at"):
        if document is not None and document.get(key):
            return str(document[key])
    stamp = datetime.strptime(run_id[:RUN_ID_TIME_CHARS], RUN_ID_TIME_FORMAT)
    return stamp.replace(tzinfo=UTC).isoformat(timespec="seconds")


def _best_row(store: LakehouseStore, run_id: str) -> pd.Series | None:
    board = _read(store, LEADERBOARD, run_id)
    if board.empty:
        return None
    return board.sort_values("sharpe", ascending=False, kind="stable").iloc[0]


def _read(store: LakehouseStore, asset: str, run_id: str) -> pd.DataFrame:
    return store.read_frame(store.run_dir(asset, run_id))
