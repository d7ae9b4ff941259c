"""Symbol discovery over TradingView's stock screener, for a yfinance hydration.

:func:`screen_symbols` asks TradingView's screener (through the ``tradingview-screener``
package's ``Query``, an optional package of the ``online`` extra) for the primary US listings
of chosen exchanges whose market cap passes a floor, largest first; keeps those whose average
dollar volume (close x 30-day average volume) passes a second floor; and maps each TradingView
ticker to the Yahoo Finance symbol a yfinance hydration reads (:func:`yahoo_symbol`:
``NYSE:BRK.B`` -> ``BRK-B``, ``NYSE:BAC/PL`` -> ``BAC-PL``). Tickers that our symbol rule
(:func:`lakehouse.validate_symbol`) still refuses are dropped, logged and listed in
``frame.attrs[REFUSED_ATTR]``. :func:`~quant_assets.hydration.symbol_lists.write_symbol_list`
writes the symbols for ``quant hydrate --symbols-file FILE --source yfinance``.

The listings are what the package's default stock screener holds (common and preferred stocks,
depositary receipts, funds that are not ETFs), primary listings only. Market cap and prices are
TradingView's, delayed; the screen is of today, so a list made from it is survivorship-biased
for any past date.

The network call is one function of the query (:data:`ScreenerTransport`, default
:func:`scanner_transport`: ``Query.get_scanner_data_raw`` with a 10 s timeout, no retries);
tests pass recorded answers. Errors: :class:`~quant_assets.hydration.online.MissingExtraError`
without the package, :class:`~quant_assets.hydration.online.SourceUnreachable` ("cannot reach
TradingView's screener (...): check the connection") without a network, and
:class:`~quant_assets.hydration.online.OnlineSourceError` for an HTTP error or an answer of an
unexpected shape.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from lakehouse import InvalidSymbol, validate_symbol
from quant_assets.hydration.online import (
    NETWORK_TIMEOUT_SECONDS,
    OnlineSourceError,
    SourceUnreachable,
    import_package,
    is_network_error,
    reason_of,
)

logger = logging.getLogger(__name__)

SCREENER_SERVICE = "TradingView's screener"
SCREENER_PACKAGE = "tradingview_screener"
SCREENER_FEATURE = "`quant screen` (TradingView's screener)"
SCREENER_MARKET = "america"
"""TradingView's market of US listings (the only one :func:`yahoo_symbol` maps)."""
SCREENER_EXCHANGES = ("AMEX", "CBOE", "NASDAQ", "NYSE", "OTC")
"""TradingView's names of the US exchanges (``AMEX`` holds NYSE American and NYSE Arca)."""
DEFAULT_EXCHANGES = ("NASDAQ", "NYSE")
DEFAULT_MIN_MARKET_CAP = 1e9
DEFAULT_MIN_DOLLAR_VOLUME = 1e7
DEFAULT_LIMIT = 500
PAGE_ROWS = 500
"""Listings asked for per request (TradingView pages by a row range)."""
MAX_SCANNED_ROWS = 10_000
"""Listings read at most (20 requests), however many are needed to find ``limit`` liquid ones."""
MARKET_CAP_FIELD = "market_cap_basic"
AVERAGE_VOLUME_FIELD = "average_volume_30d_calc"
SCREENER_FIELDS = {
    "name": "tradingview_name",
    "description": "name",
    "exchange": "exchange",
    "close": "close",
    "currency": "currency",
    MARKET_CAP_FIELD: "market_cap",
    AVERAGE_VOLUME_FIELD: "average_volume",
}
"""TradingView field selected -> our column name."""
NUMERIC_COLUMNS = ("close", "market_cap", "average_volume")
SCREEN_COLUMNS = (
    "symbol",
    "ticker",
    "exchange",
    "name",
    "close",
    "currency",
    "market_cap",
    "average_volume",
    "average_dollar_volume",
)
"""Columns of :func:`screen_symbols`' frame (``ticker`` is TradingView's ``EXCHANGE:NAME``)."""
YAHOO_SPELLING = str.maketrans({".": "-", "/": "-"})
"""TradingView -> Yahoo spelling of US share classes and preferreds: BRK.B -> BRK-B."""
REFUSED_ATTR = "refused"
"""``frame.attrs`` key: ``[{"ticker": ..., "reason": ...}]`` of the tickers dropped."""
MATCHED_ATTR = "matched"
"""``frame.attrs`` key: listings TradingView matched on exchange and market cap."""

ScreenerTransport = Callable[[Any], Mapping[str, Any]]
"""``query -> answer``: sends a ``tradingview_screener.Query``, returns the scanner's JSON
(``{"totalCount": n, "data": [{"s": "NASDAQ:AAPL", "d": [...]}, ...]}``)."""


