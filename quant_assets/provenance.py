"""Provenance of a run: the request that minted it and the manifest that records what it used.

``new_run`` writes a *run request* (profile and setting overrides) beside the run's assets; the
``run_manifest`` asset turns it into the run's frozen settings and records package versions, the
git commit and the content hash of every input, so a run can be re-materialized and audited.
"""

import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from lakehouse import LakehouseStore, validate_run_id
from lakehouse.hashing import file_sha256
from quant_assets.settings import Settings

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
    store: LakehouseStore, run_id: str, base: Settings, profile: str, overrides: dict[str, Any]
) -> dict[str, Any]:
    """Record how ``run_id`` must be run: the profile, the overrides and the settings they give.

    The settings are ``base`` with the profile and the overrides applied, validated and frozen
    here, so whoever materializes the run later (the SDK, the UI, a daemon) uses exactly them.
    """
    settings = base.with_profile(profile, **overrides)
    request = {
        "run_id": validate_run_id(run_id),
        "profile": profile,
        "overrides": overrides,
        "settings": settings.snapshot(),
        "requested_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    store.write_document(request, store.run_dir(RUN_REQUESTS, run_id))
    return request


def read_run_request(store: LakehouseStore, run_id: str) -> dict[str, Any] | None:
    """The request of ``run_id``, or None if it was minted elsewhere (e.g. the UI)."""
    folder = store.run_dir(RUN_REQUESTS, run_id)
    if not folder.exists():
        return None
    request: dict[str, Any] = store.read_document(folder)
    return request


def settings_for_request(request: dict[str, Any] | None, base: Settings) -> Settings:
    """The settings a run request froze; ``base`` (the code location's) for a run without one.

    A run id registered by hand in the UI has no request: it runs with ``base``.
    """
    if request is None:
        return base
    if "settings" in request:
        return Settings.model_validate(request["settings"])
    return base.with_profile(request["profile"], **request.get("overrides", {}))


def settings_of(manifest: dict[str, Any]) -> Settings:
    """The frozen settings a ``run_manifest`` recorded."""
    return Settings.model_validate(manifest["settings"])


def build_manifest(
    run_id: str, settings: Settings, store: LakehouseStore, request: dict[str, Any] | None
) -> dict[str, Any]:
    """Assemble the run manifest document."""
    symbols = settings.symbols if settings.symbols is not None else store.symbols()
    return {
        "run_id": validate_run_id(run_id),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "request": request,
        "profile": settings.profile,
        "settings": settings.snapshot(),
        "settings_hash": settings.content_hash(),
        "packages": package_versions(),
        "git": git_state(),
        "inputs": {
            "market_data": {
                symbol: file_sha256(store.symbol_path(symbol))
                for symbol in symbols
                if store.symbol_path(symbol).exists()
            }
        },
    }


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_state(cwd: Path | None = None) -> dict[str, Any]:
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
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}
