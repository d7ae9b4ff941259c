"""Yahoo Finance through ``yfinance``: daily adjusted bars for users with internet.

``yfinance`` is an optional package (the ``online`` extra, imported only when a download runs)
with two habits this module turns into errors a user can act on:

- it never raises for a failed download: offline, or for an unknown ticker, it logs an error
  and returns an EMPTY frame. An empty frame becomes a
  :class:`~quant_assets.hydration.bars.DataQualityError` for that symbol ("no data from Yahoo
  Finance: offline, or an unknown ticker", quoting yfinance's own reason), which quarantines
  it, unless Yahoo cannot be reached at all (checked with one TCP connection, see below);
- its frame has MultiIndex columns ``(Price, Ticker)`` even for one ticker (yfinance >= 0.2.51
  with the default ``multi_level_index=True``) and the date as its index; :func:`yahoo_bars`
  flattens it.

**Failing fast.** Before its first download, and again after any empty frame, the source opens
one TCP connection to Yahoo's host (:func:`~quant_assets.hydration.online.probe_connection`, at
most 5 s). When that fails, or a download raises a network error, the source raises
:class:`~quant_assets.hydration.online.SourceUnreachable` ("cannot reach Yahoo Finance (...):
check the connection"), which stops the hydration instead of quarantining every symbol; so
does Yahoo's rate limit (:class:`~quant_assets.hydration.online.OnlineSourceError`).
Downloads time out after :data:`~quant_assets.hydration.online.NETWORK_TIMEOUT_SECONDS` and are
not retried (yfinance's ``config.network.retries`` defaults to 0).
"""

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import pandas as pd

from lakehouse import validate_symbol
from quant_assets.hydration.bars import DataQualityError, canonical_bars
from quant_assets.hydration.online import (
    NETWORK_TIMEOUT_SECONDS,
    OnlineSourceError,
    SourceUnreachable,
    import_package,
    is_network_error,
    probe_connection,
    reason_of,
    require_package,
)

YAHOO_SERVICE = "Yahoo Finance"
YAHOO_HOST = "query2.finance.yahoo.com"
"""The host yfinance asks for prices (its ``const._BASE_URL_``)."""
YFINANCE_PACKAGE = "yfinance"
YFINANCE_FEATURE = "the yfinance source"
YFINANCE_LOGGER = "yfinance"
YAHOO_ERRORS_ATTR = "yfinance_errors"
"""``raw.attrs`` key: the error lines yfinance logged during a download (its only report)."""
RATE_LIMITED = "YFRateLimitError"
"""yfinance's error when Yahoo refuses more requests for a while: every symbol would fail."""
TICKER_LEVEL = "Ticker"
NO_DATA = "no data from Yahoo Finance: offline, or an unknown ticker"
NO_DATA_ACTION = (
    "Check the ticker on https://finance.yahoo.com (Yahoo spells share classes BRK-B) and the "
    "connection, then hydrate it again"
)

Downloader = Callable[[str, date | None], pd.DataFrame]
"""``(symbol, start) -> frame`` as ``yfinance.download`` returns it (None start: all history)."""
Probe = Callable[[], None]
"""Raises :class:`~quant_assets.hydration.online.SourceUnreachable` when Yahoo is out of reach."""


class YFinanceSource:
    """Yahoo Finance through the ``yfinance`` package (needs internet and the ``online`` extra).

    Parameters
    ----------
    symbols : list of str
        Yahoo tickers to hydrate (Yahoo has no listing to enumerate), e.g. from
        ``quant screen --out`` (:mod:`quant_assets.hydration.screener`).
    download : callable, optional
        ``(symbol, start) -> frame`` shaped like ``yfinance.download``'s; default
        :func:`yfinance_download`. Tests inject recorded frames.
    probe : callable, optional
        Checks that Yahoo can be reached; default a TCP connection to :data:`YAHOO_HOST` when
        ``download`` is the default, none when a ``download`` is injected.
    """

    name = "yfinance"

    def __init__(
        self,
        symbols: list[str],
        download: Downloader | None = None,
        probe: Probe | None = None,
    ) -> None:
        self._symbols = sorted(validate_symbol(s) for s in symbols)
        if download is None:
            require_package(YFINANCE_PACKAGE, YFINANCE_FEATURE)
            probe = probe or probe_yahoo
        self._download = download or yfinance_download
        self._probe = probe
        self._reached = False

    def symbols(self) -> list[str]:
        """The symbols asked for."""
        return list(self._symbols)

    def check_reachable(self) -> None:
        """Raise :class:`~.online.SourceUnreachable` if Yahoo cannot be reached."""
        if self._probe is not None:
            self._probe()
        self._reached = True

    def fetch(self, symbol: str, start: date | None = None) -> pd.DataFrame:
        """Daily adjusted bars of ``symbol`` from ``start`` (None: the whole history).

        Raises
        ------
        SourceUnreachable
            Yahoo cannot be reached (checked before the first download and after an empty one).
        OnlineSourceError
            Yahoo is rate-limiting this machine (yfinance's ``YFRateLimitError``).
        DataQualityError
            Yahoo sent nothing for ``symbol`` (an unknown ticker), or bars that cannot be stored.
        """
        if not self._reached:
            self.check_reachable()
        try:
            raw = self._download(symbol, start)
        except OSError as error:  # ConnectionError, TimeoutError, requests' and curl's errors
            if not is_network_error(error):
                raise
            raise SourceUnreachable(YAHOO_SERVICE, reason_of(error)) from error
        if raw.empty:
            self.check_reachable()  # the connection dropped: stop, do not quarantine the rest
            reported = raw.attrs.get(YAHOO_ERRORS_ATTR) or []
            if any(RATE_LIMITED in line for line in reported):
                raise OnlineSourceError(
                    f"{YAHOO_SERVICE} is rate-limiting this machine ({reported[0]}): wait a "
                    "while, then hydrate again (the symbols already stored are kept)"
                )
            raise DataQualityError(
                NO_DATA + (f" (yfinance: {'; '.join(reported)})" if reported else ""),
                source=self.name,
                symbol=symbol,
                action=NO_DATA_ACTION,
            )
        return canonical_bars(yahoo_bars(raw, symbol), source=self.name, symbol=symbol)

    def last_date(self, symbol: str) -> date | None:
        """The last completed weekday (Yahoo's daily bars close then)."""
        return last_completed_weekday()

    def last_dates(self) -> dict[str, date | None]:
        """Every symbol's last date at once (the last completed weekday)."""
        return dict.fromkeys(self._symbols, last_completed_weekday())


