"""Solvers: exact optima checked by their optimality conditions, on random and real data."""

import numpy as np
import pytest
from scipy.optimize import minimize

from quant_assets.allocation import solvers
from quant_assets.allocation.solvers import (
    SolverError,
    capped_weights,
    hrp_weights,
    leaf_order,
    max_sharpe_weights,
    min_variance_weights,
    risk_parity_weights,
)


def random_covariance(n: int, seed: int, days: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(days, 3)) @ rng.normal(size=(3, n)) * 0.01
    returns = factors + rng.normal(scale=0.01 * rng.uniform(0.5, 2, n), size=(days, n))
    return np.cov(returns, rowvar=False)


def assert_kkt(cov: np.ndarray, w: np.ndarray, cap: float, tol: float = 1e-10) -> None:
    """Long-only capped minimum variance optimality: feasibility, stationarity, signs."""
    assert abs(w.sum() - 1.0) < 1e-12
    assert (w >= 0).all() and (w <= cap + 1e-15).all()
    gradient = cov @ w
    scale = np.abs(gradient).max()
    free = (w > 1e-12) & (w < cap - 1e-12)
    lam = gradient[free].mean()
    assert np.abs(gradient[free] - lam).max() <= tol * scale  # stationarity
    assert (gradient[w <= 1e-12] - lam >= -tol * scale).all()  # raising a zero weight costs
    assert (lam - gradient[w >= cap - 1e-12] >= -tol * scale).all()  # a capped one wants more


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("cap", [1.0, 0.25, 0.1])
def test_min_variance_meets_kkt_conditions(seed: int, cap: float):
    cov = random_covariance(20, seed)
    w = min_variance_weights(cov, cap)
    assert_kkt(cov, w, cap)


def test_min_variance_primal_method_agrees_with_fast_path(monkeypatch: pytest.MonkeyPatch):
    cov = random_covariance(30, 11)
    fast = min_variance_weights(cov, 0.1)
    monkeypatch.setattr(solvers, "MAX_GUESSES", 0)  # force the primal active-set method
    primal = min_variance_weights(cov, 0.1)
    assert_kkt(cov, primal, 0.1)
    np.testing.assert_allclose(primal, fast, atol=1e-14)