def scanner_transport(query: Any) -> Mapping[str, Any]:
    """POST ``query`` to TradingView's scanner (``Query.get_scanner_data_raw``), 10 s timeout."""
    answer: Mapping[str, Any] = query.get_scanner_data_raw(timeout=NETWORK_TIMEOUT_SECONDS)
    return answer


def screen_symbols(
    exchanges: Iterable[str] = DEFAULT_EXCHANGES,
    min_market_cap: float = DEFAULT_MIN_MARKET_CAP,
    min_avg_dollar_volume: float = DEFAULT_MIN_DOLLAR_VOLUME,
    limit: int = DEFAULT_LIMIT,
    query: Any = None,
    transport: ScreenerTransport | None = None,
    page_rows: int = PAGE_ROWS,
) -> pd.DataFrame:
    """The ``limit`` largest liquid listings of ``exchanges``, as Yahoo Finance symbols.

    Parameters
    ----------
    exchanges : iterable of str
        TradingView exchange names, any of :data:`SCREENER_EXCHANGES` (case ignored).
    min_market_cap : float
        Market cap floor (USD, TradingView's ``market_cap_basic``), applied by TradingView.
    min_avg_dollar_volume : float
        Floor of ``close * average_volume_30d_calc`` (USD a day), applied here.
    limit : int
        Listings kept at most, largest market cap first.
    query : tradingview_screener.Query, optional
        Query to start from (default ``Query()``, the US stock screener); its market and
        filters are kept, its columns, sort and row range are set here.
    transport : callable, optional
        Sends one query and returns the scanner's JSON; default :func:`scanner_transport`.
    page_rows : int
        Listings asked for per request.

    Returns
    -------
    DataFrame
        :data:`SCREEN_COLUMNS`, one row per kept listing, largest market cap first. NaN
        policy: a listing whose close or average volume is unknown has an unknown dollar
        volume and is not kept. ``attrs[REFUSED_ATTR]`` lists the tickers dropped because no
        valid symbol maps to them, ``attrs[MATCHED_ATTR]`` how many listings TradingView
        matched on exchange and market cap.
    """
    chosen = _exchanges(exchanges)
    if min_market_cap < 0 or min_avg_dollar_volume < 0 or limit < 1 or page_rows < 1:
        raise ValueError(
            "screen floors must be >= 0 and limit >= 1, got min_market_cap="
            f"{min_market_cap}, min_avg_dollar_volume={min_avg_dollar_volume}, limit={limit}"
        )
    module = import_package(SCREENER_PACKAGE, SCREENER_FEATURE)
    base = query if query is not None else module.Query(SCREENER_MARKET)
    filters = [module.col("exchange").isin(chosen), module.col(MARKET_CAP_FIELD) >= min_market_cap]
    send = transport or scanner_transport
    kept: list[dict[str, Any]] = []
    refused: list[dict[str, str]] = []
    matched = 0
    for start in range(0, MAX_SCANNED_ROWS, page_rows):
        page_query = _page_query(base, filters, start, start + page_rows)
        matched, page = _listings(_ask(send, page_query))
        _keep(page, min_avg_dollar_volume, limit, kept, refused)
        if len(kept) >= limit or page.empty or start + page_rows >= matched:
            break
    else:
        logger.warning(
            "%s: stopped after reading %d listings with %d of %d kept",
            SCREENER_SERVICE,
            MAX_SCANNED_ROWS,
            len(kept),
            limit,
        )
    frame = pd.DataFrame(kept, columns=list(SCREEN_COLUMNS))
    frame = frame.astype({c: "float64" for c in (*NUMERIC_COLUMNS, "average_dollar_volume")})
    frame.attrs[REFUSED_ATTR] = refused
    frame.attrs[MATCHED_ATTR] = matched
    for entry in refused:
        logger.warning("dropped %s: %s", entry["ticker"], entry["reason"])
    logger.info(
        "%s: %s listings on %s with market cap >= %s; kept %d with average dollar volume >= %s",
        SCREENER_SERVICE,
        f"{matched:,}",
        "/".join(chosen),
        f"{min_market_cap:,.0f}",
        len(frame),
        f"{min_avg_dollar_volume:,.0f}",
    )
    return frame


def yahoo_symbol(ticker: str) -> str:
    """The Yahoo Finance symbol of TradingView's US ``EXCHANGE:NAME`` ticker.

    Share classes and preferreds take Yahoo's dash (``NYSE:BRK.B`` -> ``BRK-B``,
    ``NYSE:BAC/PL`` -> ``BAC-PL``). Raises :class:`InvalidSymbol` naming the ticker when it is
    not ``EXCHANGE:NAME`` or the result is not a valid symbol.
    """
    exchange, separator, name = str(ticker).partition(":")
    if not separator or not exchange or not name:
        raise InvalidSymbol(f"TradingView ticker {ticker!r} is not EXCHANGE:NAME")
    try:
        return validate_symbol(name.translate(YAHOO_SPELLING))
    except InvalidSymbol as error:
        raise InvalidSymbol(f"TradingView ticker {ticker!r} maps to an {error}") from None