def yahoo_bars(raw: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """``yfinance.download``'s frame of one ticker as flat rows: ``date``, ``open``... ``volume``.

    Accepts the default MultiIndex columns ``(Price, Ticker)`` (the ticker level is matched
    without case, as yfinance upper-cases tickers) and the flat columns of
    ``multi_level_index=False``; a date index becomes the ``date`` column. Column names are
    lower-cased; values are untouched (:func:`canonical_bars` parses and checks them).

    Raises
    ------
    DataQualityError
        The frame holds other tickers than ``symbol``.
    """
    frame = raw
    if isinstance(frame.columns, pd.MultiIndex):
        names = list(frame.columns.names)
        level = names.index(TICKER_LEVEL) if TICKER_LEVEL in names else frame.columns.nlevels - 1
        tickers = {str(t) for t in frame.columns.get_level_values(level)}
        wanted = next((t for t in tickers if t.upper() == symbol.upper()), None)
        if wanted is None:
            raise DataQualityError(
                f"Yahoo's frame holds tickers {sorted(tickers)}, not {symbol!r}",
                source=YFinanceSource.name,
                symbol=symbol,
                action="Download one ticker at a time",
            )
        frame = pd.DataFrame(frame.xs(wanted, axis=1, level=level))
    if isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.rename_axis("date").reset_index()
    frame = frame.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def probe_yahoo() -> None:
    """One TCP connection to Yahoo's price host, or :class:`SourceUnreachable`."""
    probe_connection(YAHOO_SERVICE, YAHOO_HOST)


def yfinance_download(symbol: str, start: date | None) -> pd.DataFrame:
    """``yfinance.download`` of one ticker's daily adjusted bars, its errors in ``attrs``.

    ``start`` None asks for the whole history (``period="max"``; yfinance's own default is one
    month). The lines yfinance logs at ERROR (its only report of a failed download) are kept in
    ``frame.attrs[YAHOO_ERRORS_ATTR]`` instead of printed; its pandas deprecation warnings are
    silenced.
    """
    yfinance = import_package(YFINANCE_PACKAGE, YFINANCE_FEATURE)
    span = {"start": start} if start is not None else {"period": "max"}
    with _captured_errors(YFINANCE_LOGGER) as errors, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        raw = yfinance.download(
            symbol,
            **span,
            auto_adjust=True,
            actions=False,
            progress=False,
            threads=False,
            timeout=NETWORK_TIMEOUT_SECONDS,
        )
    frame = raw if isinstance(raw, pd.DataFrame) else pd.DataFrame()
    frame.attrs[YAHOO_ERRORS_ATTR] = errors
    return frame


class _ErrorCollector(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        text = " ".join(record.getMessage().split())
        if text and "Failed download" not in text:  # the header line of yfinance's error list
            self.lines.append(text)


@contextmanager
def _captured_errors(logger_name: str) -> Iterator[list[str]]:
    """Within the block, ``logger_name``'s ERROR lines go into the yielded list, not stderr."""
    lines: list[str] = []
    logger = logging.getLogger(logger_name)
    handler = _ErrorCollector(lines)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def last_completed_weekday(today: date | None = None) -> date:
    """The last weekday strictly before ``today`` (default: today, UTC)."""
    day = pd.Timestamp(today) if today else pd.Timestamp.now(tz="UTC").tz_localize(None)
    last: date = pd.bdate_range(end=day.normalize() - pd.Timedelta(days=1), periods=1)[0].date()
    return last
