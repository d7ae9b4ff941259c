"""``SolverGuard``: one guard over every engine, hardening its input and vetoing its output.

1. **Ridge hardening.** A covariance ``S = D^1/2 C D^1/2`` (``D`` its variances, ``C`` its
   correlation) is shrunk toward its own diagonal, ``H(r) = (1 - r) S + r diag(S)``, when its
   correlation's condition number exceeds ``kappa_max``. Conditioning is measured on the
   correlation, not the covariance: variances only rescale the assets (a portfolio of a calm and
   a wild stock is not ill-posed), and shrinking toward the diagonal cannot change them, while
   the correlation's condition number measures collinearity, which the ridge cures. Since
   ``H(r) = D^1/2 ((1 - r) C + r I) D^1/2``, the hardened correlation has eigenvalues
   ``(1 - r) l + r``, so its condition number is
   ``((1 - r) l_max + r) / ((1 - r) l_min + r)`` and the smallest ridge meeting the bound
   ``k = kappa_max`` is, in closed form::

       r = (l_max - k l_min) / (l_max - k l_min + k - 1)     (clipped to [0, 1])

   One eigendecomposition (of ``C``) per window, instead of one per rung of a ladder of
   ridges. The ridge and the correlation's condition numbers before and after are recorded
   (:class:`Hardening`). When the correlation is undefined (a variance is zero: a constant
   price; or an entry is not finite), no ridge helps and engines that need the covariance are
   vetoed.
2. **Sanity veto.** Weights are rejected when they hold NaN/inf, are negative, do not sum to one
   within :data:`SUM_TOLERANCE`, exceed the weight cap (``max(max_weight, 1/n)``) by more than
   :data:`SUM_TOLERANCE`, or are too concentrated: an effective number of holdings
   ``1 / sum(w^2)`` below ``min(min_effective_holdings, n)``. An engine that raises (any
   exception: plug-ins are run behind the guard too) or returns weights of the wrong shape is
   vetoed too, its error as the reason.
3. **Fallback.** A vetoed engine falls back along ``engine -> inverse_volatility ->
   equal_weight`` (:data:`FALLBACK_CHAIN`); every veto is recorded with its engine and reason.

Engines declare whether they read the covariance (``needs_covariance``); it is estimated and
hardened only when an engine tried in the window reads it (:class:`WindowMoments` computes each
moment on first use), so the covariance-free baselines (``market``, ``equal_weight``) cost
nothing on universes of thousands of symbols.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from quant_assets.allocation.covariance import (
    correlation_spectrum,
    estimate_covariance,
    sample_variances,
)
from quant_assets.allocation.engines import get_engine
from quant_assets.allocation.solvers import effective_cap
from quant_assets.settings import Settings
from quant_assets.typing import FloatArray

FALLBACK_CHAIN: tuple[str, ...] = ("inverse_volatility", "equal_weight")
"""Engines tried, in order, after a veto (``equal_weight`` always passes on finite input)."""
RIDGE_NUDGES = 8
"""At most this many one-ulp steps up of the closed-form ridge, should rounding leave the
recorded condition number a hair above ``kappa_max``."""
SUM_TOLERANCE = 1e-9
"""Largest accepted ``|sum(w) - 1|`` and excess over the cap."""
CASH = "cash"
"""``engine_used`` of an allocation with nothing to hold."""


@dataclass(frozen=True)
class Veto:
    """One rejected engine and why."""

    engine: str
    reason: str


@dataclass(frozen=True)
class Hardening:
    """What ridge hardening did to one covariance.

    ``condition_before`` and ``condition_after`` are condition numbers of its correlation
    matrix (``inf`` when singular or undefined); ``ridge`` is the shrinkage ``r`` applied.
    """

    ridge: float
    condition_before: float
    condition_after: float


@dataclass(frozen=True)
class Allocation:
    """The guarded outcome of one engine on one training window."""

    engine: str
    engine_used: str
    values: FloatArray = field(compare=False)
    """The weights, in the order of ``symbols``."""
    symbols: tuple[str, ...]
    vetoes: tuple[Veto, ...] = ()
    hardening: Hardening = field(default_factory=lambda: Hardening(0.0, np.nan, np.nan))

    @property
    def weights(self) -> pd.Series:
        """The weights by symbol (a Series named ``weight``, indexed by ``symbol``)."""
        index = pd.Index(list(self.symbols), dtype=object, name="symbol")
        return pd.Series(self.values, index=index, name="weight", dtype="float64")


class SolverGuard:
    """Harden the covariance, run an engine, veto bad weights and fall back, recording all.

    Parameters
    ----------
    settings : Settings
        ``covariance``, ``kappa_max``, ``max_weight`` and ``min_effective_holdings``.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def harden(self, covariance: FloatArray) -> tuple[FloatArray, Hardening]:
        """Shrink ``covariance`` toward its diagonal just enough to bound its conditioning.

        Returns ``covariance`` itself (no ridge) when its correlation's condition number is
        within ``kappa_max``, and ``(1 - r) S + r diag(S)`` with the smallest such ``r``
        otherwise (see the module docstring). An undefined correlation is returned unchanged
        with infinite condition numbers (the caller vetoes).
        """
        spectrum = correlation_spectrum(covariance)
        if spectrum is None:
            return covariance, Hardening(0.0, np.inf, np.inf)
        smallest, largest = spectrum
        before = largest / smallest if smallest > 0.0 else np.inf
        kappa = self.settings.kappa_max
        if before <= kappa:
            return covariance, Hardening(0.0, before, before)
        excess = largest - kappa * smallest
        ridge = float(np.clip(excess / (excess + kappa - 1.0), 0.0, 1.0))
        after = _shrunk_condition(smallest, largest, ridge)
        for _ in range(RIDGE_NUDGES):
            if after <= kappa or ridge >= 1.0:
                break
            ridge = float(np.nextafter(ridge, 1.0))
            after = _shrunk_condition(smallest, largest, ridge)
        hardened = (1.0 - ridge) * covariance + ridge * np.diag(np.diag(covariance))
        return hardened, Hardening(ridge, before, after)

    def veto_reason(self, weights: FloatArray) -> str | None:
        """Why ``weights`` must be rejected, or None when they are sane."""
        n = len(weights)
        if not np.isfinite(weights).all():
            return "weights hold NaN or infinite values"
        if (weights < 0).any():
            return f"negative weight {weights.min():.3g} in a long-only portfolio"
        total = float(weights.sum())
        if abs(total - 1.0) > SUM_TOLERANCE:
            return f"weights sum to {total:.12g}, not 1"
        cap = effective_cap(n, self.settings.max_weight)
        if weights.max() > cap + SUM_TOLERANCE:
            return f"weight {weights.max():.6g} exceeds the cap {cap:.6g}"
        holdings = 1.0 / float(weights @ weights)
        limit = min(self.settings.min_effective_holdings, n)
        if holdings < limit - SUM_TOLERANCE:
            return f"too concentrated: {holdings:.3g} effective holdings, fewer than {limit:.3g}"
        return None

    def allocate_values(
        self,
        engine: str,
        returns: FloatArray,
        symbols: list[str],
        moments: "WindowMoments | None" = None,
    ) -> Allocation:
        """Weights of ``engine`` on ``returns`` (days x ``symbols``), guarded.

        With no symbols to hold the allocation is empty and ``engine_used`` is ``"cash"``.
        ``moments`` may be shared with other engines (and settings with the same covariance
        estimator and ``kappa_max``) holding the same symbols in the window; it must be built
        on these ``returns``.
        """
        if len(symbols) == 0:
            return Allocation(engine, CASH, np.zeros(0), ())
        moments = moments or WindowMoments(self, returns)
        vetoes: list[Veto] = []
        for candidate in (engine, *[e for e in FALLBACK_CHAIN if e != engine]):
            outcome = self._attempt(candidate, moments)
            if isinstance(outcome, str):
                vetoes.append(Veto(candidate, outcome))
                continue
            held = tuple(symbols)
            return Allocation(engine, candidate, outcome, held, tuple(vetoes), moments.hardening)
        raise AssertionError(f"every engine was vetoed for {symbols}: {vetoes}")

    def _attempt(self, engine: str, moments: "WindowMoments") -> FloatArray | str:
        """The engine's weights if sane, else the veto reason."""
        chosen = get_engine(engine)
        if chosen.needs_covariance:
            moments.covariance  # noqa: B018 -- estimate and harden before judging conditioning
            hardening = moments.hardening
            if hardening.condition_after > self.settings.kappa_max:
                return (
                    f"correlation condition number {hardening.condition_after:.3g} exceeds "
                    f"kappa_max={self.settings.kappa_max:g} even after ridge {hardening.ridge:.3g}"
                    " (a zero or non-finite variance: no ridge helps)"
                )
        try:
            with np.errstate(all="ignore"):
                raw = chosen.weights(moments.returns, self.settings, moments)
            weights = np.asarray(raw, dtype=np.float64)
        except Exception as error:  # any engine, plug-ins included, may fail any way: a veto
            return " ".join(f"{type(error).__name__}: {error}".split())
        expected = (moments.returns.shape[1],)
        if weights.shape != expected:
            return f"weights of shape {weights.shape}, expected {expected}"
        return self.veto_reason(weights) or weights


