"""Hydration: bring one symbol's bars from a source into the lakehouse, incrementally and safely.

A stored symbol is re-fetched from :data:`REFETCH_OVERLAP_DAYS` before its last stored date, so
new dates are appended and recent corrections from the source replace the stored values (each
correction is logged). Hydrating twice changes nothing.

**Restatements.** Adjusted closes are rescaled backwards by the vendor after a dividend or a
split: every close before the event is multiplied by one common factor. When the close on the
first re-fetched overlap date differs from the stored one, the symbol's WHOLE history is fetched
again and compared with the stored history before the overlap: if at least
:data:`RESTATEMENT_MIN_ROWS` older closes changed, the source has restated history and the stored
symbol is REPLACED by the source's history (two adjustment bases are never spliced). The report
says how many stored closes changed (``restated_rows``) and by which factor
(``restatement_factor``, when they share one within :data:`COMMON_FACTOR_RTOL`; None when the
history changed in some other way). A single corrected value stays a logged correction.

**Validation.** What would be stored (stored history merged with what the source sent) must pass
:func:`~quant_assets.hydration.validation.validate_bars`; otherwise the symbol is refused
(:class:`~quant_assets.hydration.bars.DataQualityError`) and nothing of it is written.
:mod:`quant_assets.hydration.batches` hydrates many symbols, each on its own: a refused symbol
is recorded in the quarantine (:mod:`quant_assets.hydration.quarantine`) and the others go on.
Bars dated after the caller's last completed trading day are refused; a move that looks like an
unadjusted split is stored with a warning (``suspected_splits`` in the report).

**Concurrent writers.** Two hydrations of one symbol at once (a manual ``quant hydrate``
racing ``auto_sync`` or a backfill) both keep their dates: each commit is conditional on the
file it merged into, and the loser merges again into the winner's file (:class:`SymbolCommit`).

**What a stored file says of itself.** Each symbol file's footer holds its checksum and the
symbol it was written for (:mod:`lakehouse.sealing`), and the source it came from
(:data:`ORIGIN_KEY`: the source settings, so ``doctor --repair`` re-fetches from the same
source). A stored file that does not match its checksum, or holds another symbol's data, is
moved aside and the symbol re-fetched in full; a file without a checksum in its footer (written
before, or its record lost) is rewritten even when its data did not change.
"""

import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lakehouse import LakehouseStore
from lakehouse.commits import ABSENT, CommitConflict, read_with_version, stored_version
from lakehouse.integrity import quarantine_file
from lakehouse.sealing import LEGACY, SEALED, UNSEALED, footer_metadata
from lakehouse.store import READ_ERRORS as STORE_READ_ERRORS
from lakehouse.store import DamagedFileError
from quant_assets.hydration.bars import BAR_COLUMNS, EMPTY_CLOSES_ATTR
from quant_assets.hydration.sources import MarketDataSource
from quant_assets.hydration.validation import suspected_splits, validate_bars
from quant_assets.settings import Settings

logger = logging.getLogger(__name__)

REFETCH_OVERLAP_DAYS = 10
"""Calendar days before the last stored date that are fetched again to catch corrections."""
CORRECTION_RTOL = 1e-9
"""Relative difference beyond which a re-fetched close counts as changed."""
RESTATEMENT_MIN_ROWS = 2
"""Changed closes before the overlap that make a restatement (fewer: corrections)."""
COMMON_FACTOR_RTOL = 1e-4
"""Changed closes share one restatement factor when every ratio is within this of their median."""
COMMIT_ATTEMPTS = 5
"""Times one symbol's commit is tried, merging with other writers' commits in between."""
ORIGIN_KEY = "quant.origin"
"""Footer key of a symbol file: JSON of the source settings it was hydrated with."""
ORIGIN_FIELDS = ("source", "source_path", "synthetic_symbols", "synthetic_years", "synthetic_end")
"""The settings that say which source, and which of its data, a symbol came from."""
SEALED_ATTR = "sealed"
"""``stored.attrs`` key: the stored file carries its checksum and identity in its footer."""


