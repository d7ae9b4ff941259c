"""SolverGuard: hardening ill-conditioned covariances, vetoing bad weights, falling back."""

import numpy as np
import pandas as pd
import pytest

from quant_assets.allocation import ENGINES, FALLBACK_CHAIN, SolverGuard
from quant_assets.allocation import guard as guard_module
from quant_assets.allocation.covariance import correlation_spectrum
from quant_assets.allocation.engines import Engine
from quant_assets.allocation.guard import Allocation, Hardening
from quant_assets.settings import ENGINE_NAMES, Settings

SETTINGS = Settings(max_weight=0.5, kappa_max=5_000)


def allocate(guard: SolverGuard, engine: str, returns: pd.DataFrame) -> Allocation:
    """The guard's allocation of ``engine`` on a frame of returns, the way the portfolio asks."""
    symbols = [str(s) for s in returns.columns]
    return guard.allocate_values(engine, returns.to_numpy(dtype=np.float64), symbols)


def real_returns(closes: pd.DataFrame, symbols: list[str]) -> pd.DataFrame:
    return closes.loc["2019", symbols].pct_change().iloc[1:]


def test_every_engine_gives_sane_weights_on_real_data(bundled_closes):
    returns = bundled_closes.loc["2019":"2020"].pct_change().iloc[1:]
    guard = SolverGuard(SETTINGS.clone(max_weight=0.2))
    assert set(ENGINES) == set(ENGINE_NAMES)
    for engine in ENGINE_NAMES:
        allocation = allocate(guard, engine, returns)
        assert allocation.engine_used == engine, allocation.vetoes
        assert not allocation.vetoes
        assert guard.veto_reason(allocation.weights.to_numpy()) is None
        assert list(allocation.weights.index) == list(returns.columns)


def test_singular_covariance_is_hardened_with_a_recorded_ridge(bundled_closes):
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM"])
    returns["AAPL_COPY"] = returns["AAPL"]  # perfectly collinear: singular covariance
    allocation = allocate(SolverGuard(SETTINGS), "min_variance", returns)
    hardening = allocation.hardening
    # exactly singular: eigvalsh puts its smallest eigenvalue at 0 or a rounding error (+-1e-16)
    assert hardening.condition_before > 1e12
    assert 0 < hardening.ridge <= 1 and hardening.condition_after <= SETTINGS.kappa_max
    assert allocation.engine_used == "min_variance" and not allocation.vetoes


def correlation_condition(covariance: np.ndarray) -> float:
    """The correlation's 2-norm condition number, by numpy's SVD (an independent oracle)."""
    scale = 1.0 / np.sqrt(np.diag(covariance))
    return float(np.linalg.cond(covariance * np.outer(scale, scale)))


def near_singular_covariance(bundled_closes) -> np.ndarray:
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM", "PG"])
    noise = np.random.default_rng(0).normal(scale=1e-7, size=len(returns))
    returns["AAPL_TWIN"] = returns["AAPL"] + noise
    return np.cov(returns.to_numpy(), rowvar=False)


def test_near_singular_covariance_is_hardened_to_the_bound(bundled_closes):
    cov = near_singular_covariance(bundled_closes)
    before = correlation_condition(cov)
    assert np.isfinite(before) and before > SETTINGS.kappa_max
    hardened, hardening = SolverGuard(SETTINGS).harden(cov)
    assert hardening.condition_before == pytest.approx(before, rel=1e-4)  # l_min ~ 1e-11
    # The recorded condition is the hardened correlation's, measured directly.
    assert hardening.condition_after == pytest.approx(correlation_condition(hardened), rel=1e-9)
    assert hardening.condition_after <= SETTINGS.kappa_max < hardening.condition_before
    np.testing.assert_allclose(np.diag(hardened), np.diag(cov))  # toward its own diagonal