def test_min_variance_beats_a_general_purpose_solver(bundled_closes):
    returns = bundled_closes.loc["2018":"2019"].pct_change().iloc[1:].to_numpy()
    cov = np.cov(returns, rowvar=False)
    ours = min_variance_weights(cov, 1.0)
    assert_kkt(cov, ours, 1.0)
    n = len(cov)
    slsqp = minimize(
        lambda w: w @ cov @ w,
        np.full(n, 1 / n),
        method="SLSQP",
        bounds=[(0, 1)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    assert ours @ cov @ ours <= slsqp.fun * (1 + 1e-12)


def test_min_variance_without_binding_bounds_is_the_closed_form():
    cov = np.diag([1.0, 2.0, 4.0])
    expected = (1 / np.diag(cov)) / (1 / np.diag(cov)).sum()
    np.testing.assert_allclose(min_variance_weights(cov), expected, atol=1e-15)


def test_min_variance_cap_below_one_over_n_gives_equal_weights():
    np.testing.assert_array_equal(min_variance_weights(random_covariance(4, 0), 0.1), 0.25)


def test_min_variance_rejects_nan():
    cov = random_covariance(5, 1)
    cov[0, 1] = np.nan
    with pytest.raises(SolverError, match="NaN"):
        min_variance_weights(cov)


@pytest.mark.parametrize("seed", range(5))
def test_risk_parity_equalises_risk_contributions(seed: int):
    cov = random_covariance(15, seed)
    w = risk_parity_weights(cov)
    contributions = w * (cov @ w)
    assert abs(w.sum() - 1) < 1e-14 and (w > 0).all()
    np.testing.assert_allclose(contributions, contributions.mean(), rtol=1e-9)


def test_risk_parity_rejects_zero_variance():
    cov = np.diag([1.0, 0.0, 2.0])
    with pytest.raises(SolverError, match="non-positive variance"):
        risk_parity_weights(cov)


def test_hrp_on_uncorrelated_assets_is_inverse_variance():
    variances = np.array([1.0, 4.0, 2.0, 0.5, 3.0])
    expected = (1 / variances) / (1 / variances).sum()
    np.testing.assert_allclose(hrp_weights(np.diag(variances)), expected, rtol=1e-12)


def test_hrp_weights_are_a_long_only_budget(bundled_closes):
    cov = np.cov(bundled_closes.loc["2020"].pct_change().iloc[1:].to_numpy(), rowvar=False)
    w = hrp_weights(cov)
    assert abs(w.sum() - 1) < 1e-14 and (w > 0).all()


def test_capped_weights_respect_cap_and_budget_and_order():
    w = np.array([0.6, 0.25, 0.1, 0.05])
    capped = capped_weights(w, 0.3)
    assert capped.max() <= 0.3 + 1e-15 and abs(capped.sum() - 1) < 1e-15
    assert (np.diff(capped) <= 1e-15).all()  # order kept
    np.testing.assert_allclose(capped[2] / capped[3], 2.0)  # uncapped keep their ratio


def test_max_sharpe_beats_other_feasible_portfolios():
    rng = np.random.default_rng(3)
    cov = random_covariance(10, 3)
    mu = rng.normal(0.0005, 0.0003, 10)
    w = max_sharpe_weights(cov, mu, 0.0, 0.3)
    assert abs(w.sum() - 1) < 1e-12 and (w >= 0).all() and w.max() <= 0.3 + 1e-12

    def sharpe(x: np.ndarray) -> float:
        return float(x @ mu / np.sqrt(x @ cov @ x))

    for _ in range(200):
        other = capped_weights(rng.dirichlet(np.ones(10)), 0.3)
        assert sharpe(w) >= sharpe(other) - 1e-12
    assert sharpe(w) >= sharpe(min_variance_weights(cov, 0.3))


def test_max_sharpe_needs_a_positive_excess_return():
    with pytest.raises(SolverError, match="positive expected excess return"):
        max_sharpe_weights(random_covariance(4, 0), np.full(4, -0.001), 0.0, 1.0)


@pytest.mark.parametrize("years", [("2018", "2019"), ("2008", "2009"), ("1995", "1999")])
def test_hrp_is_lopez_de_prados_variant_as_skfolio_configures_it(bundled_closes, years):
    """Ours: single linkage on sqrt((1 - rho) / 2), the tree's own leaf order (no optimal
    ordering), bisection of the ordered list into halves, inverse-variance cluster risk."""
    from skfolio.cluster import HierarchicalClustering, LinkageMethod
    from skfolio.distance import PearsonDistance
    from skfolio.optimization import HierarchicalRiskParity
    from skfolio.seriation import HierarchicalSeriation

    returns = bundled_closes.loc[years[0] : years[1]].pct_change().dropna()
    reference = HierarchicalRiskParity(
        distance_estimator=PearsonDistance(),
        seriation_estimator=HierarchicalSeriation(
            hierarchical_clustering_estimator=HierarchicalClustering(
                linkage_method=LinkageMethod.SINGLE
            ),
            optimal_ordering=False,
        ),
    ).fit(returns)
    ours = hrp_weights(np.cov(returns.to_numpy(), rowvar=False, ddof=1))
    np.testing.assert_allclose(ours, reference.weights_, rtol=0, atol=1e-12)


def slsqp_max_sharpe(cov: np.ndarray, mu: np.ndarray, cap: float) -> np.ndarray:
    """The general-purpose reference: SLSQP on the Sharpe ratio itself, from equal weights."""
    n = len(mu)
    result = minimize(
        lambda w: -(w @ mu) / np.sqrt(w @ cov @ w),
        np.full(n, 1 / n),
        method="SLSQP",
        bounds=[(0, cap)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    return np.asarray(result.x)


def assert_max_sharpe_kkt(cov: np.ndarray, mu: np.ndarray, w: np.ndarray, cap: float) -> None:
    """Optimality of the largest Sharpe ratio: feasibility, stationarity and signs of the
    gradient ``mu / s - (w'mu) S w / s^3`` against the budget's multiplier."""
    assert abs(w.sum() - 1.0) < 1e-12
    assert (w >= 0).all() and (w <= cap + 1e-15).all()
    stdev = np.sqrt(w @ cov @ w)
    gradient = mu / stdev - (w @ mu) * (cov @ w) / stdev**3
    scale = np.abs(mu).max() / stdev  # the size of either term (the gradient may vanish)
    free = (w > 1e-12) & (w < cap - 1e-12)
    zero, capped = w <= 1e-12, w >= cap - 1e-12
    if not free.any():  # a corner: any multiplier between the two sides will do
        assert gradient[zero].max(initial=-np.inf) <= gradient[capped].min() + 1e-9 * scale
        return
    eta = gradient[free].mean()
    assert np.abs(gradient[free] - eta).max() <= 1e-9 * scale  # stationarity
    assert (eta - gradient[zero] >= -1e-9 * scale).all()  # a zero weight would lose
    assert (gradient[capped] - eta >= -1e-9 * scale).all()  # a capped one wants more


def real_max_sharpe_problems(closes, count: int = 40) -> list[tuple[np.ndarray, np.ndarray]]:
    """Covariances and shrunk means of a year of returns of 4 to 12 random bundled stocks."""
    rng = np.random.default_rng(7)
    returns = closes.pct_change().iloc[1:]
    problems = []
    while len(problems) < count:
        start = int(rng.integers(0, len(returns) - 252))
        block = returns.iloc[start : start + 252].dropna(axis=1).to_numpy()
        n = int(rng.integers(4, 13))
        r = block[:, rng.choice(block.shape[1], size=n, replace=False)]
        means = r.mean(axis=0)
        mu = 0.5 * means + 0.5 * means.mean()
        if mu.max() > 0:
            problems.append((np.cov(r, rowvar=False), mu))
    return problems


@pytest.mark.parametrize("cap", [0.25, 0.35, 0.5, 1.0])
def test_max_sharpe_meets_kkt_and_beats_slsqp_on_real_windows(bundled_closes, cap: float):
    for cov, mu in real_max_sharpe_problems(bundled_closes):
        effective = max(cap, 1 / len(mu))
        fill = np.minimum(effective, np.clip(1 - effective * np.arange(len(mu)), 0, None))
        if fill @ np.sort(mu)[::-1] <= 0:
            continue  # the non-convex case: SLSQP's own local optimum (tested below)
        ours = max_sharpe_weights(cov, mu, 0.0, cap)
        if effective * len(mu) > 1 + 1e-12:
            assert_max_sharpe_kkt(cov, mu, ours, effective)
        reference = slsqp_max_sharpe(cov, mu, effective)
        ratios = [float(w @ mu / np.sqrt(w @ cov @ w)) for w in (ours, reference)]
        assert ratios[0] >= ratios[1] * (1 - 1e-12)
        np.testing.assert_allclose(ours, reference, atol=1e-5)


@pytest.mark.parametrize("seed", range(6))
def test_max_sharpe_matches_cvxpy_on_the_charnes_cooper_program(seed: int):
    import cvxpy as cp

    rng = np.random.default_rng(seed)
    n, cap = 12, 0.2
    cov = random_covariance(n, seed)
    mu = rng.normal(0.0004, 0.0006, n)
    y = cp.Variable(n)
    problem = cp.Problem(
        cp.Minimize(cp.quad_form(y, cp.psd_wrap(cov))),
        [mu @ y == 1, y >= 0, y <= cap * cp.sum(y)],
    )
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    reference = y.value / y.value.sum()
    ours = max_sharpe_weights(cov, mu, 0.0, cap)
    assert_max_sharpe_kkt(cov, mu, ours, cap)
    np.testing.assert_allclose(ours, reference, atol=1e-6)  # clarabel's interior point stops short


def test_max_sharpe_primal_method_agrees_with_fast_path(monkeypatch: pytest.MonkeyPatch):
    rng = np.random.default_rng(5)
    cov = random_covariance(20, 5)
    mu = rng.normal(0.0005, 0.0005, 20)
    fast = max_sharpe_weights(cov, mu, 0.0, 0.15)
    monkeypatch.setattr(solvers, "MAX_GUESSES", 0)  # force the primal active-set method
    primal = max_sharpe_weights(cov, mu, 0.0, 0.15)
    assert_max_sharpe_kkt(cov, mu, primal, 0.15)
    np.testing.assert_allclose(primal, fast, atol=1e-13)


def test_max_sharpe_below_the_risk_free_rate_keeps_slsqps_local_optimum():
    """One asset barely above the risk-free rate and a cap: every capped portfolio earns less
    than cash, the problem is not convex, and SLSQP (the engine's former solver) answers."""
    cov = random_covariance(5, 2)
    mu = np.array([0.0001, -0.0003, -0.0004, -0.0002, -0.0005])
    w = max_sharpe_weights(cov, mu, 0.0, 0.3)
    assert abs(w.sum() - 1) < 1e-12 and (w >= 0).all() and w.max() <= 0.3 + 1e-12
    np.testing.assert_array_equal(w, solvers._max_sharpe_slsqp(cov, mu, 0.3))


@pytest.mark.parametrize("seed", range(20))
def test_leaf_order_is_scipys_leaves_list(seed: int):
    from scipy.cluster.hierarchy import leaves_list, linkage

    rng = np.random.default_rng(seed)
    points = rng.integers(0, 4, size=(int(rng.integers(2, 30)), 2)).astype(float)  # many ties
    tree = linkage(points, method="single")
    np.testing.assert_array_equal(leaf_order(tree), leaves_list(tree))
