"""TradingView screen on a recorded scanner answer: filters, liquidity, mapping, paging, errors."""

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lakehouse import InvalidSymbol
from quant_assets.hydration.online import (
    NETWORK_TIMEOUT_SECONDS,
    OnlineSourceError,
    SourceUnreachable,
)
from quant_assets.hydration.screener import (
    MATCHED_ATTR,
    REFUSED_ATTR,
    SCREEN_COLUMNS,
    SCREENER_FIELDS,
    screen_symbols,
    yahoo_symbol,
)

RECORDED = Path(__file__).parent / "recorded"
RECORDED_SCAN = json.loads((RECORDED / "tradingview_scan_us.json").read_text())
FIELD_NAMES = list(SCREENER_FIELDS)

tradingview_screener = pytest.importorskip("tradingview_screener")


class RecordedScanner:
    """Answers each query with the recorded rows of its row range, as the scanner pages."""

    def __init__(self, answer: dict[str, Any] = RECORDED_SCAN) -> None:
        self.answer = answer
        self.sent: list[dict[str, Any]] = []

    def __call__(self, query: Any) -> dict[str, Any]:
        self.sent.append(copy.deepcopy(query.query))
        start, stop = query.query["range"]
        return {"totalCount": self.answer["totalCount"], "data": self.answer["data"][start:stop]}


def _recorded_rows() -> pd.DataFrame:
    rows = [[row["s"], *row["d"]] for row in RECORDED_SCAN["data"]]
    return pd.DataFrame(rows, columns=["ticker", *FIELD_NAMES])


def _liquid_tickers(floor: float) -> list[str]:
    """Recorded tickers whose close x 30-day average volume reaches ``floor`` (the rule)."""
    rows = _recorded_rows()
    dollar_volume = rows["close"] * pd.to_numeric(rows["average_volume_30d_calc"])
    return rows.loc[dollar_volume >= floor, "ticker"].tolist()


def test_screen_sends_the_filters_and_keeps_the_liquid_listings_as_yahoo_symbols():
    scanner = RecordedScanner()
    found = screen_symbols(["nasdaq", "NYSE"], 1e9, 1e7, limit=500, transport=scanner)

    sent = scanner.sent[0]
    assert sent["columns"] == FIELD_NAMES
    assert sent["markets"] == ["america"]
    assert {"left": "exchange", "operation": "in_range", "right": ["NASDAQ", "NYSE"]} in sent[
        "filter"
    ]
    assert {"left": "market_cap_basic", "operation": "egreater", "right": 1e9} in sent["filter"]
    assert {"left": "is_primary", "operation": "equal", "right": True} in sent["filter"]
    assert sent["sort"]["sortBy"] == "market_cap_basic" and sent["sort"]["sortOrder"] == "desc"

    assert list(found.columns) == list(SCREEN_COLUMNS)
    assert found["ticker"].tolist() == _liquid_tickers(1e7)
    assert "NYSE:BAC/PL" not in found["ticker"].tolist()  # 3,100 shares a day: illiquid
    assert "NASDAQ:ARM" not in found["ticker"].tolist()  # unknown average volume: not kept
    by_ticker = found.set_index("ticker")
    assert by_ticker.loc["NYSE:BRK.B", "symbol"] == "BRK-B"
    assert by_ticker.loc["NYSE:BF.B", "symbol"] == "BF-B"
    assert by_ticker.loc["NASDAQ:AAPL", "name"] == "Apple Inc."
    assert found["average_dollar_volume"].tolist() == pytest.approx(
        (found["close"] * found["average_volume"]).tolist()
    )
    assert found["market_cap"].is_monotonic_decreasing
    assert found.attrs[MATCHED_ATTR] == RECORDED_SCAN["totalCount"]
    assert found.attrs[REFUSED_ATTR] == []


def test_the_dollar_volume_floor_and_the_limit_cut_the_list():
    floor = 5e9
    found = screen_symbols(["NASDAQ", "NYSE"], 1e9, floor, transport=RecordedScanner())
    assert found["ticker"].tolist() == _liquid_tickers(floor)
    assert (found["average_dollar_volume"] >= floor).all()
    top = screen_symbols(["NASDAQ", "NYSE"], 1e9, 1e7, limit=3, transport=RecordedScanner())
    assert top["ticker"].tolist() == _liquid_tickers(1e7)[:3]


def test_pages_through_the_scanner_until_enough_listings_are_kept():
    scanner = RecordedScanner()
    found = screen_symbols(limit=10, transport=scanner, page_rows=5)
    assert [q["range"] for q in scanner.sent] == [[0, 5], [5, 10], [10, 15]]
    assert found["ticker"].tolist() == _liquid_tickers(1e7)[:10]

    scanner = RecordedScanner()
    screen_symbols(limit=4, transport=scanner, page_rows=5)
    assert [q["range"] for q in scanner.sent] == [[0, 5]]  # enough after the first page

    scanner = RecordedScanner()
    everything = screen_symbols(limit=500, transport=scanner, page_rows=5)
    assert len(scanner.sent) == 3  # stops at the scanner's totalCount
    assert everything["ticker"].tolist() == _liquid_tickers(1e7)