def source_origin(settings: Settings) -> dict[str, Any]:
    """The :data:`ORIGIN_FIELDS` of ``settings``, JSON-ready: recorded with each symbol."""
    snapshot = settings.snapshot()
    return {name: snapshot[name] for name in ORIGIN_FIELDS}


def stored_origin(path: Path) -> dict[str, Any] | None:
    """The source settings recorded in a stored symbol file's footer (None if unreadable)."""
    try:
        recorded = footer_metadata(path).get(ORIGIN_KEY)
    except (*STORE_READ_ERRORS, FileNotFoundError):
        return None
    if recorded is None:
        return None
    origin: dict[str, Any] = json.loads(recorded)
    return origin


@dataclass(frozen=True)
class HydrationReport:
    """What hydrating one symbol did."""

    symbol: str
    source: str
    rows_before: int
    rows_after: int
    new_rows: int
    corrected_rows: int
    first_date: str | None
    last_date: str | None
    path: str
    restated_rows: int = 0
    restatement_factor: float | None = None
    empty_closes: int = 0
    released: bool = False
    """The symbol was in the quarantine and left it with this hydration."""
    suspected_splits: tuple[str, ...] = ()
    """One-day moves by a split ratio that hold (see
    :func:`~quant_assets.hydration.validation.suspected_splits`): stored, but worth a look."""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, for metadata and logs."""
        return asdict(self)


def merge_bars(stored: pd.DataFrame, fresh: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge ``fresh`` bars into ``stored``; fresh values win where dates overlap.

    Returns
    -------
    merged : DataFrame
        Canonical bars, unique ascending dates.
    corrections : DataFrame
        One row per overlapping date whose close changed: ``date``, ``old_close``, ``new_close``.
    """
    overlap = _overlap(stored, fresh)
    corrections = overlap.loc[overlap["changed"], ["date", "close_old", "close_new"]].rename(
        columns={"close_old": "old_close", "close_new": "new_close"}
    )
    kept = stored[~stored["date"].isin(fresh["date"])]
    merged = pd.concat([kept, fresh], ignore_index=True)[list(BAR_COLUMNS)]
    return merged.sort_values("date").reset_index(drop=True), corrections.reset_index(drop=True)


def find_restatement(stored: pd.DataFrame, history: pd.DataFrame) -> tuple[int, float | None]:
    """How many ``stored`` closes the source's ``history`` changed, and their common factor.

    Returns
    -------
    changed : int
        Stored dates present in ``history`` whose close differs beyond :data:`CORRECTION_RTOL`.
    factor : float or None
        new / old close shared by every changed date within :data:`COMMON_FACTOR_RTOL`; None
        when nothing changed or the ratios differ.
    """
    overlap = _overlap(stored, history)
    changed = overlap[overlap["changed"]]
    if changed.empty:
        return 0, None
    ratios = (changed["close_new"] / changed["close_old"]).to_numpy()
    factor = float(np.median(ratios))
    common = bool(np.all(np.abs(ratios / factor - 1.0) <= COMMON_FACTOR_RTOL))
    return len(changed), factor if common else None


@dataclass(frozen=True)
class SymbolUpdate:
    """What hydrating one symbol would store: validated bars, whether they changed, the report."""

    merged: pd.DataFrame
    changed: bool
    report: HydrationReport


@dataclass(frozen=True)
class StoredSymbol:
    """What a hydration read of one symbol before fetching it."""

    bars: pd.DataFrame | None
    """The stored bars (None if none)."""
    start: date | None
    """The first date to fetch (None: all)."""
    version: str | None
    """The stored file's version when it was read: its rewrite is conditional on it."""


def stored_and_start(
    store: LakehouseStore, symbol: str, full: bool, listed: Collection[str] | None = None
) -> StoredSymbol:
    """``symbol``'s stored bars, the first date to fetch and the version read.

    A damaged stored file is moved aside first, and the whole history fetched (see
    :func:`_stored_bars`, and ``listed`` there).
    """
    stored, version = _stored_bars(store, symbol, listed)
    start: date | None = None
    if stored is not None and not full and len(stored):
        start = pd.Timestamp(stored["date"].iloc[-1]).date() - timedelta(days=REFETCH_OVERLAP_DAYS)
    return StoredSymbol(stored, start, version)