def screen_description(
    exchanges: Iterable[str], min_market_cap: float, min_avg_dollar_volume: float, limit: int
) -> str:
    """One line saying what a screen asked for, and when (a symbol list's header comment)."""
    return (
        f"TradingView screen {pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M} UTC: "
        f"{'/'.join(_exchanges(exchanges))}, market cap >= "
        f"{min_market_cap:,.0f}, average dollar volume (30 days) >= "
        f"{min_avg_dollar_volume:,.0f}, at most {limit} largest by market cap"
    )


def _exchanges(exchanges: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(e).strip().upper() for e in exchanges))
    unknown = [e for e in chosen if e not in SCREENER_EXCHANGES]
    if unknown or not chosen:
        raise ValueError(
            f"unknown exchange(s) {unknown or '(none given)'}: choose from "
            f"{', '.join(SCREENER_EXCHANGES)} (TradingView's US exchanges)"
        )
    return chosen


def _page_query(base: Any, filters: list[Any], start: int, stop: int) -> Any:
    """A copy of ``base`` asking for rows ``[start, stop)`` of the screen, largest cap first."""
    page = base.copy()
    kept_filters = list(page.query.get("filter") or [])
    # the package's `limit` sets the END of TradingView's row range, `offset` its start
    return (
        page.select(*SCREENER_FIELDS)
        .where(*kept_filters, *filters)
        .order_by(MARKET_CAP_FIELD, ascending=False)
        .offset(start)
        .limit(stop)
    )


def _ask(send: ScreenerTransport, query: Any) -> Mapping[str, Any]:
    """``send(query)``, its errors turned into the online sources' errors."""
    try:
        return send(query)
    except ValueError as error:  # requests' JSONDecodeError is a ValueError and an OSError
        raise OnlineSourceError(
            f"{SCREENER_SERVICE} answered something that is not JSON ({reason_of(error)})"
        ) from error
    except OSError as error:
        if not is_network_error(error):
            raise
        if getattr(error, "response", None) is not None:  # an HTTP answer: reached, refused
            raise OnlineSourceError(
                f"{SCREENER_SERVICE} refused the query ({reason_of(error)}); "
                f"tradingview-screener may be out of date"
            ) from error
        raise SourceUnreachable(SCREENER_SERVICE, reason_of(error)) from error


def _listings(answer: Mapping[str, Any]) -> tuple[int, pd.DataFrame]:
    """(listings matched, this page's rows: ``ticker`` and our names of the fields)."""
    fields = list(SCREENER_FIELDS)
    try:
        matched = int(answer["totalCount"])
        records = [[row["s"], *row["d"]] for row in answer["data"] or []]
    except (KeyError, TypeError, ValueError) as error:
        raise OnlineSourceError(
            f"{SCREENER_SERVICE} answered in an unexpected shape ({reason_of(error)}); "
            "expected totalCount and data rows of s and d"
        ) from None
    odd = [record[0] for record in records if len(record) != len(fields) + 1]
    if odd:
        raise OnlineSourceError(
            f"{SCREENER_SERVICE} answered rows of another width than the {len(fields)} fields "
            f"asked for ({odd[:3]})"
        )
    page = pd.DataFrame(records, columns=["ticker", *fields]).rename(columns=SCREENER_FIELDS)
    for column in NUMERIC_COLUMNS:
        page[column] = pd.to_numeric(page[column], errors="coerce").astype("float64")
    page["average_dollar_volume"] = page["close"] * page["average_volume"]
    return matched, page


def _keep(
    page: pd.DataFrame,
    min_avg_dollar_volume: float,
    limit: int,
    kept: list[dict[str, Any]],
    refused: list[dict[str, str]],
) -> None:
    """Append the liquid listings of ``page`` to ``kept`` (up to ``limit``), in order."""
    taken = {row["symbol"]: row["ticker"] for row in kept}
    liquid = page[page["average_dollar_volume"] >= min_avg_dollar_volume]
    for row in liquid.to_dict("records"):
        if len(kept) >= limit:
            return
        try:
            symbol = yahoo_symbol(row["ticker"])
        except InvalidSymbol as error:
            refused.append({"ticker": str(row["ticker"]), "reason": str(error)})
            continue
        if symbol in taken:
            reason = f"maps to {symbol}, as {taken[symbol]} does (kept)"
            refused.append({"ticker": str(row["ticker"]), "reason": reason})
            continue
        taken[symbol] = row["ticker"]
        kept.append({**{str(key): value for key, value in row.items()}, "symbol": symbol})
