"""The JSON documents the lakehouse keeps about runs and symbols, as typed dicts.

Each is written by one function and read back as it was written (JSON keeps only these types):

- :class:`RunRequest`: how a run id must be run (``run_requests/run_id=<id>/document.json``,
  :func:`quant_assets.provenance.write_run_request`);
- :class:`RunManifest`: what a run used (the ``run_manifest`` asset,
  :func:`quant_assets.provenance.build_manifest`);
- :class:`PluginRecord`: one plug-in a run used, inside the manifest;
- :class:`QuarantineEntry`: why a symbol's data was refused
  (``quarantine/symbol=<SYM>/document.json``, :func:`quant_assets.hydration.quarantine.record`).
"""

from typing import Any, NotRequired, TypedDict

SettingsSnapshot = dict[str, Any]
"""``Settings.snapshot()``: every setting by name, JSON-ready."""


class RunRequest(TypedDict):
    """The profile, overrides and frozen settings a run id was minted with."""

    run_id: str
    profile: str
    overrides: dict[str, Any]
    settings: SettingsSnapshot
    requested_at: str
    grid: NotRequired[dict[str, list[Any]]]
    """A sweep's grid: setting -> its values."""
    points: NotRequired[dict[str, SettingsSnapshot]]
    """A sweep's points: name (``top_n=5,max_weight=0.1``) -> its settings."""


class PluginRecord(TypedDict):
    """One plug-in a run used: enough to tell later whether it changed."""

    kind: str
    name: str
    import_path: str
    distribution: str | None
    version: str | None
    source_sha256: str | None


class GitState(TypedDict):
    """The code's git commit and whether its work tree had changes (None outside git)."""

    commit: str | None
    dirty: bool | None


class RunInputs(TypedDict):
    """The content hash of every input a run read."""

    market_data: dict[str, str]
    """Symbol -> SHA-256 of its stored file."""


class RunManifest(TypedDict):
    """What a run used: settings, packages, code, plug-ins and inputs."""

    run_id: str
    created_at: str
    request: RunRequest | None
    profile: str
    settings: SettingsSnapshot
    settings_hash: str
    packages: dict[str, str]
    git: GitState
    plugins: list[PluginRecord]
    inputs: RunInputs
    grid: NotRequired[dict[str, list[Any]]]
    points: NotRequired[dict[str, SettingsSnapshot]]
    plugin_changes: NotRequired[list[str]]
    """On a re-run: what changed in the plug-ins since the run was first recorded."""


class QuarantineEntry(TypedDict):
    """Why a symbol's data from a source was refused, and what the source offered then."""

    symbol: str
    source: str
    file: str | None
    column: str | None
    rows: list[int]
    """The first rows (of the source's file or frame) that broke the rule."""
    reason: str
    values: list[str]
    message: str
    quarantined_at: str
    stored_rows: int
    fingerprint: str | None
