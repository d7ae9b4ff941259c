"""The persistent Dagster instance the SDK, the command line and ``dagster dev`` share."""

import os
from pathlib import Path

import dagster as dg

DAGSTER_HOME_ENV = "DAGSTER_HOME"
DEFAULT_DAGSTER_HOME = Path("data/dagster_home")
DAGSTER_YAML = "telemetry:\n  enabled: false\n"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
"""Tags of a run over a range of partitions (see :func:`contiguous_ranges`)."""


def dagster_home() -> Path:
    """``$DAGSTER_HOME`` or ``data/dagster_home``, made absolute, created with a dagster.yaml."""
    home = Path(os.environ.get(DAGSTER_HOME_ENV) or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
        # Create the SQLite storages now, from one process: a daemon and its code server
        # creating them at the same moment can leave the schedule storage with two heads.
        with dg.DagsterInstance.from_config(str(home)):
            pass
    return home


def dagster_instance() -> dg.DagsterInstance:
    """Open the persistent instance at :func:`dagster_home` (the one the UI shows)."""
    return dg.DagsterInstance.from_config(str(dagster_home()))


def contiguous_ranges(keys: list[str], order: list[str]) -> list[tuple[str, str]]:
    """Split ``keys`` into (first, last) runs that are contiguous in partition ``order``."""
    wanted = set(keys)
    ranges: list[tuple[str, str]] = []
    start: str | None = None
    previous: str | None = None
    for key in order:
        if key in wanted:
            start = start or key
            previous = key
        elif start is not None and previous is not None:
            ranges.append((start, previous))
            start = None
    if start is not None and previous is not None:
        ranges.append((start, previous))
    return ranges
