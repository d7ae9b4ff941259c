"""Exact small solvers behind the engines (numpy and scipy; portfolios here have tens of assets).

- :func:`min_variance_weights`: long-only minimum variance with a per-asset cap, solved exactly
  by a primal active-set method (the optimum satisfies the KKT conditions to rounding; interior
  point solvers such as skfolio's clarabel stop short of it by up to about 1e-3 in weight).
- :func:`risk_parity_weights`: equal risk contribution by Newton's method on Spinu's convex
  problem ``min 1/2 y'Sy - sum(b log y)``, ``w = y / sum(y)``.
- :func:`hrp_weights`: hierarchical risk parity (Lopez de Prado, 2016).
- :func:`max_sharpe_weights`: long-only capped maximum Sharpe ratio on given expected returns,
  exactly, by an active-set method on its Charnes-Cooper quadratic program.
- :func:`capped_weights`: redistribute weight above a cap over the others, proportionally.
"""

import numpy as np
from numpy.typing import NDArray
from scipy.cluster.hierarchy import linkage
from scipy.optimize import minimize
from scipy.spatial.distance import squareform

from quant_assets.typing import FloatArray

STEP_TOLERANCE = 1e-13
"""An active-set step shorter than this (relative to the weights) means the working set is
optimal for its free assets."""
MULTIPLIER_TOLERANCE = 1e-12
"""A bound's Lagrange multiplier below ``-MULTIPLIER_TOLERANCE * scale`` releases the bound."""
NEWTON_TOLERANCE = 1e-13
"""Newton's method for risk parity stops when the gradient's largest entry is below this."""
MAX_NEWTON_STEPS = 100
MAX_GUESSES = 20
"""Guesses of the primal-dual active-set fast path before the primal method takes over."""


class SolverError(RuntimeError):
    """A solver did not reach its optimum; the guard vetoes the engine and falls back."""


def effective_cap(n_assets: int, max_weight: float) -> float:
    """The cap that applies to ``n_assets``: never below ``1 / n_assets`` (full investment)."""
    return max(max_weight, 1.0 / n_assets) if n_assets else max_weight


def capped_weights(weights: FloatArray, cap: float) -> FloatArray:
    """Clip ``weights`` (non-negative, summing to 1) at ``cap``, keeping the budget.

    The excess is spread over the uncapped assets in proportion to their weights, until none
    exceeds the cap.
    """
    w = np.asarray(weights, dtype=np.float64).copy()
    n = len(w)
    cap = effective_cap(n, cap)
    for _ in range(n):
        over = w > cap
        if not over.any():
            break
        fixed = w >= cap
        w[fixed] = cap
        free_mass = w[~fixed].sum()
        if free_mass <= 0.0:
            w[~fixed] = (1.0 - cap * fixed.sum()) / max((~fixed).sum(), 1)
        else:
            w[~fixed] *= (1.0 - cap * fixed.sum()) / free_mass
    return w


