"""``SolverGuard``: one guard over every engine, hardening its input and vetoing its output.

1. **Ridge hardening.** When the covariance's condition number exceeds ``kappa_max``, it is
   shrunk toward its own diagonal, ``(1 - r) S + r diag(S)``, with ``r`` climbing
   :data:`RIDGE_LADDER` until the condition number is under the bound. The ridge and the
   condition numbers before and after are recorded. If even the diagonal alone is above the
   bound (a variance is zero, or variances differ by more than ``kappa_max``), engines that need
   the covariance are vetoed.
2. **Sanity veto.** Weights are rejected when they hold NaN/inf, are negative, do not sum to one
   within :data:`SUM_TOLERANCE`, exceed the weight cap (``max(max_weight, 1/n)``) by more than
   :data:`SUM_TOLERANCE`, or are too concentrated: an effective number of holdings
   ``1 / sum(w^2)`` below ``min(min_effective_holdings, n)``. An engine that raises is vetoed too.
3. **Fallback.** A vetoed engine falls back along ``engine -> inverse_volatility ->
   equal_weight`` (:data:`FALLBACK_CHAIN`); every veto is recorded with its engine and reason.

Engines declare what they read (``needs_covariance``, ``needs_variances``): the covariance is
estimated and hardened only when an engine tried in the window needs it, so the covariance-free
baselines (``market``, ``equal_weight``) cost nothing on universes of thousands of symbols.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from quant_assets.allocation.covariance import (
    condition_number,
    estimate_covariance,
    sample_variances,
)
from quant_assets.allocation.engines import get_engine
from quant_assets.allocation.solvers import effective_cap
from quant_assets.settings import Settings

FloatArray = NDArray[np.float64]

FALLBACK_CHAIN: tuple[str, ...] = ("inverse_volatility", "equal_weight")
"""Engines tried, in order, after a veto (``equal_weight`` always passes on finite input)."""
RIDGE_LADDER: tuple[float, ...] = tuple(float(r) for r in np.geomspace(1e-6, 1.0, 25))
"""Shrinkage intensities toward the diagonal tried in turn (1e-6 up to 1, 25 rungs)."""
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
    """What ridge hardening did to one covariance."""

    ridge: float
    condition_before: float
    condition_after: float


@dataclass(frozen=True)
class Allocation:
    """The guarded outcome of one engine on one training window."""

    engine: str
    engine_used: str
    weights: pd.Series
    vetoes: tuple[Veto, ...] = ()
    hardening: Hardening = field(default_factory=lambda: Hardening(0.0, np.nan, np.nan))


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
        """Shrink ``covariance`` toward its diagonal until its condition number is in bounds."""
        before = condition_number(covariance)
        if before <= self.settings.kappa_max or not np.isfinite(covariance).all():
            return covariance, Hardening(0.0, before, before)
        diagonal = np.diag(np.diag(covariance))
        after, ridge, hardened = before, 0.0, covariance
        for ridge in RIDGE_LADDER:
            hardened = (1.0 - ridge) * covariance + ridge * diagonal
            after = condition_number(hardened)
            if after <= self.settings.kappa_max:
                break
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

    def allocate(self, engine: str, returns: pd.DataFrame) -> Allocation:
        """Weights of ``engine`` on ``returns`` (days x symbols), guarded.

        With no symbols to hold the allocation is empty and ``engine_used`` is ``"cash"``.
        """
        symbols = [str(s) for s in returns.columns]
        return self.allocate_values(engine, returns.to_numpy(dtype=np.float64), symbols)

    def allocate_values(self, engine: str, returns: FloatArray, symbols: list[str]) -> Allocation:
        """:meth:`allocate` on a plain array of returns (days x ``symbols``)."""
        index = pd.Index(symbols, dtype=object, name="symbol")
        if len(symbols) == 0:
            return Allocation(engine, CASH, pd.Series(dtype="float64", index=index))
        moments = WindowMoments(self, returns)
        vetoes: list[Veto] = []
        for candidate in (engine, *[e for e in FALLBACK_CHAIN if e != engine]):
            outcome = self._attempt(candidate, moments)
            if isinstance(outcome, str):
                vetoes.append(Veto(candidate, outcome))
                continue
            weights = pd.Series(outcome, index=index, name="weight")
            return Allocation(engine, candidate, weights, tuple(vetoes), moments.hardening)
        raise AssertionError(f"every engine was vetoed for {symbols}: {vetoes}")

    def _attempt(self, engine: str, moments: "WindowMoments") -> FloatArray | str:
        """The engine's weights if sane, else the veto reason."""
        chosen = get_engine(engine)
        if chosen.needs_covariance:
            moments.covariance  # noqa: B018 -- estimate and harden before judging conditioning
            hardening = moments.hardening
            if hardening.condition_after > self.settings.kappa_max:
                return (
                    f"covariance condition number {hardening.condition_after:.3g} exceeds "
                    f"kappa_max={self.settings.kappa_max:g} even after ridge {hardening.ridge:.3g}"
                )
        try:
            with np.errstate(all="ignore"):
                weights = chosen.weights(moments.returns, self.settings, moments)
        except (ArithmeticError, ValueError, RuntimeError, np.linalg.LinAlgError) as error:
            return f"{type(error).__name__}: {error}"
        return self.veto_reason(np.asarray(weights, dtype=np.float64)) or weights


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