@pytest.mark.parametrize(
    "ticker, symbol",
    [("NASDAQ:AAPL", "AAPL"), ("NYSE:BRK.B", "BRK-B"), ("NYSE:BAC/PL", "BAC-PL")],
)
def test_tradingview_tickers_map_to_yahoo_symbols(ticker: str, symbol: str):
    assert yahoo_symbol(ticker) == symbol


@pytest.mark.parametrize("ticker", ["AAPL", "NYSE:", ":AAPL", "OTC:ABC DEF", "NYSE:../x"])
def test_tickers_our_symbol_rule_refuses_are_named(ticker: str):
    with pytest.raises(InvalidSymbol, match="TradingView ticker"):
        yahoo_symbol(ticker)


def test_refused_and_colliding_tickers_are_dropped_and_reported(caplog: pytest.LogCaptureFixture):
    # hand-made rows: a name with a space, and two tickers that both map to BF-B
    rows = [
        ["OTC:ABC DEF", "ABC DEF", "Odd Name Inc.", "OTC", 10.0, "USD", 5e10, 5e6],
        ["NYSE:BF.B", "BF.B", "Brown-Forman", "NYSE", 41.62, "USD", 2e10, 2.9e6],
        ["NYSE:BF/B", "BF/B", "Brown-Forman", "NYSE", 41.62, "USD", 2e10, 2.9e6],
    ]
    answer = {"totalCount": 3, "data": [{"s": r[0], "d": r[1:]} for r in rows]}
    with caplog.at_level(logging.WARNING, logger="quant_assets.hydration.screener"):
        found = screen_symbols(["OTC", "NYSE"], transport=RecordedScanner(answer))
    assert found["symbol"].tolist() == ["BF-B"]
    refused = {entry["ticker"]: entry["reason"] for entry in found.attrs[REFUSED_ATTR]}
    assert set(refused) == {"OTC:ABC DEF", "NYSE:BF/B"}
    assert "invalid symbol 'ABC DEF'" in refused["OTC:ABC DEF"]
    assert "as NYSE:BF.B does" in refused["NYSE:BF/B"]
    assert "dropped OTC:ABC DEF" in caplog.text


def test_no_network_fails_fast_with_one_clear_line():
    calls = []

    def offline(query: Any) -> dict[str, Any]:
        calls.append(query)
        raise ConnectionError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(SourceUnreachable) as raised:
        screen_symbols(transport=offline)
    assert len(calls) == 1  # no retries
    assert str(raised.value) == (
        "cannot reach TradingView's screener (ConnectionError: [Errno -3] Temporary failure "
        "in name resolution): check the connection"
    )


def test_the_package_transport_times_out_and_its_errors_become_ours(
    monkeypatch: pytest.MonkeyPatch,
):
    import requests

    seen: dict[str, Any] = {}

    def refuse_connection(url: str, **kwargs: Any) -> Any:
        seen.update(url=url, **kwargs)
        raise requests.ConnectionError("Max retries exceeded with url: /america/scan")

    monkeypatch.setattr(tradingview_screener.query.requests, "post", refuse_connection)
    with pytest.raises(SourceUnreachable, match=r"cannot reach TradingView's screener \("):
        screen_symbols()
    assert seen["timeout"] == NETWORK_TIMEOUT_SECONDS
    assert seen["url"] == "https://scanner.tradingview.com/america/scan"

    def timeout(url: str, **kwargs: Any) -> Any:
        raise requests.ConnectTimeout("connect timeout=10")

    monkeypatch.setattr(tradingview_screener.query.requests, "post", timeout)
    with pytest.raises(SourceUnreachable, match="ConnectTimeout"):
        screen_symbols()


def test_an_http_refusal_or_an_odd_answer_is_not_called_an_outage():
    import requests

    def bad_request(query: Any) -> dict[str, Any]:
        response = requests.Response()
        response.status_code = 400
        raise requests.HTTPError("400 Client Error: Bad Request", response=response)

    with pytest.raises(OnlineSourceError, match="refused the query"):
        screen_symbols(transport=bad_request)
    with pytest.raises(OnlineSourceError, match="unexpected shape"):
        screen_symbols(transport=lambda query: {"error": "Unknown field"})
    narrow = {"totalCount": 1, "data": [{"s": "NASDAQ:AAPL", "d": ["AAPL", 1.0]}]}
    with pytest.raises(OnlineSourceError, match="another width"):
        screen_symbols(transport=lambda query: narrow)


def test_arguments_are_checked_before_any_request():
    def never(query: Any) -> dict[str, Any]:
        raise AssertionError("no request expected")

    with pytest.raises(ValueError, match=r"unknown exchange.*LSE.*NASDAQ"):
        screen_symbols(["LSE"], transport=never)
    with pytest.raises(ValueError, match="limit >= 1"):
        screen_symbols(limit=0, transport=never)
    with pytest.raises(ValueError, match="floors must be >= 0"):
        screen_symbols(min_market_cap=-1, transport=never)