def min_variance_weights(
    covariance: FloatArray,
    max_weight: float = 1.0,
    linear: FloatArray | None = None,
    max_iterations: int | None = None,
    guess: FloatArray | None = None,
) -> FloatArray:
    """Solve ``min 1/2 w'Sw + c'w`` subject to ``sum(w) = 1`` and ``0 <= w <= cap`` exactly.

    A primal active-set method: start from equal weights (feasible), move along the exact
    equality-constrained Newton step of the free assets, stop at the first bound hit (it joins
    the working set), and release the bound with the most negative Lagrange multiplier when no
    step remains. It ends in finitely many steps for a positive-definite ``S``; the free
    weights are then the exact solution of their KKT system.

    Parameters
    ----------
    covariance : ndarray, shape (n, n)
        Positive-definite covariance ``S``.
    max_weight : float
        Per-asset cap; raised to ``1/n`` when smaller (see :func:`effective_cap`).
    linear : ndarray, shape (n,), optional
        Linear term ``c`` (zero for minimum variance).
    max_iterations : int, optional
        Safety bound on active-set steps (default ``10 n + 50``).
    guess : ndarray, shape (n,), optional
        Weights of a nearby problem (e.g. the same covariance under a looser cap): its zero
        weights and weights above the cap seed the fast path's guess of the bounds in force.
        It changes how fast the optimum is found, not which.

    Raises
    ------
    SolverError
        When the covariance is not finite or the method does not converge.
    """
    cov = np.asarray(covariance, dtype=np.float64)
    n = cov.shape[0]
    if n == 0:
        return np.zeros(0)
    if not np.isfinite(cov).all():
        raise SolverError("covariance holds NaN or infinite values")
    c = np.zeros(n) if linear is None else np.asarray(linear, dtype=np.float64)
    cap = effective_cap(n, max_weight)
    w = np.full(n, 1.0 / n)
    if cap * n <= 1.0 + 1e-12:
        return w  # equal weights are the only feasible point
    guessed = _primal_dual_active_set(cov, c, cap, guess)
    if guessed is not None:
        return guessed
    at_lower = np.zeros(n, dtype=bool)
    at_upper = np.zeros(n, dtype=bool)
    limit = max_iterations or 10 * n + 50
    for _ in range(limit):
        free = np.flatnonzero(~(at_lower | at_upper))
        gradient = cov @ w + c
        step = _equality_step(cov, gradient, free)
        if np.abs(step).max(initial=0.0) <= STEP_TOLERANCE * max(1.0, np.abs(w).max()):
            released = _most_violated_bound(gradient, free, at_lower, at_upper)
            if released is None:
                return _polish(cov, c, w, free, at_upper, cap)
            at_lower[released] = at_upper[released] = False
            continue
        alpha, blocking, to_upper = 1.0, -1, False
        for position, asset in enumerate(free):
            p = step[position]
            if p < 0.0:
                reach = -w[asset] / p
            elif p > 0.0:
                reach = (cap - w[asset]) / p
            else:
                continue
            if reach < alpha:
                alpha, blocking, to_upper = reach, int(asset), p > 0.0
        w[free] += alpha * step
        if blocking >= 0:
            w[blocking] = cap if to_upper else 0.0
            (at_upper if to_upper else at_lower)[blocking] = True
    raise SolverError(
        f"active-set method did not converge in {max_iterations or 10 * n + 50} steps"
    )


def _primal_dual_active_set(
    cov: FloatArray, c: FloatArray, cap: float, guess: FloatArray | None = None
) -> FloatArray | None:
    """Fast path: guess the bounds in force from the KKT residuals (Hintermueller et al., 2002).

    Starting with no bound in force, solve the free weights exactly, then put at a bound every
    free weight beyond it and every bound weight whose multiplier says it belongs there. When
    the guess repeats, the point is feasible with non-negative multipliers: the optimum. Most
    problems here settle in two to four solves; None (after :data:`MAX_GUESSES`) hands over
    to the primal active-set method, which always ends. A ``guess`` (weights of a nearby
    problem) starts from its zero weights and those above the cap instead.
    """
    n = len(c)
    at_lower = np.zeros(n, dtype=bool) if guess is None else guess <= 0.0
    at_upper = np.zeros(n, dtype=bool) if guess is None else guess > cap
    for _ in range(MAX_GUESSES):
        free = np.flatnonzero(~(at_lower | at_upper))
        if not len(free):
            return None
        w = _polish(cov, c, np.zeros(n), free, at_upper, cap)
        gradient = cov @ w + c
        lam = float(gradient[free].mean())
        next_lower = np.where(at_lower, gradient - lam >= 0.0, w < 0.0)
        next_upper = np.where(at_upper, lam - gradient >= 0.0, w > cap)
        if (next_lower == at_lower).all() and (next_upper == at_upper).all():
            feasible = bool((w >= 0.0).all() and (w <= cap).all())
            optimal = _most_violated_bound(gradient, free, at_lower, at_upper) is None
            return w if feasible and optimal else None
        at_lower, at_upper = next_lower & ~next_upper, next_upper
    return None


def _equality_step(cov: FloatArray, gradient: FloatArray, free: NDArray[np.intp]) -> FloatArray:
    """Step ``p`` of the free assets: ``min 1/2 p'Sp + g'p`` subject to ``sum(p) = 0``."""
    k = len(free)
    if k == 0:
        return np.zeros(0)
    return _solve_budget_system(cov, free, -gradient[free], 0.0)


