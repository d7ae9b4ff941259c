"""Parity with a peer: our long-only minimum-variance walk-forward against skfolio's."""

import numpy as np
import pandas as pd
import pytest

from quant_assets.settings import Settings
from quant_assets.tournament import run_tournament

TRAIN, TEST = 252, 21
RETURN_TOLERANCE = 5e-5
"""skfolio's interior-point solver stops short of the optimum (weights off by up to ~1e-3)."""


@pytest.fixture(scope="module")
def skfolio_run(bundled_closes: pd.DataFrame):
    from skfolio.model_selection import WalkForward, cross_val_predict
    from skfolio.optimization import MeanRisk
    from skfolio.preprocessing import prices_to_returns

    prices = bundled_closes.loc["2010":]
    returns = prices_to_returns(prices)
    predicted = cross_val_predict(
        MeanRisk(), returns, cv=WalkForward(train_size=TRAIN, test_size=TEST)
    )
    return prices, returns, predicted


def test_min_variance_matches_skfolio_and_is_never_worse_in_sample(skfolio_run):
    prices, returns, predicted = skfolio_run
    settings = Settings.for_profile(
        "canary",
        engines=["min_variance"],
        train=TRAIN,
        test=TEST,
        covariance="sample",
        selection="all",
        drift=False,
        cost_bps=0.0,
        max_weight=1.0,
        min_effective_holdings=1.0,
        executor="serial",
    )
    ours = run_tournament(prices, {"p": settings})
    theirs = pd.Series(predicted.returns, index=pd.DatetimeIndex(predicted.observations))
    mine = ours.returns["p/min_variance"]
    assert mine.index.equals(theirs.index)  # the same test dates
    assert np.abs(mine.to_numpy() - theirs.to_numpy()).max() <= RETURN_TOLERANCE
    assert len(predicted.portfolios) == len(ours.windows)
    for window, portfolio in zip(ours.windows.itertuples(), predicted.portfolios, strict=True):
        train = returns.loc[window.train_start : window.train_end]
        assert len(train) == TRAIN
        cov = np.cov(train.to_numpy(), rowvar=False)
        weights = ours.weights.query("window == @window.window").set_index("symbol")["weight"]
        w = weights.reindex(train.columns).to_numpy()
        assert w @ cov @ w <= portfolio.weights @ cov @ portfolio.weights * (1 + 1e-9)