def _shrunk_condition(smallest: float, largest: float, ridge: float) -> float:
    """Condition number of ``(1 - ridge) C + ridge I``; ``C``'s eigenvalues span the range."""
    low = (1.0 - ridge) * smallest + ridge
    return ((1.0 - ridge) * largest + ridge) / low if low > 0.0 else float("inf")


class WindowMoments:
    """One window's training returns and the moments engines read, each computed on first use.

    The guard builds one per window and engine chain, so engines of the chain share the same
    hardened covariance, and a chain of covariance-free engines never estimates one.
    """

    def __init__(self, guard: SolverGuard, returns: FloatArray) -> None:
        self.guard = guard
        self.returns = returns
        self._covariance: FloatArray | None = None
        self._hardening: Hardening | None = None
        self._memo: dict[str, FloatArray] = {}

    def memo(self, key: str, compute: Callable[[], FloatArray]) -> FloatArray:
        """``compute()`` the first time ``key`` is asked for, then the same array (a copy).

        For engine results that depend on this window's returns and moments only (e.g. the
        uncapped hierarchical risk parity weights): engines and sweep points sharing these
        moments compute them once.
        """
        if key not in self._memo:
            self._memo[key] = np.asarray(compute(), dtype=np.float64)
        return self._memo[key].copy()

    @property
    def covariance(self) -> FloatArray:
        """The estimated covariance (``settings.covariance``), ridge-hardened by the guard."""
        if self._covariance is None:
            estimated = estimate_covariance(self.returns, self.guard.settings.covariance)
            self._covariance, self._hardening = self.guard.harden(estimated)
        return self._covariance

    @property
    def hardening(self) -> Hardening:
        """What hardening did (no ridge and NaN condition numbers while nothing needed it)."""
        return self._hardening or Hardening(0.0, np.nan, np.nan)

    @property
    def variances(self) -> FloatArray:
        """The covariance's diagonal (hardening keeps it).

        With the ``sample`` estimator and no covariance needed yet, computed alone in
        O(days x assets).
        """
        if self._covariance is None and self.guard.settings.covariance == "sample":
            return sample_variances(self.returns)
        return np.diag(self.covariance).copy()