def symbol_update(
    store: LakehouseStore,
    source: MarketDataSource,
    symbol: str,
    stored: pd.DataFrame | None,
    start: date | None,
    fresh: pd.DataFrame,
    last_completed_day: date | None = None,
) -> SymbolUpdate:
    """Merge ``fresh`` bars (fetched from ``start``) into ``stored`` and validate; write nothing.

    A restatement (see the module docstring) fetches the whole history again.

    Raises
    ------
    DataQualityError
        The bars they would make cannot be stored.
    """
    empty_closes = int(fresh.attrs.get(EMPTY_CLOSES_ATTR, 0))
    restated_rows, factor = 0, None
    corrections = fresh.iloc[0:0]
    if stored is None:
        merged = fresh
    else:
        if _first_overlap_changed(stored, fresh):
            history = fresh if start is None else source.fetch(symbol, start=None)
            older = stored if start is None else stored[stored["date"] < pd.Timestamp(start)]
            older_changed, _ = find_restatement(older, history)
            if older_changed >= RESTATEMENT_MIN_ROWS:
                restated_rows, factor = find_restatement(stored, history)
                merged = history[list(BAR_COLUMNS)].reset_index(drop=True)
                logger.warning(
                    "%s: source %s restated its history (%d stored closes changed, factor %s); "
                    "the stored history is replaced by the source's",
                    symbol,
                    source.name,
                    restated_rows,
                    "not common" if factor is None else f"{factor:.6g}",
                )
        if not restated_rows:
            merged, corrections = merge_bars(stored, fresh)
    if len(corrections):
        corrected = zip(
            pd.DatetimeIndex(corrections["date"]),
            corrections["old_close"],
            corrections["new_close"],
            strict=True,
        )
        for day, old_close, new_close in corrected:
            logger.warning(
                "%s %s: source corrected close %s -> %s", symbol, day.date(), old_close, new_close
            )
    validate_bars(
        merged,
        source=source.name,
        symbol=symbol,
        file=source_file(source, symbol),
        last_completed_day=last_completed_day,
    )
    splits = tuple(suspected_splits(merged))
    for suspect in splits:
        logger.warning(
            "%s: a one-day move by a split ratio that holds, stored unadjusted? %s "
            "(check the source; runs would trade it as a real move)",
            symbol,
            suspect,
        )
    report = HydrationReport(
        symbol=symbol,
        source=source.name,
        rows_before=0 if stored is None else len(stored),
        rows_after=len(merged),
        new_rows=len(merged) if stored is None else _new_dates(merged, stored),
        corrected_rows=len(corrections),
        first_date=_day(merged, 0),
        last_date=_day(merged, -1),
        path=str(store.symbol_path(symbol)),
        restated_rows=restated_rows,
        restatement_factor=factor,
        empty_closes=empty_closes,
        suspected_splits=splits,
    )
    unsealed = stored is not None and not stored.attrs.get(SEALED_ATTR, False)
    changed = stored is None or unsealed or not merged.equals(stored)
    return SymbolUpdate(merged, changed, report)


