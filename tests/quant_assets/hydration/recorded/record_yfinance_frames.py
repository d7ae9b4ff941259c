"""Re-create the recorded yfinance frames (run this file with the venv's python).

There is no network here, so the frames are made by yfinance's OWN `download` code (the
installed version, 1.7.0) with its per-ticker `Ticker.history` replaced: the bars it returns
for SPY are the shape `history` returns (a date index in the exchange's time zone, columns
Open, High, Low, Close, Volume), and for NOPE it raises the error curl gives without a
network, which `download` catches, logs and turns into its empty frame. Everything after
that (MultiIndex columns `(Price, Ticker)`, the time zone dropped, the empty frame's columns)
is yfinance's own doing. Frames are stored as Parquet (MultiIndex columns round-trip).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import yfinance
import yfinance.multi

HERE = Path(__file__).resolve().parent
SPY_BARS = {
    "Open": [461.77, 465.84, 463.44, 464.39, 468.87],
    "High": [463.48, 466.44, 465.91, 467.07, 470.36],
    "Low": [459.73, 463.01, 463.20, 462.95, 466.17],
    "Close": [462.09, 464.01, 463.51, 466.05, 469.71],
    "Volume": [123623700, 103585900, 84232200, 86118900, 75999900],
}
SPY_DATES = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]
OFFLINE = "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com"


class RecordingTicker:
    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self._price_history = None

    def history(self, **_: object) -> pd.DataFrame:
        if self.ticker != "SPY":
            raise ConnectionError(OFFLINE)
        index = pd.DatetimeIndex(SPY_DATES, name="Date").tz_localize("America/New_York")
        bars = pd.DataFrame(SPY_BARS, index=index)
        bars["Volume"] = bars["Volume"].astype(np.int64)
        return bars


def main() -> None:
    yfinance.multi.Ticker = RecordingTicker
    spy = yfinance.download("SPY", start="2024-01-02", auto_adjust=True, progress=False)
    empty = yfinance.download("NOPE", start="2024-01-02", auto_adjust=True, progress=False)
    spy.to_parquet(HERE / "yfinance_download_spy.parquet")
    empty.to_parquet(HERE / "yfinance_download_empty.parquet")
    print(spy, empty, sep="\n\n")


if __name__ == "__main__":
    main()
