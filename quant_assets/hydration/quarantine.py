"""The quarantine: symbols whose latest data from the source was refused, one document each.

Layout: ``<root>/quarantine/symbol=<SYM>/document.json``, a JSON object with

- ``symbol``, ``source``, ``file`` (when the source reads files), ``column``, ``rows`` (the
  offending data rows, 0-based, at most :data:`~quant_assets.hydration.bars.ROWS_SHOWN`),
  ``values`` (the offending cells, when there are some), ``reason`` and ``message`` (the
  full error, saying what to do);
- ``quarantined_at`` (UTC, ISO 8601) and ``stored_rows`` (the rows still stored: the last good
  data, never replaced by refused data);
- ``fingerprint``: what the source offered when it was refused (a file's size and modification
  time, else the source's last date for the symbol). Freshness holds a quarantined symbol back
  from automatic re-hydration until this changes (see :mod:`quant_assets.freshness`).

A symbol hydrated cleanly later leaves the quarantine (its document is deleted).
:func:`quarantined` lists every entry as a table; the lakehouse's SQL has them as the
``quarantine`` view (``SELECT symbol, reason FROM quarantine``, :mod:`lakehouse.catalog`).
"""

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import pandas as pd

from lakehouse import LakehouseStore
from lakehouse.location import remove_tree, subfolders
from lakehouse.store import JSON_FILE
from quant_assets.documents import QuarantineEntry
from quant_assets.hydration.bars import ROWS_SHOWN, DataQualityError
from quant_assets.hydration.sources import MarketDataSource

QUARANTINE = "quarantine"
"""Lakehouse folder of the quarantine documents."""
COLUMNS = list(QuarantineEntry.__annotations__)
"""The fields of a quarantine entry, in order (the columns of :func:`quarantined`)."""


def record(
    store: LakehouseStore,
    symbol: str,
    error: DataQualityError,
    *,
    source: str,
    file: str | None = None,
    fingerprint: str | None = None,
    stored_rows: int = 0,
    now: datetime | None = None,
) -> QuarantineEntry:
    """Write ``symbol``'s quarantine entry for ``error`` (replacing any older one); return it."""
    entry = QuarantineEntry(
        symbol=symbol,
        source=source,
        file=error.file or file,
        column=error.column,
        rows=error.rows[:ROWS_SHOWN],
        reason=error.reason,
        values=error.values,
        message=str(error),
        quarantined_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        stored_rows=int(stored_rows),
        fingerprint=fingerprint,
    )
    store.write_document(entry, store.symbol_dir(symbol, QUARANTINE))
    return entry


def release(store: LakehouseStore, symbol: str, held: Collection[str] | None = None) -> bool:
    """Remove ``symbol`` from the quarantine; True if it was there.

    ``held`` (:func:`quarantined_symbols`, listed once for many symbols) spares a look per
    symbol: one request each on object storage.
    """
    folder = store.symbol_dir(symbol, QUARANTINE)
    if symbol not in (held if held is not None else quarantined_symbols(store, [symbol])):
        return False
    remove_tree(folder)
    return True


def quarantined_symbols(store: LakehouseStore, among: Collection[str] | None = None) -> set[str]:
    """The symbols with a quarantine entry (only those ``among``, if given): one listing."""
    if among is not None and len(among) == 1:
        (symbol,) = among
        exists = (store.symbol_dir(symbol, QUARANTINE) / JSON_FILE).exists()
        return {symbol} if exists else set()
    prefix = "symbol="
    found = {
        folder.name[len(prefix) :]
        for folder in subfolders(store.asset_dir(QUARANTINE))
        if folder.name.startswith(prefix)
    }
    return found if among is None else found & set(among)


def entry(store: LakehouseStore, symbol: str) -> QuarantineEntry | None:
    """``symbol``'s quarantine entry, or None."""
    folder = store.symbol_dir(symbol, QUARANTINE)
    if not (folder / JSON_FILE).exists():
        return None
    document: QuarantineEntry = store.read_document(folder)
    return document


def quarantined(store: LakehouseStore) -> pd.DataFrame:
    """Every quarantine entry, one row per symbol (:data:`COLUMNS`), sorted by symbol."""
    documents = [
        store.read_document(store.symbol_dir(symbol, QUARANTINE))
        for symbol in sorted(quarantined_symbols(store))
        if store.has_document(store.symbol_dir(symbol, QUARANTINE))
    ]
    frame = pd.DataFrame(documents, columns=COLUMNS)
    return frame.sort_values("symbol").reset_index(drop=True)


def source_fingerprint(source: MarketDataSource, symbol: str) -> str | None:
    """What ``source`` offers for ``symbol`` now, to tell whether it changed since a refusal.

    A source with a ``fingerprint(symbol)`` method (files: size and modification time) answers
    it; otherwise the source's last date for the symbol (None if it cannot say).
    """
    fingerprint = getattr(source, "fingerprint", None)
    if callable(fingerprint):
        value: object = fingerprint(symbol)
        return None if value is None else str(value)
    try:
        last = source.last_date(symbol)
    except (DataQualityError, KeyError, OSError):
        return None
    return None if last is None else f"last_date={last.isoformat()}"


def markdown_table(entries: Sequence[QuarantineEntry], limit: int) -> str:
    """The first ``limit`` entries as a markdown table (symbol, file, column, rows, reason)."""
    shown = pd.DataFrame(entries, columns=COLUMNS)[["symbol", "file", "column", "rows", "reason"]]
    shown["rows"] = shown["rows"].map(lambda rows: ", ".join(str(r) for r in rows or []))
    table: str = shown.head(limit).fillna("").to_markdown(index=False)
    return table