def test_closed_form_ridge_is_the_smallest_that_meets_the_bound(bundled_closes):
    cov = near_singular_covariance(bundled_closes)
    diagonal = np.diag(np.diag(cov))

    def shrunk(r: float) -> float:
        return correlation_condition((1 - r) * cov + r * diagonal)

    for kappa in (2.0, 10.0, 500.0, 5_000.0):
        _, hardening = SolverGuard(SETTINGS.clone(kappa_max=kappa)).harden(cov)
        ridge = hardening.ridge
        # The bound holds at the ridge (up to rounding in the eigenvalues) and fails just below.
        assert shrunk(ridge) <= kappa * (1 + 1e-9)
        assert shrunk(ridge * (1 - 1e-6)) > kappa
        # It matches a fine ladder of eigendecompositions, the method it replaces.
        ladder = np.geomspace(1e-9, 1.0, 2_000)
        first = ladder[np.argmax([shrunk(r) <= kappa for r in ladder])]
        assert ridge <= first and first <= ridge * ladder[1] / ladder[0] * (1 + 1e-12)


def test_closed_form_matches_the_eigenvalues_of_the_shrunk_correlation():
    rng = np.random.default_rng(3)
    factors = rng.normal(size=(300, 2))
    returns = factors @ rng.normal(size=(2, 6)) + 0.02 * rng.normal(size=(300, 6))
    returns *= np.array([0.5, 1, 2, 4, 8, 16])  # variances 1,000x apart: scale is not conditioning
    cov = np.cov(returns, rowvar=False)
    smallest, largest = correlation_spectrum(cov)
    for ridge in (0.0, 1e-4, 0.1, 0.9, 1.0):
        shrunk = (1 - ridge) * cov + ridge * np.diag(np.diag(cov))
        expected = ((1 - ridge) * largest + ridge) / ((1 - ridge) * smallest + ridge)
        assert correlation_condition(shrunk) == pytest.approx(expected, rel=1e-8)
    assert largest / smallest > 100.0
    _, hardening = SolverGuard(SETTINGS.clone(kappa_max=100.0)).harden(cov)
    assert hardening.condition_before == pytest.approx(largest / smallest)
    assert hardening.condition_after == pytest.approx(100.0, rel=1e-12)


def test_unequal_variances_alone_are_not_hardened():
    cov = np.diag([1e-8, 1.0, 1e4])  # covariance condition 1e12, correlation the identity
    hardened, hardening = SolverGuard(SETTINGS).harden(cov)
    assert hardened is cov and hardening == Hardening(0.0, 1.0, 1.0)


def test_well_conditioned_covariance_is_left_alone(bundled_closes):
    cov = np.cov(real_returns(bundled_closes, ["AAPL", "KO"]).to_numpy(), rowvar=False)
    hardened, hardening = SolverGuard(SETTINGS).harden(cov)
    assert hardened is cov and hardening.ridge == 0.0


def test_constant_returns_veto_down_the_chain_to_equal_weight(bundled_closes):
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM"])
    returns["FLAT"] = 0.0  # a constant price: zero variance, unhardenable
    allocation = allocate(SolverGuard(SETTINGS), "min_variance", returns)
    assert allocation.engine_used == "equal_weight"
    assert [v.engine for v in allocation.vetoes] == ["min_variance", "inverse_volatility"]
    assert "kappa_max" in allocation.vetoes[0].reason
    assert "NaN or infinite" in allocation.vetoes[1].reason
    np.testing.assert_array_equal(allocation.weights.to_numpy(), 0.25)


def test_nan_returns_veto_every_estimating_engine(bundled_closes):
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM"])
    returns.iloc[5, 1] = np.nan
    for engine in ("min_variance", "max_sharpe", "risk_parity", "hrp"):
        allocation = allocate(SolverGuard(SETTINGS), engine, returns)
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
    real = guard_module.get_engine
    bad = BadEngine(np.array(weights))
    monkeypatch.setattr(
        guard_module, "get_engine", lambda name: bad if name == "min_variance" else real(name)
    )
    returns = real_returns(bundled_closes, ["AAPL", "KO", "XOM"])
    allocation = allocate(SolverGuard(SETTINGS), "min_variance", returns)
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
    allocation = allocate(SolverGuard(SETTINGS), "max_sharpe", returns)
    assert allocation.vetoes[0].engine == "max_sharpe"
    assert allocation.vetoes[0].reason.startswith("SolverError: no asset has a positive")
    assert allocation.engine_used == "inverse_volatility"


def test_nothing_to_hold_is_cash():
    allocation = allocate(SolverGuard(SETTINGS), "min_variance", pd.DataFrame(index=range(5)))
    assert allocation.engine_used == "cash" and allocation.weights.empty