def _solve_budget_system(
    cov: FloatArray, free: NDArray[np.intp], target: FloatArray, budget: float
) -> FloatArray:
    """Solve ``S_FF x + eta 1 = target, sum(x) = budget`` for ``x`` (the free assets' KKT)."""
    k = len(free)
    system = np.zeros((k + 1, k + 1))
    system[:k, :k] = cov[np.ix_(free, free)]
    system[:k, k] = 1.0
    system[k, :k] = 1.0
    solution: FloatArray = np.linalg.solve(system, np.append(target, budget))[:k]
    return solution


def _most_violated_bound(
    gradient: FloatArray,
    free: NDArray[np.intp],
    at_lower: NDArray[np.bool_],
    at_upper: NDArray[np.bool_],
) -> int | None:
    """The active bound whose multiplier is most negative, or None when the KKT point is optimal.

    At a stationary point of the free assets their gradients equal the budget multiplier
    ``lam``; a bound at zero needs ``g_i - lam >= 0`` and a bound at the cap ``lam - g_i >= 0``.
    """
    if len(free):
        lam = float(gradient[free].mean())
    elif at_upper.any():
        lam = float(gradient[at_upper].max())
    else:
        lam = float(gradient[at_lower].min())
    multipliers = np.full(len(gradient), np.inf)
    multipliers[at_lower] = gradient[at_lower] - lam
    multipliers[at_upper] = lam - gradient[at_upper]
    worst = int(np.argmin(multipliers))
    scale = max(1.0, float(np.abs(gradient).max()))
    return worst if multipliers[worst] < -MULTIPLIER_TOLERANCE * scale else None


def _polish(
    cov: FloatArray,
    c: FloatArray,
    w: FloatArray,
    free: NDArray[np.intp],
    at_upper: NDArray[np.bool_],
    cap: float,
) -> FloatArray:
    """Solve the free weights exactly from their KKT system, given the bounds in force."""
    out = np.where(at_upper, cap, 0.0)
    k = len(free)
    if k == 0:
        return out
    is_free = np.zeros(len(w), dtype=bool)
    is_free[free] = True
    bound = np.flatnonzero(~is_free)
    target = -(cov[np.ix_(free, bound)] @ out[bound] + c[free])
    out[free] = _solve_budget_system(cov, free, target, 1.0 - out.sum())
    return out


def risk_parity_weights(covariance: FloatArray) -> FloatArray:
    """Long-only weights with equal risk contributions ``w_i (Sw)_i``.

    Raises
    ------
    SolverError
        When the covariance is not finite or Newton's method does not converge.
    """
    cov = np.asarray(covariance, dtype=np.float64)
    n = cov.shape[0]
    if n == 0:
        return np.zeros(0)
    variances = np.diag(cov)
    if not np.isfinite(cov).all() or (variances <= 0).any():
        raise SolverError("covariance is not finite or has a non-positive variance")
    budget = np.full(n, 1.0 / n)
    y = budget / np.sqrt(variances)
    y /= np.sqrt(y @ cov @ y)
    for _ in range(MAX_NEWTON_STEPS):
        gradient = cov @ y - budget / y
        if np.abs(gradient).max() <= NEWTON_TOLERANCE:
            weights: FloatArray = y / y.sum()
            return weights
        hessian = cov + np.diag(budget / y**2)
        step = np.linalg.solve(hessian, -gradient)
        # Damped step keeping every y positive.
        negative = step < 0
        alpha = min(1.0, 0.95 * float(np.min(-y[negative] / step[negative], initial=np.inf)))
        y = y + alpha * step
    raise SolverError(f"risk parity Newton method did not converge in {MAX_NEWTON_STEPS} steps")


