"""Yahoo Finance on recorded yfinance frames: the MultiIndex frame, the empty one, outages."""

import sys
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from lakehouse import LakehouseStore
from quant_assets.hydration import DataQualityError, YFinanceSource, hydrate_symbols
from quant_assets.hydration.online import (
    NETWORK_TIMEOUT_SECONDS,
    MissingExtraError,
    OnlineSourceError,
    SourceUnreachable,
)
from quant_assets.hydration.quarantine import quarantined
from quant_assets.hydration.yahoo import (
    NO_DATA,
    YAHOO_ERRORS_ATTR,
    YAHOO_SERVICE,
    yahoo_bars,
    yfinance_download,
)

RECORDED = Path(__file__).parent / "recorded"
SPY_FRAME = pd.read_parquet(RECORDED / "yfinance_download_spy.parquet")
EMPTY_FRAME = pd.read_parquet(RECORDED / "yfinance_download_empty.parquet")
OFFLINE = "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com"


def _recorded(symbol: str, start: date | None) -> pd.DataFrame:
    """The recorded download of SPY; yfinance's empty frame for any other ticker."""
    return SPY_FRAME.copy() if symbol == "SPY" else EMPTY_FRAME.copy()


class Probe:
    def __init__(self, reachable: bool = True) -> None:
        self.reachable = reachable
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if not self.reachable:
            raise SourceUnreachable(YAHOO_SERVICE, "query2.finance.yahoo.com:443: gaierror")


def test_the_recorded_frames_have_the_shape_of_yfinance_1_7():
    assert isinstance(SPY_FRAME.columns, pd.MultiIndex)
    assert list(SPY_FRAME.columns.names) == ["Price", "Ticker"]
    assert set(SPY_FRAME.columns.get_level_values("Ticker")) == {"SPY"}
    assert SPY_FRAME.index.name == "Date" and SPY_FRAME.index.tz is None
    assert EMPTY_FRAME.empty and "Adj Close" in EMPTY_FRAME.columns.get_level_values("Price")


def test_a_recorded_download_becomes_canonical_bars():
    source = YFinanceSource(["SPY"], download=_recorded)
    bars = source.fetch("SPY")
    assert list(bars.columns) == ["date", "open", "high", "low", "close", "volume"]
    assert bars["date"].tolist() == list(SPY_FRAME.index)
    assert bars["close"].tolist() == SPY_FRAME[("Close", "SPY")].tolist()
    assert bars["volume"].tolist() == SPY_FRAME[("Volume", "SPY")].astype(float).tolist()
    assert bars["volume"].dtype == "float64"


def test_flat_columns_and_lower_case_tickers_read_the_same():
    flat = SPY_FRAME.droplevel("Ticker", axis=1)  # multi_level_index=False
    expected = yahoo_bars(SPY_FRAME, "SPY")
    pd.testing.assert_frame_equal(yahoo_bars(flat, "SPY"), expected)
    pd.testing.assert_frame_equal(yahoo_bars(SPY_FRAME, "spy"), expected)
    with pytest.raises(DataQualityError, match=r"holds tickers \['SPY'\], not 'QQQ'"):
        yahoo_bars(SPY_FRAME, "QQQ")


def test_an_empty_frame_is_a_data_quality_error_naming_the_symbol():
    probe = Probe()
    empty = EMPTY_FRAME.copy()
    empty.attrs[YAHOO_ERRORS_ATTR] = [
        "['NOPE']: YFTzMissingError('possibly delisted; no timezone')"
    ]
    source = YFinanceSource(["NOPE"], download=lambda symbol, start: empty, probe=probe)
    with pytest.raises(DataQualityError) as raised:
        source.fetch("NOPE")
    message = str(raised.value)
    assert raised.value.symbol == "NOPE" and "symbol 'NOPE'" in message
    assert (
        NO_DATA in message
        and "no data from Yahoo Finance: offline, or an unknown ticker" in message
    )
    assert "YFTzMissingError" in message  # yfinance's own reason is quoted
    assert probe.calls == 2  # before the first download, and after the empty one


def test_an_unknown_ticker_is_quarantined_and_the_others_are_stored(tmp_path: Path):
    store = LakehouseStore(tmp_path)
    source = YFinanceSource(["NOPE", "SPY"], download=_recorded, probe=Probe())
    outcome = hydrate_symbols(store, source, ["NOPE", "SPY"])
    assert [r.symbol for r in outcome.reports] == ["SPY"] and outcome.reports[0].rows_after == 5
    entries = quarantined(store)
    assert entries["symbol"].tolist() == ["NOPE"]
    assert NO_DATA in entries["reason"].iloc[0]


