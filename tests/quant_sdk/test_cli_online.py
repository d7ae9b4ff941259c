"""`quant screen` and `quant hydrate --symbols-file --source yfinance` on recorded answers.

The network is never used: TradingView's transport and yfinance's download are replaced by
recorded answers (tests/quant_assets/hydration/recorded/), and Yahoo's reachability probe by a
stand-in that passes or fails.
"""

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from quant_assets.hydration import screener, yahoo
from quant_assets.hydration.online import SourceUnreachable
from quant_assets.hydration.symbol_lists import read_symbol_list
from quant_sdk.cli import main

RECORDED = Path(__file__).parents[1] / "quant_assets" / "hydration" / "recorded"
RECORDED_SCAN = json.loads((RECORDED / "tradingview_scan_us.json").read_text())
SPY_FRAME = pd.read_parquet(RECORDED / "yfinance_download_spy.parquet")
EMPTY_FRAME = pd.read_parquet(RECORDED / "yfinance_download_empty.parquet")


@pytest.fixture(autouse=True)
def environment(dagster_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("QUANT_") and n != "QUANT_DATA_ROOT"]:
        monkeypatch.delenv(name)
    return dagster_env


def _quant(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _recorded_scanner(query: Any) -> dict[str, Any]:
    """The recorded rows on the query's exchanges, in its row range (as the scanner answers)."""
    exchanges = next(f["right"] for f in query.query["filter"] if f["left"] == "exchange")
    rows = [row for row in RECORDED_SCAN["data"] if row["s"].split(":")[0] in exchanges]
    start, stop = query.query["range"]
    return {"totalCount": len(rows), "data": rows[start:stop]}


def _offline(query: Any) -> dict[str, Any]:
    raise ConnectionError("[Errno -3] Temporary failure in name resolution")


def test_screen_prints_json_and_writes_a_symbol_list(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    pytest.importorskip("tradingview_screener")
    monkeypatch.setattr(screener, "scanner_transport", _recorded_scanner)
    out_file = tmp_path / "symbols.txt"
    code, out, err = _quant(
        capsys, "screen", "--exchange", "nyse", "--limit", "3", "--json", "--out", str(out_file)
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [row["ticker"] for row in rows] == [
        "NYSE:BRK.B",
        "NYSE:JPM",
        "NYSE:KO",
    ]  # BAC/PL: illiquid
    assert [row["symbol"] for row in rows] == ["BRK-B", "JPM", "KO"]
    assert read_symbol_list(out_file) == ["BRK-B", "JPM", "KO"]
    assert out_file.read_text().startswith("# TradingView screen ")
    assert f"wrote 3 symbols to {out_file}" in err


def test_screen_offline_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    pytest.importorskip("tradingview_screener")
    monkeypatch.setattr(screener, "scanner_transport", _offline)
    code, out, err = _quant(capsys, "screen")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == (
        "error: cannot reach TradingView's screener (ConnectionError: [Errno -3] Temporary "
        "failure in name resolution): check the connection"
    )
    assert lines[1].startswith("hint: online sources need internet access")
    assert len(lines) == 2


def test_screen_without_the_extra_is_exit_2_with_the_pip_hint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "tradingview_screener", None)
    code, _, err = _quant(capsys, "screen")
    assert code == 2
    assert "pip install -e '.[online]'" in err.splitlines()[0]
    assert err.splitlines()[1] == (
        "hint: install the online sources: pip install -e '.[online]'; --debug shows the traceback"
    )


def test_screen_refuses_an_unknown_exchange(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        main(["screen", "--exchange", "LSE"])
    assert exited.value.code == 2
    assert "invalid choice: 'LSE'" in capsys.readouterr().err


def _recorded_download(symbol: str, start: date | None) -> pd.DataFrame:
    return SPY_FRAME.copy() if symbol == "SPY" else EMPTY_FRAME.copy()


def test_hydrate_a_symbols_file_from_yahoo(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    pytest.importorskip("yfinance")
    monkeypatch.setattr(yahoo, "yfinance_download", _recorded_download)
    monkeypatch.setattr(yahoo, "probe_yahoo", lambda: None)
    symbols = tmp_path / "symbols.txt"
    symbols.write_text("# two symbols\nSPY\nNOPE\n")
    code, out, err = _quant(
        capsys, "hydrate", "--symbols-file", str(symbols), "--source", "yfinance", "--json"
    )
    assert code == 0, err
    stored = json.loads(out)
    assert [(row["symbol"], row["rows"]) for row in stored] == [("SPY", len(SPY_FRAME))]
    assert "NOPE quarantined" in err and "no data from Yahoo Finance" in err


def test_hydrate_from_yahoo_offline_fails_before_any_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    pytest.importorskip("yfinance")
    downloads: list[str] = []

    def unreachable() -> None:
        raise SourceUnreachable("Yahoo Finance", "query2.finance.yahoo.com:443: gaierror")

    monkeypatch.setattr(yahoo, "probe_yahoo", unreachable)
    monkeypatch.setattr(yahoo, "yfinance_download", lambda s, start: downloads.append(s))
    symbols = tmp_path / "symbols.txt"
    symbols.write_text("SPY\n")
    code, out, err = _quant(
        capsys, "hydrate", "--symbols-file", str(symbols), "--source", "yfinance"
    )
    assert code == 1 and out == "" and downloads == []
    assert err.splitlines()[0] == (
        "error: cannot reach Yahoo Finance (query2.finance.yahoo.com:443: gaierror): "
        "check the connection"
    )
    assert "hydrating" not in err  # no Dagster run was started


def test_a_bad_symbols_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    code, _, err = _quant(capsys, "hydrate", "--symbols-file", str(tmp_path / "absent.txt"))
    assert code == 2 and "absent.txt does not exist" in err
    assert "hint: a symbol list holds one symbol per line" in err
    bad = tmp_path / "bad.txt"
    bad.write_text("SPY\nNYSE:BRK.B\n")
    code, _, err = _quant(capsys, "hydrate", "--symbols-file", str(bad))
    assert code == 2 and "bad.txt, line 2: invalid symbol 'NYSE:BRK.B'" in err
    with pytest.raises(SystemExit):
        main(["hydrate", "--symbols", "SPY", "--symbols-file", str(bad)])