def hrp_weights(covariance: FloatArray) -> FloatArray:
    """Hierarchical risk parity weights, Lopez de Prado's original variant.

    A single-linkage tree on the correlation distance ``sqrt((1 - rho) / 2)`` gives the
    quasi-diagonal order (the tree's own leaf order, scipy's ``leaves_list``, with no optimal
    leaf ordering); recursive bisection then halves the ordered list (not the tree's clusters)
    and splits weight by inverse-variance cluster risk. Equal to skfolio's
    ``HierarchicalRiskParity`` with ``PearsonDistance``, single linkage and
    ``optimal_ordering=False`` to 1e-12 (tested); skfolio's defaults (Ward linkage, optimal
    ordering) give other weights.

    References
    ----------
    Lopez de Prado, M. (2016). Building diversified portfolios that outperform out of sample.
    The Journal of Portfolio Management, 42(4), 59-69.

    Raises
    ------
    SolverError
        When the covariance is not finite or has a non-positive variance.
    """
    cov = np.asarray(covariance, dtype=np.float64)
    n = cov.shape[0]
    if n <= 1:
        return np.ones(n)
    variances = np.diag(cov)
    if not np.isfinite(cov).all() or (variances <= 0).any():
        raise SolverError("covariance is not finite or has a non-positive variance")
    stdev = np.sqrt(variances)
    correlation = np.clip(cov / np.outer(stdev, stdev), -1.0, 1.0)
    distance = np.sqrt(np.clip(0.5 * (1.0 - correlation), 0.0, None))
    np.fill_diagonal(distance, 0.0)
    order = leaf_order(linkage(squareform(distance, checks=False), method="single"))
    # In the quasi-diagonal order every cluster of the bisection is a contiguous range.
    ordered = np.ascontiguousarray(cov[np.ix_(order, order)])
    inverse_variance = 1.0 / variances[order]
    weights = np.ones(n)
    ranges = [(0, n)]
    while ranges:
        split = []
        for first, end in ranges:
            if end - first <= 1:
                continue
            middle = first + (end - first) // 2
            left_risk = _range_variance(ordered, inverse_variance, first, middle)
            right_risk = _range_variance(ordered, inverse_variance, middle, end)
            alpha = 1.0 - left_risk / (left_risk + right_risk)
            weights[first:middle] *= alpha
            weights[middle:end] *= 1.0 - alpha
            split += [(first, middle), (middle, end)]
        ranges = split
    normalised = np.empty(n)
    normalised[order] = weights / weights.sum()
    return normalised


def leaf_order(tree: FloatArray) -> NDArray[np.intp]:
    """The leaves of a linkage matrix left to right: scipy's ``leaves_list``, without its checks.

    ``tree`` is scipy's linkage matrix of ``n`` leaves (``n - 1`` rows; row ``i`` joins
    clusters ``tree[i, 0]`` and ``tree[i, 1]`` into cluster ``n + i``). A depth-first walk,
    left child first, as ``leaves_list`` does (equal on every tree: tested).
    """
    n = len(tree) + 1
    children = tree[:, :2].astype(np.intp).tolist()
    order: list[int] = []
    stack = [2 * n - 2]
    while stack:
        node = stack.pop()
        if node < n:
            order.append(node)
        else:
            left, right = children[node - n]
            stack += [right, left]
    return np.asarray(order, dtype=np.intp)


def _range_variance(
    ordered: FloatArray, inverse_variance: FloatArray, first: int, end: int
) -> float:
    """Variance of the inverse-variance portfolio of the assets ``first..end-1`` of the order."""
    w = inverse_variance[first:end]
    w = w / w.sum()
    return float(w @ ordered[first:end, first:end] @ w)


