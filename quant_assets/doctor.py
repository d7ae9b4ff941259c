"""The lakehouse doctor: find stored files that are damaged or break their contract, and repair.

Three examinations, each file on its own, so one bad file never hides the others:

1. every Parquet and JSON file is read in full (a file cut short, a garbled page);
2. its bytes are compared with the checksum the store recorded when it wrote it (a file changed
   outside the platform, e.g. overwritten by hand);
3. every frame with a contract (:data:`~quant_assets.contracts.STORED_CONTRACTS`) is validated
   against its structural (tier 1) contract (``market_data`` first by the array checks
   hydration uses, :data:`CERTAIN_PASSES`; pandera in any doubt).

Repair moves each damaged file aside into ``<root>/_damaged/`` (nothing is deleted) and says how
the partition is re-created: a ``market_data`` symbol by re-hydrating it in full from the source
recorded in its file (:func:`recorded_origins`; the SDK does it), a run's asset by re-running
that run (``quant run --run-id <id>``).

Symbolic links planted in the lakehouse are findings too
(:func:`lakehouse.integrity.planted_links`): views leave them out, and repair moves them aside.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from lakehouse import LakehouseStore
from lakehouse.integrity import (
    STORED_FILES,
    damaged_file,
    planted_links,
    quarantine_file,
    quarantine_link,
    scan,
    stored_files,
)
from lakehouse.store import MARKET_DATA, PARQUET_FILE, PARTITION_FOLDER_KEYS, RUN_ID_PARTITIONS
from quant_assets.contracts import STORED_CONTRACTS
from quant_assets.hydration.hydrate import stored_origin
from quant_assets.hydration.validation import plainly_valid

FINDING_COLUMNS = ("asset", "partition", "path", "problem", "repair")
LINK_REPAIR = "move the link aside (what it points to is left alone)"
SHOWN_FAILURES = 3
"""Contract failure cases quoted in a finding."""
CERTAIN_PASSES: dict[str, Callable[[pd.DataFrame], bool]] = {MARKET_DATA: plainly_valid}
"""Array checks that say for sure a frame passes its asset's contract; pandera decides any
doubt. A lakehouse holds thousands of ``market_data`` files: pandera took 5 ms each."""


def examine(store: LakehouseStore) -> pd.DataFrame:
    """Every stored file that is damaged or breaks its contract, one row each.

    Returns
    -------
    DataFrame
        Columns :data:`FINDING_COLUMNS`; ``repair`` says what :func:`repair` will do.
    """
    findings = {
        entry.path: (entry.asset, entry.partition, entry.error) for entry in scan(store.root)
    }
    for link in planted_links(store.root):
        entry = damaged_file(link if link.name in STORED_FILES else link / PARQUET_FILE, "")
        target = os.readlink(link)
        planted = f"symbolic link to {target}: not written by the platform; left out of views"
        findings[link] = (entry.asset, entry.partition, planted)
    for path in stored_files(store.root):
        asset = path.parent.parent.name
        if path in findings or path.name != PARQUET_FILE or asset not in STORED_CONTRACTS:
            continue
        problem = _contract_problem(store, path, asset)
        if problem is not None:
            entry = damaged_file(path, problem)
            findings[path] = (entry.asset, entry.partition, problem)
    rows = [
        (
            asset,
            partition,
            str(path),
            problem,
            LINK_REPAIR if path.is_symlink() else _repair_of(asset, partition),
        )
        for path, (asset, partition, problem) in sorted(findings.items())
    ]
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def repair(findings: pd.DataFrame) -> tuple[list[Path], list[str], list[str]]:
    """Move every file of ``findings`` aside; return (moved to, symbols to re-hydrate, run ids).

    The symbols must then be re-hydrated in full, the runs re-run, to re-create what was moved.
    """
    moved, symbols, runs = [], [], []
    run_key = f"{PARTITION_FOLDER_KEYS[RUN_ID_PARTITIONS]}="
    for asset, partition, path in _located(findings):
        if path.is_symlink():
            moved.append(quarantine_link(path))  # nothing of ours to re-create
            continue
        if path.exists():
            moved.append(quarantine_file(path))
        if asset == MARKET_DATA and "=" in partition:
            symbols.append(partition.split("=", 1)[1])
        elif partition.startswith(run_key):
            runs.append(partition[len(run_key) :])
    return moved, sorted(set(symbols)), sorted(set(runs))


def recorded_origins(findings: pd.DataFrame) -> dict[str, dict[str, Any] | None]:
    """Symbol -> the source settings recorded in its (damaged) file, None when none readable."""
    origins: dict[str, dict[str, Any] | None] = {}
    for asset, partition, path in _located(findings):
        if asset == MARKET_DATA and "=" in partition:
            origins[partition.split("=", 1)[1]] = stored_origin(path)
    return origins


def _located(findings: pd.DataFrame) -> list[tuple[str, str, Path]]:
    """``(asset, partition, path)`` of every finding (an unpartitioned asset's partition is "")."""
    return [
        (str(asset), str(partition or ""), Path(str(path)))
        for asset, partition, path in zip(
            findings["asset"], findings["partition"], findings["path"], strict=True
        )
    ]


def by_origin(
    symbols: list[str], origins: dict[str, dict[str, Any] | None]
) -> dict[tuple[tuple[str, Any], ...] | None, list[str]]:
    """``symbols`` grouped by recorded origin (as sorted items; None: not recorded), in order."""
    groups: dict[tuple[tuple[str, Any], ...] | None, list[str]] = {}
    for symbol in symbols:
        origin = origins.get(symbol)
        key = None if origin is None else tuple(sorted(origin.items()))
        groups.setdefault(key, []).append(symbol)
    return groups


def _contract_problem(store: LakehouseStore, path: Path, asset: str) -> str | None:
    frame = store.read_frame(path.parent)
    certain_pass = CERTAIN_PASSES.get(asset)
    if certain_pass is not None and certain_pass(frame):
        return None
    contract = STORED_CONTRACTS[asset]
    try:
        contract.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.head(SHOWN_FAILURES)
        quoted = "; ".join(
            f"{case.column}: {case.check} ({case.failure_case})" for case in cases.itertuples()
        )
        return f"breaks {contract.__name__}: {len(errors.failure_cases)} failures, e.g. {quoted}"
    return None


def _repair_of(asset: str, partition: str | None) -> str:
    if asset == MARKET_DATA and partition:
        return f"move aside; re-hydrate {partition.split('=', 1)[-1]} in full"
    if partition and partition.startswith(f"{PARTITION_FOLDER_KEYS[RUN_ID_PARTITIONS]}="):
        return f"move aside; re-run with `quant run --run-id {partition.split('=', 1)[1]}`"
    return "move aside; re-create it by the step that wrote it"
