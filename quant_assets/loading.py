"""Loading: the lakehouse -> pipeline boundary (the run assets read it through a resource).

Loading never fetches from a source; it only reads what hydration stored.
"""

from datetime import date
from pathlib import Path

import pandas as pd

from lakehouse import validate_symbol
from lakehouse.catalog import open_catalog
from lakehouse.store import MARKET_DATA
from quant_assets.frames import wide_from_arrow


class NoMarketDataError(LookupError):
    """The lakehouse holds no market data for what was asked."""


def load_closes(
    root: str | Path,
    symbols: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Return stored closes as a wide frame: DatetimeIndex ``date`` x sorted symbol columns.

    A date on which some symbols did not trade holds NaN for them; nothing is forward-filled.
    """
    wanted = None if symbols is None else [validate_symbol(s) for s in symbols]
    with open_catalog(root, [MARKET_DATA]) as con:
        tables = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        if MARKET_DATA not in tables:
            raise NoMarketDataError(
                f"no market data under {root}: run `make hydrate` or QuantSDK().hydrate() first"
            )
        long = con.sql(
            """
            SELECT symbol, date, close FROM market_data
            WHERE (?::VARCHAR[] IS NULL OR symbol IN (SELECT UNNEST(?::VARCHAR[])))
              AND (?::DATE IS NULL OR date >= ?::DATE)
              AND (?::DATE IS NULL OR date <= ?::DATE)
            """,  # IN (subquery) is a hash semi-join; list_contains scanned the list per row
            params=[wanted, wanted, start, start, end, end],
        ).to_arrow_table()
    if long.num_rows == 0:
        raise NoMarketDataError(
            f"no stored closes for symbols={symbols}, start={start}, end={end} under {root}"
        )
    wide = wide_from_arrow(long)  # Arrow straight to a numpy panel: no pandas pivot
    missing = sorted(set(wanted or []) - set(wide.columns))
    if missing:
        raise NoMarketDataError(f"symbols {missing} are not hydrated under {root}")
    wide.index = wide.index.astype("datetime64[ns]")
    return wide
