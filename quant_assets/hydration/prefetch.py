"""Fetching many symbols at once: one vectorised call, or a thread pool for sources that wait.

A source with ``fetch_many(symbols, start)`` (the synthetic market generates a block of
symbols in one set of array operations) is asked once per distinct start date. Any other
source is asked symbol by symbol on a thread pool of :data:`FETCH_THREADS`, so sources that
wait on a disk or a network overlap their waits. A symbol whose fetch fails gets its error
back instead of bars: a refusal of its data
(:class:`~quant_assets.hydration.bars.DataQualityError`) is quarantined alone, any other error
(an outage) is raised by the caller once the symbols before it are stored. A failing
``fetch_many`` call is retried symbol by symbol to tell which symbol failed.
"""

from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from datetime import date
from typing import TypeAlias

import pandas as pd

from quant_assets.hydration.sources import MarketDataSource

FETCH_THREADS = 8
"""Threads fetching symbols at once from a source without ``fetch_many``."""

Fetched: TypeAlias = pd.DataFrame | Exception
"""A symbol's fetched bars, or the error fetching them raised."""


def fetch_all(
    source: MarketDataSource, starts: Mapping[str, date | None], pool: Executor
) -> dict[str, Fetched]:
    """Each symbol's bars from its start date (None: its whole history), in ``starts``' order."""
    fetch_many: Callable[..., dict[str, pd.DataFrame]] | None = getattr(source, "fetch_many", None)
    if fetch_many is None:
        bars = pool.map(lambda s: _fetch_one(source, s, starts[s]), starts)
        return dict(zip(starts, bars, strict=True))
    groups: dict[date | None, list[str]] = {}
    for symbol, start in starts.items():
        groups.setdefault(start, []).append(symbol)
    fetched: dict[str, Fetched] = {}
    for start, symbols in groups.items():
        try:
            fetched.update(fetch_many(symbols, start=start))
        except Exception:  # ask each symbol alone, to find the one that fails
            fetched.update({s: _fetch_one(source, s, start) for s in symbols})
    return {symbol: fetched[symbol] for symbol in starts}


def _fetch_one(source: MarketDataSource, symbol: str, start: date | None) -> Fetched:
    try:
        bars: pd.DataFrame = source.fetch(symbol, start=start)
    except Exception as error:  # handed to the caller, which decides
        return error
    return bars