def test_yahoos_rate_limit_stops_the_hydration():
    limited = EMPTY_FRAME.copy()
    limited.attrs[YAHOO_ERRORS_ATTR] = ["['SPY']: YFRateLimitError('Too Many Requests.')"]
    source = YFinanceSource(["SPY"], download=lambda symbol, start: limited, probe=Probe())
    with pytest.raises(OnlineSourceError, match="rate-limiting this machine"):
        source.fetch("SPY")


def test_offline_fails_fast_before_any_download():
    downloads: list[str] = []

    def download(symbol: str, start: date | None) -> pd.DataFrame:
        downloads.append(symbol)
        return _recorded(symbol, start)

    source = YFinanceSource(["SPY"], download=download, probe=Probe(reachable=False))
    with pytest.raises(SourceUnreachable, match=r"^cannot reach Yahoo Finance \(.*\): check"):
        source.fetch("SPY")
    assert downloads == []


def test_a_connection_lost_midway_stops_the_hydration_instead_of_quarantining(tmp_path: Path):
    probe = Probe()
    store = LakehouseStore(tmp_path)

    def download(symbol: str, start: date | None) -> pd.DataFrame:
        if symbol == "SPY":
            return _recorded(symbol, start)
        probe.reachable = False  # the network went away: yfinance hands back its empty frame
        return EMPTY_FRAME.copy()

    source = YFinanceSource(["SPY", "QQQ", "IWM"], download=download, probe=probe)
    with pytest.raises(SourceUnreachable):
        hydrate_symbols(store, source, ["SPY", "QQQ", "IWM"])
    assert quarantined(store).empty
    assert store.symbol_path("SPY").exists()


def test_a_download_that_raises_a_network_error_is_an_outage():
    def download(symbol: str, start: date | None) -> pd.DataFrame:
        raise TimeoutError("read timed out")

    source = YFinanceSource(["SPY"], download=download)
    with pytest.raises(SourceUnreachable, match=r"\(TimeoutError: read timed out\)"):
        source.fetch("SPY")


def test_a_local_file_error_is_not_called_an_outage():
    def download(symbol: str, start: date | None) -> pd.DataFrame:
        raise PermissionError("[Errno 13] Permission denied: '/home/user/.cache/py-yfinance'")

    with pytest.raises(PermissionError):
        YFinanceSource(["SPY"], download=download).fetch("SPY")


def test_without_yfinance_the_source_says_what_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)
    with pytest.raises(MissingExtraError, match=r"pip install -e '\.\[online\]'"):
        YFinanceSource(["SPY"])
    YFinanceSource(["SPY"], download=_recorded)  # an injected download needs no package


class RecordingTicker:
    """Stands in for yfinance's per-ticker network call inside its real ``download`` code."""

    calls: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self._price_history = None

    def history(self, **kwargs: Any) -> pd.DataFrame:
        RecordingTicker.calls.append(kwargs)
        if self.ticker != "SPY":
            raise ConnectionError(OFFLINE)
        bars = SPY_FRAME.droplevel("Ticker", axis=1).rename_axis(columns=None)
        return bars.tz_localize("America/New_York")


def test_the_default_download_through_yfinances_own_code(monkeypatch: pytest.MonkeyPatch):
    multi = pytest.importorskip("yfinance.multi")
    monkeypatch.setattr(multi, "Ticker", RecordingTicker)
    RecordingTicker.calls = []

    whole = yfinance_download("SPY", None)
    assert RecordingTicker.calls[-1]["period"] == "max"  # not yfinance's one-month default
    assert RecordingTicker.calls[-1]["timeout"] == NETWORK_TIMEOUT_SECONDS
    assert whole.attrs[YAHOO_ERRORS_ATTR] == []
    pd.testing.assert_frame_equal(yahoo_bars(whole, "SPY"), yahoo_bars(SPY_FRAME, "SPY"))

    yfinance_download("SPY", date(2024, 1, 3))
    assert RecordingTicker.calls[-1]["start"] == date(2024, 1, 3)

    offline = yfinance_download("QQQ", None)
    assert offline.empty  # yfinance does not raise offline...
    assert any(OFFLINE in line for line in offline.attrs[YAHOO_ERRORS_ATTR])  # ...it logs