def max_sharpe_weights(
    covariance: FloatArray,
    expected: FloatArray,
    risk_free: float,
    max_weight: float,
    guess: FloatArray | None = None,
) -> FloatArray:
    """Long-only, capped weights of the largest ``(w'mu - rf) / sqrt(w'Sw)``, solved exactly.

    The Charnes-Cooper transform ``y = w / (w'(mu - rf))`` turns it into a convex quadratic
    program (Cornuejols and Tutuncu, 2007, section 8.2)::

        min y'Sy   subject to   (mu - rf)'y = 1,   0 <= y_i <= cap * sum(y)

    and ``w = y / sum(y)``. It is solved by an active-set method on these ``2n`` homogeneous
    inequalities (:func:`_tangency_active_set`): each step solves the KKT system of the
    constraints in force exactly, so the weights meet the optimality conditions to rounding
    (scipy's SLSQP, used before, stopped within about 1e-6 of them). When no capped portfolio
    beats the risk-free rate the best ratio is negative, the transform does not apply, and
    SLSQP's local optimum is kept (:func:`_max_sharpe_slsqp`). ``guess`` (weights of a nearby
    problem, e.g. under a looser cap) seeds the guess of the constraints in force, as in
    :func:`min_variance_weights`.

    Raises
    ------
    SolverError
        When the inputs are not finite, no asset beats the risk-free rate, or a method fails.
    """
    cov = np.asarray(covariance, dtype=np.float64)
    mu = np.asarray(expected, dtype=np.float64) - risk_free
    n = len(mu)
    if not np.isfinite(mu).all():
        raise SolverError("expected returns hold NaN or infinite values")
    if (mu <= 0).all():
        raise SolverError("no asset has a positive expected excess return")
    if not np.isfinite(cov).all():
        raise SolverError("covariance holds NaN or infinite values")
    cap = effective_cap(n, max_weight)
    if cap * n <= 1.0 + 1e-12:
        return np.full(n, 1.0 / n)  # equal weights are the only feasible point
    corner = _best_return_corner(mu, cap)
    if float(corner @ mu) <= 0.0:
        return _max_sharpe_slsqp(cov, mu, cap)
    # Rescaling S and mu leaves the optimal weights unchanged and the tolerances relative.
    hessian = cov / float(np.abs(np.diag(cov)).max())
    excess = mu / float(np.abs(mu).max())
    constraints = np.vstack([-np.eye(n), np.eye(n) - cap])  # G y <= 0: y >= 0, y <= cap sum(y)
    seed = None if guess is None else np.concatenate([guess <= 0.0, guess > cap])
    y = _tangency_active_set(hessian, excess, constraints, corner / float(corner @ excess), seed)
    w = np.clip(y / y.sum(), 0.0, cap)
    if not np.isfinite(w).all() or w.sum() <= 0.0:
        raise SolverError("max Sharpe active-set method reached no finite weights")
    return np.asarray(w / w.sum(), dtype=np.float64)


def _best_return_corner(mu: FloatArray, cap: float) -> FloatArray:
    """The capped long-only weights of largest ``w'mu``: the best assets filled to the cap."""
    w = np.zeros(len(mu))
    left = 1.0
    for asset in np.argsort(-mu, kind="stable"):
        w[asset] = min(cap, left)
        left -= w[asset]
        if left <= 0.0:
            break
    return w


