"""A held symbol that stops trading is sold at its last close; the proceeds wait in cash."""

import numpy as np
import pandas as pd
import pytest

from quant_assets.settings import Settings
from quant_assets.tournament import run_tournament
from quant_assets.tournament.reporting import listed_returns
from tests.conftest import SMALL_SYMBOLS


def test_listed_returns_never_carry_a_price_past_the_last_close():
    prices = pd.DataFrame(
        {"A": [10.0, 11.0, np.nan, 12.1, np.nan, np.nan], "B": [np.nan, 5.0, 5.5, 5.5, 6.05, 6.0]},
        index=pd.bdate_range("2020-01-01", periods=6),
    )
    returns = listed_returns(prices)
    assert returns["A"].tolist()[:3] == pytest.approx([0.1, 0.0, 0.1])
    assert returns["A"].iloc[3:].isna().all()  # delisted: no fake flat price
    assert np.isnan(returns["B"].iloc[0])  # not listed yet
    assert returns["B"].iloc[1:].tolist() == pytest.approx([0.1, 0.0, 0.1, -0.05 / 6.05])


@pytest.mark.parametrize("drift", [True, False])
def test_a_delisted_position_is_sold_at_its_last_close(bundled_closes: pd.DataFrame, drift: bool):
    prices = bundled_closes.loc["2017":"2019", SMALL_SYMBOLS].copy()
    settings = Settings(
        train=252,
        test=63,
        engines=["equal_weight"],
        selection="all",
        executor="serial",
        cost_bps=10 if drift else 0,
        drift=drift,
        min_history=252,
    )
    windows = run_tournament(prices, {"p": settings}).windows
    window = windows.iloc[1]
    span = prices.loc[window["test_start"] : window["test_end"]].index
    death = span[20]
    prices.loc[prices.index > death, "XOM"] = np.nan  # XOM's last close: day 21 of the span
    result = run_tournament(prices, {"p": settings})
    rows = result.window_results.set_index("window")
    assert rows.loc[1, "liquidated"] == "XOM"
    assert rows.loc[0, "liquidated"] == "" and rows.loc[2, "liquidated"] == ""
    assert "XOM" not in set(result.weights.query("window >= 2")["symbol"])

    # Its value at exit is its weight grown by its own returns up to the last close.
    target = result.weights.query("window == 1").set_index("symbol")["weight"]
    growth = prices.loc[window["train_end"] : death, "XOM"]
    if drift:
        expected = target["XOM"] * growth.iloc[-1] / growth.iloc[0]
        assert rows.loc[1, "liquidated_value"] == pytest.approx(expected, rel=1e-12)
    # After the exit the proceeds earn nothing: the day's portfolio return is the other
    # holdings' alone, and nothing is charged for the dead stock at the next rebalance.
    daily = result.returns["p/equal_weight"]
    moves = listed_returns(prices).loc[span]
    after = span[span > death][0]
    if not drift:
        assert daily[after] == pytest.approx(
            (moves.loc[after].drop("XOM") * target.drop("XOM")).sum(), rel=1e-12
        )
    if drift:  # the next rebalance buys from cash: no sale of XOM is counted
        whole = prices.loc[window["train_end"] : window["test_end"]]
        growth_all = (1.0 + listed_returns(whole).fillna(0.0)).prod()
        value = (target * growth_all[target.index]).sum()
        held = target * growth_all[target.index] / value
        held["XOM"] = 0.0
        target2 = result.weights.query("window == 2").set_index("symbol")["weight"]
        expected = (target2.reindex(held.index, fill_value=0.0) - held).abs().sum()
        assert rows.loc[2, "turnover"] == pytest.approx(expected, rel=1e-9)
