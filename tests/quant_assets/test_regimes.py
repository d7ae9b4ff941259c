import numpy as np
import pandas as pd

from quant_assets.regimes import REGIME_LABELS, label_regimes
from quant_assets.settings import Settings


def test_labels_on_real_history(bundled_closes: pd.DataFrame):
    regimes = label_regimes(bundled_closes.loc["2006":"2010"], Settings())
    assert set(regimes["label"]) <= set(REGIME_LABELS)
    by_date = regimes.set_index("date")["label"]
    # the autumn 2008 crash is a volatile bear market; mid-2006 was a calm one
    assert by_date["2008-10-01":"2008-11-30"].value_counts().idxmax() == "volatile_bear"
    assert by_date["2006-12-01":"2006-12-29"].isin(["bull", "bear"]).all()
    assert (regimes["label"].iloc[:63] == "unknown").all()


def test_regime_at_t_ignores_the_future(bundled_closes: pd.DataFrame):
    closes = bundled_closes.loc["2015":"2018"]
    cut = 600
    full = label_regimes(closes, Settings())
    truncated = label_regimes(closes.iloc[: cut + 1], Settings())
    pd.testing.assert_frame_equal(full.iloc[: cut + 1], truncated)


def test_constant_market_is_not_volatile():
    dates = pd.bdate_range("2020-01-01", periods=300)
    closes = pd.DataFrame({"A": np.full(300, 10.0), "B": np.full(300, 5.0)}, index=dates)
    labels = label_regimes(closes, Settings())["label"]
    assert not labels.str.startswith("volatile").any()
