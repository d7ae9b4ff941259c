"""Allocation engines: each a small object with one method from training returns to weights.

Every engine receives the training returns of the assets it may hold (days x assets, simple
returns), the settings, and the window's moments (:class:`Moments`): the covariance estimated
and hardened by :class:`~quant_assets.allocation.guard.SolverGuard`, so all engines of a window
see the same matrix, or the variances alone. Each engine declares whether it reads the
covariance (``needs_covariance``); the guard checks the covariance's conditioning only for
engines that do. Engines return raw weights; the guard judges them.

Choices: minimum variance is our own exact active-set solver (exact, and about 25x faster than
skfolio's interior-point path on these sizes); maximum Sharpe uses scipy's SLSQP on means shrunk
toward their cross-sectional average; covariance estimators come from numpy and scikit-learn.
"""

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from quant_assets.allocation.solvers import (
    capped_weights,
    effective_cap,
    hrp_weights,
    max_sharpe_weights,
    min_variance_weights,
    risk_parity_weights,
)
from quant_assets.metrics import daily_rate
from quant_assets.settings import EngineName, Settings

FloatArray = NDArray[np.float64]


class Moments(Protocol):
    """What an engine may read of a window besides its returns (computed when first read)."""

    @property
    def covariance(self) -> FloatArray:
        """The hardened covariance (assets x assets)."""
        ...

    @property
    def variances(self) -> FloatArray:
        """The variances (the covariance's diagonal), shape (assets,)."""
        ...


MEAN_SHRINKAGE = 0.5
"""Weight of the cross-sectional average in the shrunk expected returns of ``max_sharpe``
(James-Stein style: sample means of a year of daily returns are mostly noise)."""


@dataclass(frozen=True)
class Engine:
    """Base engine: equal weights (subclasses override :meth:`weights`)."""

    name: ClassVar[EngineName] = "equal_weight"
    uses_selection: ClassVar[bool] = True
    """False for engines that hold the whole eligible universe instead of the selection."""
    needs_covariance: ClassVar[bool] = False
    """True for engines that read ``moments.covariance`` (the guard checks its conditioning)."""

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Weights for the columns of ``returns`` (they sum to one)."""
        n = returns.shape[1]
        return np.full(n, 1.0 / n)


class EqualWeight(Engine):
    """``1/n`` in every selected asset."""


class Market(Engine):
    """Baseline: equal weight of the whole eligible universe, ignoring selection."""

    name: ClassVar[EngineName] = "market"
    uses_selection: ClassVar[bool] = False


class InverseVolatility(Engine):
    """Weights proportional to ``1 / volatility``, capped at ``max_weight``."""

    name: ClassVar[EngineName] = "inverse_volatility"

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Inverse training volatility, normalised and capped."""
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse = 1.0 / np.sqrt(moments.variances)
            raw = inverse / inverse.sum()
        if not np.isfinite(raw).all():
            return np.asarray(raw, dtype=np.float64)  # the guard vetoes it, with the reason
        return capped_weights(raw, settings.max_weight)


class MinVariance(Engine):
    """Long-only minimum variance under the weight cap (exact active-set solver)."""

    name: ClassVar[EngineName] = "min_variance"
    needs_covariance: ClassVar[bool] = True

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Exact long-only minimum-variance weights."""
        return min_variance_weights(moments.covariance, settings.max_weight)


class MaxSharpe(Engine):
    """Long-only maximum Sharpe ratio on shrunk mean returns, under the weight cap."""

    name: ClassVar[EngineName] = "max_sharpe"
    needs_covariance: ClassVar[bool] = True

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Maximum Sharpe weights on means shrunk by :data:`MEAN_SHRINKAGE`."""
        means = returns.mean(axis=0)
        shrunk = (1.0 - MEAN_SHRINKAGE) * means + MEAN_SHRINKAGE * means.mean()
        daily_risk_free = daily_rate(settings.risk_free_rate)
        return max_sharpe_weights(moments.covariance, shrunk, daily_risk_free, settings.max_weight)


class RiskParity(Engine):
    """Equal risk contribution; capped at ``max_weight`` afterwards if it binds."""

    name: ClassVar[EngineName] = "risk_parity"
    needs_covariance: ClassVar[bool] = True

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Equal-risk-contribution weights, capped."""
        return capped_weights(risk_parity_weights(moments.covariance), settings.max_weight)


class HierarchicalRiskParity(Engine):
    """Hierarchical risk parity; capped at ``max_weight`` afterwards if it binds."""

    name: ClassVar[EngineName] = "hrp"
    needs_covariance: ClassVar[bool] = True

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """HRP weights, capped."""
        return capped_weights(hrp_weights(moments.covariance), settings.max_weight)


ENGINES: dict[EngineName, Engine] = {
    engine.name: engine
    for engine in (
        EqualWeight(),
        InverseVolatility(),
        MinVariance(),
        MaxSharpe(),
        RiskParity(),
        HierarchicalRiskParity(),
        Market(),
    )
}
"""Every engine by the name settings use (``EngineName``; a test checks none is missing)."""


def get_engine(name: str) -> Engine:
    """The engine called ``name``, or a ``ValueError`` listing the known ones."""
    try:
        return ENGINES[name]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; choose from {sorted(ENGINES)}") from None


__all__ = ["ENGINES", "Engine", "effective_cap", "get_engine"]
