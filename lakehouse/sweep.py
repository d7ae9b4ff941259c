"""Sweeping leftovers: temp files of interrupted atomic writes, and old scratch folders.

An atomic write of :class:`lakehouse.store.LakehouseStore` leaves ``.<name>.<random>.tmp`` beside
its destination when the process is killed mid-write. Scratch folders (e.g. the tournament's
``<data>/tmp/tournament-<token>``) stay behind when their process dies. Both are removed only
once older than a threshold, so a write or a run still in progress keeps its files. Published
files (``part-0.parquet``, ``document.json``) never match.
"""

import os
import shutil
import stat
import time
from pathlib import Path

from lakehouse.commits import TEMP_FILE_PREFIX, TEMP_FILE_SUFFIX
from lakehouse.location import is_remote
from lakehouse.store import LakehouseStore

DEFAULT_TEMP_AGE_SECONDS = 3600.0
"""An atomic write takes seconds; a temp file untouched for an hour is a leftover."""


def is_temp_file_name(name: str) -> bool:
    """Whether ``name`` is an atomic write's temporary file name (``.<name>.<random>.tmp``)."""
    return (
        name.startswith(TEMP_FILE_PREFIX)
        and name.endswith(TEMP_FILE_SUFFIX)
        and len(name) > len(TEMP_FILE_PREFIX) + len(TEMP_FILE_SUFFIX)
    )


def sweep_stale_temp_files(
    root: str | Path,
    older_than_seconds: float = DEFAULT_TEMP_AGE_SECONDS,
    now: float | None = None,
) -> list[Path]:
    """Remove atomic-write temp files under ``root`` last modified over the threshold ago.

    Parameters
    ----------
    root : str or Path
        Lakehouse root.
    older_than_seconds : float
        Minimum age (since last modification) of a removed file.
    now : float, optional
        Current time as a Unix timestamp (default :func:`time.time`).

    Returns
    -------
    list of Path
        The files removed, sorted.
    """
    cutoff = (time.time() if now is None else now) - older_than_seconds
    removed: list[Path] = []
    base = LakehouseStore(root).root
    if is_remote(base):  # writes are staged in the local temporary folder, never in a bucket
        return removed
    for folder, _, names in os.walk(base):
        for name in names:
            path = Path(folder) / name
            if is_temp_file_name(name) and _is_file_older_than(path, cutoff):
                path.unlink(missing_ok=True)  # published or swept meanwhile: fine
                removed.append(path)
    return sorted(removed)


def sweep_scratch(
    folder: str | Path, pattern: str, older_than_seconds: float, now: float | None = None
) -> list[Path]:
    """Remove the entries of ``folder`` matching ``pattern`` untouched for the threshold.

    An entry's age is that of the newest file or folder in it, so a scratch folder still being
    written to is kept. Symbolic links are left alone.

    Parameters
    ----------
    folder : str or Path
        The folder holding scratch entries (e.g. ``<data>/tmp``); a missing folder is fine.
    pattern : str
        Glob of entry names directly in ``folder`` (e.g. ``"tournament-*"``); no path separator.
    older_than_seconds : float
        Minimum age of a removed entry.
    now : float, optional
        Current time as a Unix timestamp (default :func:`time.time`).

    Returns
    -------
    list of Path
        The entries removed, sorted.
    """
    if not pattern or os.sep in pattern or (os.altsep and os.altsep in pattern):
        raise ValueError(f"scratch pattern {pattern!r} must name entries directly in {folder}")
    cutoff = (time.time() if now is None else now) - older_than_seconds
    folder = Path(folder)
    removed = []
    for entry in sorted(folder.glob(pattern)) if folder.is_dir() else []:
        if entry.is_symlink() or _newest_change(entry) >= cutoff:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _is_file_older_than(path: Path, cutoff: float) -> bool:
    try:
        status = path.lstat()
    except FileNotFoundError:
        return False
    return stat.S_ISREG(status.st_mode) and status.st_mtime < cutoff


def _newest_change(entry: Path) -> float:
    newest = entry.lstat().st_mtime
    if entry.is_dir():
        for folder, dirs, names in os.walk(entry):
            for name in dirs + names:
                try:
                    newest = max(newest, (Path(folder) / name).lstat().st_mtime)
                except FileNotFoundError:
                    continue
    return newest
