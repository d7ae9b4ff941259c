"""The online sources' shared errors: a missing extra says what to install, an outage is named."""

import socket
import sys
from typing import Any

import pytest

from quant_assets.hydration import screener
from quant_assets.hydration.online import (
    INSTALL_ONLINE,
    MissingExtraError,
    SourceUnreachable,
    import_package,
    is_network_error,
    probe_connection,
    reason_of,
    require_package,
)
from quant_assets.hydration.screener import screen_symbols


def test_a_missing_package_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)  # as if not installed
    with pytest.raises(MissingExtraError) as raised:
        require_package("yfinance", "the yfinance source")
    assert isinstance(raised.value, ImportError)
    assert str(raised.value) == (
        "the yfinance source needs the `yfinance` package of the `online` extra: "
        "pip install -e '.[online]'"
    )
    with pytest.raises(MissingExtraError, match="pip install"):
        import_package("yfinance", "the yfinance source")
    assert import_package("json", "reading JSON").__name__ == "json"


def test_the_screen_without_the_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, screener.SCREENER_PACKAGE, None)
    with pytest.raises(MissingExtraError, match="tradingview_screener") as raised:
        screen_symbols(transport=lambda query: {"totalCount": 0, "data": []})
    assert INSTALL_ONLINE in str(raised.value)


def test_the_probe_turns_a_failed_connection_into_an_outage(monkeypatch: pytest.MonkeyPatch):
    asked: dict[str, Any] = {}

    def no_network(address: tuple[str, int], timeout: float) -> socket.socket:
        asked.update(address=address, timeout=timeout)
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(SourceUnreachable) as raised:
        probe_connection("Yahoo Finance", "query2.finance.yahoo.com", timeout=2.0)
    assert asked == {"address": ("query2.finance.yahoo.com", 443), "timeout": 2.0}
    assert str(raised.value) == (
        "cannot reach Yahoo Finance (query2.finance.yahoo.com:443: gaierror: [Errno -3] "
        "Temporary failure in name resolution): check the connection"
    )
    assert isinstance(raised.value, ConnectionError)


def test_only_network_errors_count_as_outages():
    import requests

    assert is_network_error(ConnectionError()) and is_network_error(TimeoutError())
    assert is_network_error(requests.ConnectionError()) and is_network_error(socket.gaierror())
    assert not is_network_error(PermissionError("cache folder")) and not is_network_error(
        FileNotFoundError()
    )
    assert not is_network_error(ValueError())


def test_reasons_are_one_short_line():
    assert reason_of(TimeoutError()) == "TimeoutError"
    long = reason_of(OSError("first line " + "x" * 500 + "\nsecond line"))
    assert long.startswith("OSError: first line") and long.endswith("...")
    assert "second line" not in long and len(long) < 200
