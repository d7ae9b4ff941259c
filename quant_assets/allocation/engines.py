"""Allocation engines: each a small object with one method from training returns to weights.

Every engine receives the training returns of the assets it may hold (days x assets, simple
returns), the settings, and the window's moments (:class:`Moments`): the covariance estimated
and hardened by :class:`~quant_assets.allocation.guard.SolverGuard`, so all engines of a window
see the same matrix, or the variances alone. Each engine declares whether it reads the
covariance (``needs_covariance``); the guard checks the covariance's conditioning only for
engines that do. Engines return raw weights; the guard judges them.

Engines are plug-ins (:mod:`quant_assets.plugins`): the built-in ones below are registered as
entry points like any installed package's, and settings may also name an import path. An
estimator class with ``fit(X)`` and ``weights_`` (any skfolio optimizer) is adapted by
:class:`EstimatorEngine`.

Choices: minimum variance is our own exact active-set solver (exact, and about 25x faster than
skfolio's interior-point path on these sizes); maximum Sharpe, on means shrunk toward their
cross-sectional average, is exact too (an active-set method on its Charnes-Cooper quadratic
program, about 10-30x faster than the scipy SLSQP it replaced); covariance estimators come from
numpy and scikit-learn.
"""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

from quant_assets.allocation.solvers import (
    SolverError,
    capped_weights,
    effective_cap,
    hrp_weights,
    max_sharpe_weights,
    min_variance_weights,
    risk_parity_weights,
)
from quant_assets.metrics import daily_rate
from quant_assets.plugins import Plugin, PluginError, resolve
from quant_assets.settings import EngineName, Settings
from quant_assets.typing import FloatArray


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

    def memo(self, key: str, compute: Callable[[], FloatArray]) -> FloatArray:
        """``compute()``, once per window and symbols held.

        For results that depend on the returns and moments only (not on the settings), shared
        by a sweep's points.
        """
        ...


MEAN_SHRINKAGE = 0.5
"""Weight of the cross-sectional average in the shrunk expected returns of ``max_sharpe``
(James-Stein style: sample means of a year of daily returns are mostly noise)."""


@dataclass(frozen=True)
class Engine:
    """Base engine: equal weights (subclasses override :meth:`weights`)."""

    name: ClassVar[str] = "equal_weight"
    uses_selection: ClassVar[bool] = True
    """False for engines that hold the whole eligible universe instead of the selection."""
    needs_covariance: ClassVar[bool] = False
    """True for engines that read ``moments.covariance`` (the guard checks its conditioning)."""
    reads: ClassVar[tuple[str, ...]] = ()
    """The settings ``weights`` reads: engines of a sweep's points that agree on them (and on
    the guard's settings) share each window's result. A plug-in without ``reads`` is taken to
    read every setting."""

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Weights for the columns of ``returns`` (they sum to one)."""
        n = returns.shape[1]
        return np.full(n, 1.0 / n)


class EqualWeight(Engine):
    """``1/n`` in every selected asset."""


class Market(Engine):
    """Baseline: equal weight of the whole eligible universe, ignoring selection."""

    name: ClassVar[str] = "market"
    uses_selection: ClassVar[bool] = False


class InverseVolatility(Engine):
    """Weights proportional to ``1 / volatility``, capped at ``max_weight``."""

    name: ClassVar[str] = "inverse_volatility"
    reads: ClassVar[tuple[str, ...]] = ("max_weight",)

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

    name: ClassVar[str] = "min_variance"
    needs_covariance: ClassVar[bool] = True
    reads: ClassVar[tuple[str, ...]] = ("max_weight",)

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Exact long-only minimum-variance weights.

        The uncapped optimum is solved once per window and held symbols (shared by a sweep's
        caps); when it meets the cap it is the capped optimum too, else it seeds the capped
        solve.
        """
        covariance = moments.covariance
        try:
            uncapped = moments.memo("min_variance", lambda: min_variance_weights(covariance))
        except SolverError:
            return min_variance_weights(covariance, settings.max_weight)
        if uncapped.max() <= effective_cap(len(uncapped), settings.max_weight):
            return uncapped
        return min_variance_weights(covariance, settings.max_weight, guess=uncapped)


class MaxSharpe(Engine):
    """Long-only maximum Sharpe ratio on shrunk mean returns, under the weight cap."""

    name: ClassVar[str] = "max_sharpe"
    needs_covariance: ClassVar[bool] = True
    reads: ClassVar[tuple[str, ...]] = ("max_weight", "risk_free_rate")

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Maximum Sharpe weights on means shrunk by :data:`MEAN_SHRINKAGE`.

        As for :class:`MinVariance`, the uncapped optimum (per window, held symbols and
        risk-free rate) is the answer when it meets the cap and seeds the capped solve if not.
        """
        means = returns.mean(axis=0)
        shrunk = (1.0 - MEAN_SHRINKAGE) * means + MEAN_SHRINKAGE * means.mean()
        daily_risk_free = daily_rate(settings.risk_free_rate)
        covariance = moments.covariance
        try:
            uncapped = moments.memo(
                f"max_sharpe:{daily_risk_free!r}",
                lambda: max_sharpe_weights(covariance, shrunk, daily_risk_free, 1.0),
            )
        except SolverError:
            return max_sharpe_weights(covariance, shrunk, daily_risk_free, settings.max_weight)
        if uncapped.max() <= effective_cap(len(uncapped), settings.max_weight):
            return uncapped
        return max_sharpe_weights(
            covariance, shrunk, daily_risk_free, settings.max_weight, guess=uncapped
        )


class RiskParity(Engine):
    """Equal risk contribution; capped at ``max_weight`` afterwards if it binds."""

    name: ClassVar[str] = "risk_parity"
    needs_covariance: ClassVar[bool] = True
    reads: ClassVar[tuple[str, ...]] = ("max_weight",)

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Equal-risk-contribution weights, capped."""
        uncapped = moments.memo("risk_parity", lambda: risk_parity_weights(moments.covariance))
        return capped_weights(uncapped, settings.max_weight)


