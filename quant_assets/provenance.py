"""Provenance of a run: the request that minted it and the manifest that records what it used.

``new_run`` writes a *run request* (profile and setting overrides) beside the run's assets; the
``run_manifest`` asset turns it into the run's frozen settings and records package versions, the
git commit, the content hash of every input and every plug-in used (import path, distribution,
version, source hash), so a run can be re-materialized and audited; a sweep's request and
manifest also hold its grid and the settings of every point.
"""

import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from lakehouse import LakehouseStore, validate_run_id
from lakehouse.hashing import file_sha256
from quant_assets.documents import GitState, PluginRecord, RunInputs, RunManifest, RunRequest
from quant_assets.plugins import resolve
from quant_assets.settings import Settings
from quant_assets.sweep import check_grid, sweep_profiles

RUN_REQUESTS = "run_requests"
"""Folder of run requests in the lakehouse (JSON, one per run id)."""
TRACKED_PACKAGES = (
    "dagster",
    "duckdb",
    "numba",
    "numpy",
    "pandas",
    "pandera",
    "pyarrow",
    "pydantic",
    "quant-lakehouse",
    "scipy",
    "skfolio",
)


def write_run_request(
    store: LakehouseStore,
    run_id: str,
    base: Settings,
    profile: str,
    overrides: dict[str, Any],
    grid: Mapping[str, Sequence[Any]] | None = None,
) -> RunRequest:
    """Record how ``run_id`` must be run: the profile, the overrides and the settings they give.

    The settings are ``base`` with the profile and the overrides applied, validated and frozen
    here, so whoever materializes the run later (the SDK, the UI, a daemon) uses exactly them.
    With a ``grid`` (a sweep, :mod:`quant_assets.sweep`) every point is validated here too, and
    the request records the grid and each point's settings.
    """
    settings = base.with_profile(profile, **overrides)
    request = RunRequest(
        run_id=validate_run_id(run_id),
        profile=profile,
        overrides=overrides,
        settings=settings.snapshot(),
        requested_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    if grid:
        checked = check_grid(grid)
        points = sweep_profiles(settings, checked)
        request["grid"] = checked
        request["points"] = {name: point.snapshot() for name, point in points.items()}
    store.write_document(request, store.run_dir(RUN_REQUESTS, run_id))
    return request


def read_run_request(store: LakehouseStore, run_id: str) -> RunRequest | None:
    """The request of ``run_id``, or None if it was minted elsewhere (e.g. the UI)."""
    folder = store.run_dir(RUN_REQUESTS, run_id)
    if not folder.exists():
        return None
    request: RunRequest = store.read_document(folder)
    return request


def settings_for_request(request: RunRequest | None, base: Settings) -> Settings:
    """The settings a run request froze; ``base`` (the code location's) for a run without one.

    A run id registered by hand in the UI has no request: it runs with ``base``.
    """
    if request is None:
        return base
    if "settings" in request:
        return Settings.model_validate(request["settings"])
    return base.with_profile(request["profile"], **request.get("overrides", {}))


def settings_of(manifest: Mapping[str, Any]) -> Settings:
    """The frozen settings a ``run_manifest`` recorded."""
    return Settings.model_validate(manifest["settings"])


def profiles_of(manifest: Mapping[str, Any]) -> dict[str, Settings]:
    """The tournament's profiles: the run's profile, or every point of its sweep's grid."""
    points = manifest.get("points")
    if points:
        return {name: Settings.model_validate(snapshot) for name, snapshot in points.items()}
    settings = settings_of(manifest)
    return {settings.profile: settings}


def plugin_records(profiles: Mapping[str, Settings]) -> list[PluginRecord]:
    """What the manifest records of every plug-in the profiles use (built-ins included).

    One record per plug-in (kind and name): its import path, the distribution that ships it and
    its version, and the SHA-256 of its source file (:meth:`quant_assets.plugins.Plugin.record`).
    """
    named: dict[tuple[str, str], None] = {}
    for settings in profiles.values():
        named.update(dict.fromkeys(("engine", name) for name in settings.engines))
        named.update(dict.fromkeys(("signal", name) for name in settings.signals))
        named[("score", settings.score)] = None
    return [resolve(kind, name).record() for kind, name in named]


def plugin_changes(
    recorded: Sequence[Mapping[str, Any]], current: Sequence[PluginRecord]
) -> list[str]:
    """What changed in the plug-ins since ``recorded`` (an earlier manifest's), one line each."""
    now = {(r["kind"], r["name"]): r for r in current}
    changes = []
    for before in recorded:
        after = now.get((before["kind"], before["name"]))
        if after is None:
            continue
        for field in ("import_path", "distribution", "version", "source_sha256"):
            if before.get(field) != after.get(field):
                changes.append(
                    f"{before['kind']} {before['name']!r}: {field} was {before.get(field)!r}, "
                    f"is now {after.get(field)!r}"
                )
    return changes


def build_manifest(
    run_id: str, settings: Settings, store: LakehouseStore, request: RunRequest | None
) -> RunManifest:
    """Assemble the run manifest document."""
    symbols = settings.symbols if settings.symbols is not None else store.symbols()
    points = request.get("points") if request else None
    profiles = (
        {name: Settings.model_validate(p) for name, p in points.items()}
        if points
        else {settings.profile: settings}
    )
    manifest = RunManifest(
        run_id=validate_run_id(run_id),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        request=request,
        profile=settings.profile,
        settings=settings.snapshot(),
        settings_hash=settings.content_hash(),
        packages=package_versions(),
        git=git_state(),
        plugins=plugin_records(profiles),
        inputs=RunInputs(
            market_data={
                symbol: file_sha256(store.symbol_path(symbol))
                for symbol in symbols
                if store.symbol_path(symbol).exists()
            }
        ),
    )
    if request and "grid" in request and points:
        manifest["grid"] = request["grid"]
        manifest["points"] = points
    return manifest


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_state(cwd: Path | None = None) -> GitState:
    """The git commit of the code and whether the work tree had changes (None outside git)."""
    here = cwd or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return GitState(commit=None, dirty=None)
    return GitState(commit=commit, dirty=bool(status.strip()))