def _stored_bars(
    store: LakehouseStore, symbol: str, listed: Collection[str] | None = None
) -> tuple[pd.DataFrame | None, str | None]:
    """The stored bars of ``symbol`` (None if none), and the version of the file read.

    ``listed`` (the stored symbols, listed once for many) spares a request for a symbol not
    stored yet: if another writer stores it meanwhile, the commit expecting none fails and
    reads it then. A stored file that cannot be read is moved aside (``<root>/_damaged/``,
    nothing deleted) and the symbol is hydrated as new, from its whole history: hydration
    repairs it.
    """
    if listed is not None and symbol not in listed:
        return None, ABSENT
    path = store.symbol_path(symbol)
    version, contents = read_with_version(path)
    if contents is None:
        return None, ABSENT
    try:
        stored, seal = store.read_sealed_frame(store.symbol_dir(symbol), contents)
    except DamagedFileError as error:
        problem = str(error.__cause__)
    except STORE_READ_ERRORS as error:
        problem = f"{type(error).__name__}: {error}"
    else:
        if seal.state in (SEALED, LEGACY, UNSEALED):
            stored.attrs[SEALED_ATTR] = seal.state == SEALED  # else: rewrite it sealed
            return stored, version
        problem = seal.detail
    moved = quarantine_file(path)
    logger.warning(
        "%s: the stored file was damaged (%s); moved to %s, re-hydrating its whole history",
        symbol,
        problem,
        moved,
    )
    return None, stored_version(path)


@dataclass(frozen=True)
class SymbolCommit:
    """Commits one symbol's merged bars; merges again with another writer's and retries.

    The commit is conditional on the stored file being the version the merge started from
    (:func:`lakehouse.commits.publish`). If another writer (a backfill, ``auto_sync``, another
    ``quant hydrate``) committed the symbol meanwhile, its file is read again and the fetched
    bars merged into it, up to :data:`COMMIT_ATTEMPTS` times: neither writer's dates are lost.
    """

    store: LakehouseStore
    source: MarketDataSource
    symbol: str
    fresh: pd.DataFrame
    last_completed_day: date | None
    metadata: Mapping[str, str] | None

    def __call__(self, update: SymbolUpdate, plan: StoredSymbol) -> SymbolUpdate:
        """Commit ``update`` (merged from ``plan``); the update finally committed."""
        folder = self.store.symbol_dir(self.symbol)
        version = plan.version
        for _ in range(COMMIT_ATTEMPTS):
            try:
                self.store.write_frame(update.merged, folder, self.metadata, expected=version)
                return update
            except CommitConflict:
                logger.info("%s: committed by another writer meanwhile; merging again", self.symbol)
            stored, version = _stored_bars(self.store, self.symbol)
            update = symbol_update(
                self.store,
                self.source,
                self.symbol,
                stored,
                plan.start,
                self.fresh,
                self.last_completed_day,
            )
            if not update.changed:
                return update
        raise CommitConflict(self.store.symbol_path(self.symbol))


def source_file(source: MarketDataSource, symbol: str) -> str | None:
    """The file ``source`` reads ``symbol`` from, when it reads files (else None)."""
    path_of = getattr(source, "path_of", None)
    path = path_of(symbol) if callable(path_of) else None
    return None if path is None else str(path)


def _overlap(stored: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """Dates in both (each frame's dates are unique), by date: old and new close, changed."""
    common, old, new = np.intersect1d(
        stored["date"].to_numpy(), fresh["date"].to_numpy(), return_indices=True
    )
    close_old = stored["close"].to_numpy()[old]
    close_new = fresh["close"].to_numpy()[new]
    return pd.DataFrame(
        {
            "date": common,
            "close_old": close_old,
            "close_new": close_new,
            "changed": ~np.isclose(close_old, close_new, rtol=CORRECTION_RTOL, atol=0.0),
        }
    )


def _new_dates(merged: pd.DataFrame, stored: pd.DataFrame) -> int:
    """How many dates of ``merged`` ``stored`` did not have."""
    return int((~np.isin(merged["date"].to_numpy(), stored["date"].to_numpy())).sum())


def _first_overlap_changed(stored: pd.DataFrame, fresh: pd.DataFrame) -> bool:
    overlap = _overlap(stored, fresh)
    return bool(len(overlap) and overlap["changed"].iloc[0])


def stored_rows(store: LakehouseStore, symbol: str) -> int:
    """How many rows of ``symbol`` are stored (0 if none or unreadable)."""
    stored, _ = _stored_bars(store, symbol)
    return 0 if stored is None else len(stored)


def _day(bars: pd.DataFrame, position: int) -> str | None:
    return None if bars.empty else str(pd.Timestamp(bars["date"].iloc[position]).date())