class HierarchicalRiskParity(Engine):
    """Hierarchical risk parity; capped at ``max_weight`` afterwards if it binds."""

    name: ClassVar[str] = "hrp"
    needs_covariance: ClassVar[bool] = True
    reads: ClassVar[tuple[str, ...]] = ("max_weight",)

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """HRP weights, capped."""
        uncapped = moments.memo("hrp", lambda: hrp_weights(moments.covariance))
        return capped_weights(uncapped, settings.max_weight)


ENGINES: dict[EngineName, Engine] = {
    engine.name: engine  # type: ignore[misc]
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
"""The built-in engines by name (each also registered as an entry point; a test checks both)."""

ESTIMATOR_CAP_PARAMETER = "max_weights"
"""Constructor parameter of an estimator engine that receives the weight cap, when it has one."""
NEGLIGIBLE_NEGATIVE_WEIGHT = 1e-8
"""Negative weights of an estimator engine at least this close to 0 are solver noise, read as 0;
larger ones are left for the guard to veto (a long-only portfolio)."""


@dataclass(frozen=True)
class PluginEngine:
    """An engine given by a plug-in: its object, named as settings name it.

    Attributes mirror :class:`Engine`: ``name`` (the settings' spelling), ``uses_selection``
    and ``needs_covariance`` (read from the plug-in; default True and False).
    """

    name: str
    engine: Any = field(repr=False)
    uses_selection: bool = True
    needs_covariance: bool = False
    reads: tuple[str, ...] | None = None

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """The plug-in's weights (the guard judges them)."""
        return np.asarray(self.engine.weights(returns, settings, moments), dtype=np.float64)


@dataclass(frozen=True)
class EstimatorEngine:
    """An estimator class with ``fit(X)`` and ``weights_`` (any skfolio optimizer) as an engine.

    Each window builds a fresh estimator with the plug-in's parameters and fits it on the
    training returns (days x assets, simple returns): the estimator estimates its own moments
    and does not read the guard's covariance. When its constructor takes ``max_weights`` and the
    settings' spelling does not set it, it receives the weight cap (``max(max_weight, 1/n)``).
    Its weights are then tidied: negative weights within :data:`NEGLIGIBLE_NEGATIVE_WEIGHT` of 0
    become 0, the weights are renormalised to sum to one and capped like the built-in engines'
    (:func:`~quant_assets.allocation.solvers.capped_weights`); anything else (a short position,
    NaN) is left for the guard to veto.
    """

    name: str
    estimator: type = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)
    uses_selection: bool = True
    needs_covariance: bool = False
    reads: tuple[str, ...] | None = ("max_weight",)

    def weights(self, returns: FloatArray, settings: Settings, moments: Moments) -> FloatArray:
        """Fit a fresh estimator on ``returns`` and return its tidied ``weights_``."""
        params = dict(self.params)
        cap = effective_cap(returns.shape[1], settings.max_weight)
        takes_cap = _takes(self.estimator, ESTIMATOR_CAP_PARAMETER)
        if takes_cap and ESTIMATOR_CAP_PARAMETER not in params:
            params[ESTIMATOR_CAP_PARAMETER] = cap
        fitted = self.estimator(**params).fit(returns)
        raw = np.asarray(fitted.weights_, dtype=np.float64).reshape(-1)
        if raw.shape != (returns.shape[1],) or not np.isfinite(raw).all():
            return raw
        if (raw < -NEGLIGIBLE_NEGATIVE_WEIGHT).any():
            return raw
        tidy = np.clip(raw, 0.0, None)
        total = tidy.sum()
        return capped_weights(tidy / total, settings.max_weight) if total > 0 else raw


AnyEngine = Engine | PluginEngine | EstimatorEngine


@functools.lru_cache(maxsize=256)
def get_engine(name: str) -> AnyEngine:
    """The engine settings call ``name`` (a registered name or an import path), ready to run.

    Raises
    ------
    PluginError
        For an unknown or unimportable name, or a plug-in that is no engine (one line).
    """
    return engine_of(resolve("engine", name))


def engine_of(plugin: Plugin) -> AnyEngine:
    """Adapt a resolved engine plug-in to the engine shape.

    An :class:`Engine`-shaped class or instance is used as it is (a class is instantiated with
    the parameters); an estimator class with ``fit`` is wrapped in :class:`EstimatorEngine`.
    """
    target = plugin.target
    if inspect.isclass(target) and not hasattr(target, "weights") and hasattr(target, "fit"):
        return EstimatorEngine(plugin.name, target, plugin.params)
    built = plugin.build()
    if isinstance(built, Engine) and built.name == plugin.name:
        return built
    return PluginEngine(
        plugin.name,
        built,
        uses_selection=bool(getattr(built, "uses_selection", True)),
        needs_covariance=bool(getattr(built, "needs_covariance", False)),
        reads=None if getattr(built, "reads", None) is None else tuple(built.reads),
    )


def _takes(estimator: type, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(estimator).parameters
    except (TypeError, ValueError):
        return False


__all__ = [
    "ENGINES",
    "AnyEngine",
    "Engine",
    "EstimatorEngine",
    "PluginEngine",
    "PluginError",
    "effective_cap",
    "engine_of",
    "get_engine",
]
