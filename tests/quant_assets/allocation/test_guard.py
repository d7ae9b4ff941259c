"""SolverGuard: hardening ill-conditioned covariances, vetoing bad weights, falling back."""

import numpy as np
import pandas as pd
import pytest

from quant_assets.allocation import ENGINES, FALLBACK_CHAIN, SolverGuard
from quant_assets.allocation.covariance import condition_number
from quant_assets.allocation.engines import Engine
from quant_assets.settings import ENGINE_NAMES, Settings

SETTINGS = Settings(max_weight=0.5, kappa_max=5_000)


def real_returns(closes: pd.DataFrame, symbols: list[str]) -> pd.DataFrame:
    return closes.loc["2019", symbols].pct_change().iloc[1:]


def test_every_engine_gives_sane_weights_on_real_data(bundled_closes):
    returns = bundled_closes.loc["2019":"2020"].pct_change().iloc[1:]
    guard = SolverGuard(SETTINGS.clone(max_weight=0.2))
    assert set(ENGINES) == set(ENGINE_NAMES)
    for engine in ENGINE_NAMES:
        allocation = guard.allocate(engine, returns)
        assert allocation.engine_used == engine, allocation.vetoes
        assert not allocation.vetoes
        assert guard.veto_reason(allocation.weights.to_numpy()) is None
        assert list(allocation.weights.index) == list(returns.columns)


def test_singular_covariance_is_hardened_with_a_recorded_ridge(bundled_closes):
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM"])
    returns["AAPL_COPY"] = returns["AAPL"]  # perfectly collinear: singular covariance
    allocation = SolverGuard(SETTINGS).allocate("min_variance", returns)
    hardening = allocation.hardening
    assert hardening.condition_before == np.inf
    assert 0 < hardening.ridge <= 1 and hardening.condition_after <= SETTINGS.kappa_max
    assert allocation.engine_used == "min_variance" and not allocation.vetoes


def test_near_singular_covariance_is_hardened_to_the_bound(bundled_closes):
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM", "PG"])
    noise = np.random.default_rng(0).normal(scale=1e-7, size=len(returns))
    returns["AAPL_TWIN"] = returns["AAPL"] + noise
    cov = np.cov(returns.to_numpy(), rowvar=False)
    before = condition_number(cov)
    assert np.isfinite(before) and before > SETTINGS.kappa_max
    hardened, hardening = SolverGuard(SETTINGS).harden(cov)
    assert hardening.condition_before == pytest.approx(before)
    assert hardening.condition_after == pytest.approx(condition_number(hardened))
    assert hardening.condition_after <= SETTINGS.kappa_max < hardening.condition_before
    np.testing.assert_allclose(np.diag(hardened), np.diag(cov))  # toward its own diagonal


def test_well_conditioned_covariance_is_left_alone(bundled_closes):
    cov = np.cov(real_returns(bundled_closes, ["AAPL", "KO"]).to_numpy(), rowvar=False)
    hardened, hardening = SolverGuard(SETTINGS).harden(cov)
    assert hardened is cov and hardening.ridge == 0.0


def test_constant_returns_veto_down_the_chain_to_equal_weight(bundled_closes):
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM"])
    returns["FLAT"] = 0.0  # a constant price: zero variance, unhardenable
    allocation = SolverGuard(SETTINGS).allocate("min_variance", returns)
    assert allocation.engine_used == "equal_weight"
    assert [v.engine for v in allocation.vetoes] == ["min_variance", "inverse_volatility"]
    assert "kappa_max" in allocation.vetoes[0].reason
    assert "NaN or infinite" in allocation.vetoes[1].reason
    np.testing.assert_array_equal(allocation.weights.to_numpy(), 0.25)


def test_nan_returns_veto_every_estimating_engine(bundled_closes):
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM"])
    returns.iloc[5, 1] = np.nan
    for engine in ("min_variance", "max_sharpe", "risk_parity", "hrp"):
        allocation = SolverGuard(SETTINGS).allocate(engine, returns)
        assert allocation.engine_used == "equal_weight"
        assert [v.engine for v in allocation.vetoes] == [engine, *FALLBACK_CHAIN[:-1]]


class BadEngine(Engine):
    def __init__(self, weights: np.ndarray) -> None:
        object.__setattr__(self, "fixed", weights)

    def weights(self, returns, settings, covariance):
        return self.fixed


@pytest.mark.parametrize(
    ("weights", "reason"),
    [
        ([0.5, 0.6, -0.1], "negative weight"),
        ([0.3, 0.3, 0.3], "sum to 0.9"),
        ([0.2, 0.2, 0.6], "exceeds the cap 0.5"),
        ([np.nan, 0.5, 0.5], "NaN or infinite"),
        ([0.5, 0.5, 0.0], None),
    ],
)
def test_sanity_veto_rejects_and_falls_back(
    bundled_closes, monkeypatch: pytest.MonkeyPatch, weights, reason
):
    monkeypatch.setitem(ENGINES, "min_variance", BadEngine(np.array(weights)))
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM"])
    allocation = SolverGuard(SETTINGS).allocate("min_variance", returns)
    if reason is None:
        assert allocation.engine_used == "min_variance" and not allocation.vetoes
        return
    assert allocation.engine_used == "inverse_volatility"
    assert len(allocation.vetoes) == 1 and reason in allocation.vetoes[0].reason
    assert SolverGuard(SETTINGS).veto_reason(allocation.weights.to_numpy()) is None


def test_concentration_limit(bundled_closes, monkeypatch: pytest.MonkeyPatch):
    settings = SETTINGS.clone(max_weight=1.0, min_effective_holdings=2.5)
    guard = SolverGuard(settings)
    assert "too concentrated" in guard.veto_reason(np.array([0.6, 0.3, 0.1, 0.0]))
    assert guard.veto_reason(np.array([0.4, 0.3, 0.3, 0.0])) is None
    # The limit never asks for more holdings than there are symbols.
    assert guard.veto_reason(np.array([0.5, 0.5])) is None


def test_engine_errors_are_vetoes_not_crashes(bundled_closes):
    returns = real_returns(bundled_closes, ["AAPL", "KO"])
    returns = returns - returns.mean() - 0.001  # every mean negative
    allocation = SolverGuard(SETTINGS).allocate("max_sharpe", returns)
    assert allocation.vetoes[0].engine == "max_sharpe"
    assert allocation.vetoes[0].reason.startswith("SolverError: no asset has a positive")
    assert allocation.engine_used == "inverse_volatility"


def test_nothing_to_hold_is_cash():
    allocation = SolverGuard(SETTINGS).allocate("min_variance", pd.DataFrame(index=range(5)))
    assert allocation.engine_used == "cash" and allocation.weights.empty