def _max_sharpe_slsqp(cov: FloatArray, mu: FloatArray, cap: float) -> FloatArray:
    """Largest Sharpe ratio by SLSQP from the minimum-variance weights, for the non-convex case.

    When no capped long-only portfolio beats the risk-free rate the best Sharpe ratio is
    negative and the Charnes-Cooper program does not apply (maximising a negative ratio is not
    convex); scipy's SLSQP then finds a local optimum, as this engine always did before the
    exact method.
    """
    start = min_variance_weights(cov, cap)

    def negative_sharpe(w: FloatArray) -> tuple[float, FloatArray]:
        risk = cov @ w
        variance = float(w @ risk)
        excess = float(w @ mu)
        stdev = np.sqrt(variance)
        gradient = -(mu * variance - excess * risk) / (variance * stdev)
        return -excess / stdev, gradient

    result = minimize(
        negative_sharpe,
        start,
        jac=True,
        method="SLSQP",
        bounds=[(0.0, cap)] * len(mu),
        constraints=[
            {"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}
        ],
        options={"ftol": 1e-15, "maxiter": 500},
    )
    if not result.success:
        raise SolverError(f"SLSQP failed: {result.message}")
    w = np.clip(result.x, 0.0, cap)
    return np.asarray(w / w.sum(), dtype=np.float64)


def _tangency_active_set(
    hessian: FloatArray,
    excess: FloatArray,
    constraints: FloatArray,
    start: FloatArray,
    seed: NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Solve ``min 1/2 y'Hy`` subject to ``excess'y = 1`` and ``G y <= 0`` (``G``: constraints).

    First the primal-dual guess of the constraints in force (as in
    :func:`_primal_dual_active_set`); when it does not settle, a primal active-set method from
    the feasible ``start``, which ends in finitely many steps for a positive-definite ``H``.
    """
    guessed = _tangency_guess(hessian, excess, constraints, seed)
    if guessed is not None:
        return guessed
    n = len(excess)
    y = start
    working = np.zeros(len(constraints), dtype=bool)
    for _ in range(10 * n + 50):
        face, multipliers = _tangency_face(hessian, excess, constraints, working)
        step = face - y
        if np.abs(step).max() <= STEP_TOLERANCE * max(1.0, float(np.abs(y).max())):
            scale = max(1.0, float(np.abs(multipliers).max(initial=0.0)))
            if not working.any() or multipliers.min() >= -MULTIPLIER_TOLERANCE * scale:
                return face
            working[np.flatnonzero(working)[int(np.argmin(multipliers))]] = False
            continue
        slack = constraints @ y
        rate = constraints @ step
        alpha, blocking = 1.0, -1
        for row in np.flatnonzero(~working & (rate > 0.0)):
            reach = max(0.0, -float(slack[row])) / float(rate[row])
            if reach < alpha:
                alpha, blocking = reach, int(row)
        y = y + alpha * step
        if blocking >= 0:
            working[blocking] = True
    raise SolverError(f"max Sharpe active-set method did not converge in {10 * n + 50} steps")


def _tangency_guess(
    hessian: FloatArray,
    excess: FloatArray,
    constraints: FloatArray,
    seed: NDArray[np.bool_] | None = None,
) -> FloatArray | None:
    """Fast path: guess the constraints in force from the KKT residuals until the guess repeats.

    None when it does not settle in :data:`MAX_GUESSES` solves, reaches a singular system, or
    settles on a point that is not optimal (infeasible, or a negative multiplier). ``seed``
    marks the constraints guessed in force first (none by default).
    """
    working = np.zeros(len(constraints), dtype=bool) if seed is None else seed.copy()
    for _ in range(MAX_GUESSES):
        try:
            y, multipliers = _tangency_face(hessian, excess, constraints, working)
        except SolverError:
            return None
        slack = constraints @ y
        bound = np.zeros_like(working)
        bound[working] = multipliers >= 0.0
        proposed = np.where(working, bound, slack > 0.0)
        if (proposed == working).all():
            size = max(1.0, float(np.abs(y).max()))
            feasible = bool((slack <= STEP_TOLERANCE * size).all())
            scale = max(1.0, float(np.abs(multipliers).max(initial=0.0)))
            optimal = bool((multipliers >= -MULTIPLIER_TOLERANCE * scale).all())
            return y if feasible and optimal else None
        working = proposed
    return None


def _tangency_face(
    hessian: FloatArray, excess: FloatArray, constraints: FloatArray, working: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray]:
    """Minimiser of ``1/2 y'Hy`` with ``excess'y = 1`` and the ``working`` constraints at 0.

    Returns ``y`` and the working constraints' multipliers (non-negative at the optimum) from
    the KKT system ``H y + g excess + C'l = 0``, ``excess'y = 1``, ``C y = 0``.
    """
    n = len(excess)
    active = constraints[working]
    k = len(active)
    system = np.zeros((n + 1 + k, n + 1 + k))
    system[:n, :n] = hessian
    system[:n, n] = system[n, :n] = excess
    system[:n, n + 1 :] = active.T
    system[n + 1 :, :n] = active
    target = np.zeros(n + 1 + k)
    target[n] = 1.0
    try:
        solution = np.asarray(np.linalg.solve(system, target), dtype=np.float64)
    except np.linalg.LinAlgError:
        raise SolverError("singular KKT system in the max Sharpe active-set method") from None
    if not np.isfinite(solution).all():
        raise SolverError("non-finite KKT solution in the max Sharpe active-set method")
    return solution[:n], solution[n + 1 :]
