"""Hansen's test for superior predictive ability (SPA) of each model against a benchmark.

Each model is tested on its own against the benchmark: the null hypothesis is that the model's
expected gain does not exceed the benchmark's. With gains as negative losses, the loss
differential is ``d_t = gain_model_t - gain_benchmark_t`` and the statistic is Hansen's
studentised ``T = max(sqrt(n) * mean(d) / omega, 0)``, with ``omega^2`` the stationary
bootstrap's long-run variance of ``d``. Its null distribution comes from the stationary
bootstrap of the recentred means: ``upper`` always recentres (White's reality check),
``consistent`` recentres only a mean above ``-sqrt(omega^2 / n * 2 log log n)`` (Hansen's
choice), ``lower`` only a positive mean. A small p-value says the model beat the benchmark.

For one model the studentisation cancels from the p-value, and the p-values equal
``arch.bootstrap.SPA(benchmark_losses, model_losses, block_size=b, reps=R, seed=s).pvalues``
exactly (tested): the draws are arch's (:func:`~quant_assets.overfitting.stationary_bootstrap.
bootstrap_draws`), and the resampled means come from the same kernel as the intervals.

References
----------
.. [1] P. R. Hansen, "A test for superior predictive ability", Journal of Business & Economic
   Statistics 23(4), 365-380 (2005).
.. [2] H. White, "A reality check for data snooping", Econometrica 68(5), 1097-1126 (2000).
.. [3] D. N. Politis and J. P. Romano, "The stationary bootstrap" (1994): the variance
   estimator's weights (eq. 6 of Hansen 2005).
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quant_assets.overfitting.stationary_bootstrap import (
    DEFAULT_REPLICATIONS,
    bootstrap_draws,
    optimal_block_length,
)
from quant_kernels._stationary_bootstrap import stationary_bootstrap_statistics

__all__ = ["SpaResult", "superior_predictive_ability"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SpaResult:
    """SPA test of each model against the benchmark; every array has shape (n_models,)."""

    statistic: FloatArray
    """Hansen's ``max(sqrt(n) * mean(d) / omega, 0)``."""
    pvalue_lower: FloatArray
    pvalue_consistent: FloatArray
    """Hansen's consistent p-value: the one to report. All three are NaN for a model whose
    differential does not vary (e.g. the benchmark itself)."""
    pvalue_upper: FloatArray
    block_length: FloatArray
    """Mean block length of the stationary bootstrap per model."""


def superior_predictive_ability(
    benchmark_gains: npt.ArrayLike,
    model_gains: npt.ArrayLike,
    seed: int,
    reps: int = DEFAULT_REPLICATIONS,
    block_length: npt.ArrayLike | None = None,
) -> SpaResult:
    """Test each model's gains against the benchmark's (Hansen's SPA, stationary bootstrap).

    Parameters
    ----------
    benchmark_gains : array of shape (n_obs,)
        The benchmark's gains (e.g. daily net returns), finite.
    model_gains : array of shape (n_obs,) or (n_obs, n_models)
        The models' gains on the same dates, finite.
    seed : int
        Seed of the bootstrap draws (shared by all models: common random numbers).
    reps : int, default 1000
        Bootstrap replications.
    block_length : float or array of shape (n_models,), optional
        Mean block length; by default :func:`optimal_block_length` of each loss differential.

    Returns
    -------
    SpaResult
        Statistic and lower, consistent and upper p-values per model.

    Raises
    ------
    ValueError
        If the gains are not finite or their lengths differ.
    """
    benchmark = np.asarray(benchmark_gains, dtype=np.float64)
    models = np.asarray(model_gains, dtype=np.float64)
    models = models.reshape(len(models), -1)
    if benchmark.ndim != 1 or len(benchmark) != len(models):
        raise ValueError(
            f"`benchmark_gains` must be 1-D and as long as `model_gains`, "
            f"got {benchmark.shape} and {models.shape}."
        )
    if not (np.all(np.isfinite(benchmark)) and np.all(np.isfinite(models))):
        raise ValueError("`benchmark_gains` and `model_gains` must be finite.")
    # arch's loss differential: benchmark loss minus model loss, losses being negative gains
    differential = -benchmark[:, None] - (-models)
    n_obs, n_models = differential.shape
    lengths = optimal_block_length(differential) if block_length is None else block_length
    lengths = np.ascontiguousarray(
        np.broadcast_to(np.asarray(lengths, dtype=np.float64), (n_models,))
    )
    mean = differential.mean(axis=0)
    variance = _long_run_variance(differential - mean, lengths)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.where(variance > 0, np.sqrt(n_obs) * mean / np.sqrt(variance), 0.0)
    threshold = -np.sqrt(variance / n_obs * 2.0 * np.log(np.log(n_obs)))
    recentred = {
        "lower": np.maximum(mean, 0.0),
        "consistent": np.where(mean >= threshold, mean, 0.0),
        "upper": mean,
    }
    draws = bootstrap_draws(n_obs, reps, seed)
    sums = stationary_bootstrap_statistics(
        np.ascontiguousarray(differential.T),
        np.zeros((n_models, n_obs)),
        draws.starts,
        draws.uniforms,
        lengths,
    )[:, :, 0]
    resampled_means = sums / n_obs
    varies = variance > 0  # a constant differential (the benchmark itself) tests nothing
    pvalues = {
        name: np.where(
            varies, np.mean(resampled_means - centre[:, None] > mean[:, None], axis=1), np.nan
        )
        for name, centre in recentred.items()
    }
    return SpaResult(
        statistic=np.maximum(statistic, 0.0),
        pvalue_lower=pvalues["lower"],
        pvalue_consistent=pvalues["consistent"],
        pvalue_upper=pvalues["upper"],
        block_length=lengths,
    )


def _long_run_variance(demeaned: FloatArray, block_length: FloatArray) -> FloatArray:
    r"""Hansen's (2005, eq. 6) variance of :math:`\sqrt n \bar d` under the stationary bootstrap.

    :math:`\hat\omega^2 = \hat\gamma_0 + 2\sum_{i=1}^{n-1}\kappa_i\hat\gamma_i` with
    :math:`\kappa_i = (1 - i/n)(1 - q)^i + (i/n)(1 - q)^{n - i}`, :math:`q = 1/b`, and the
    autocovariances :math:`\hat\gamma_i = n^{-1}\sum_t d_t d_{t+i}` (by FFT).
    """
    n_obs = demeaned.shape[0]
    size = 1 << int(np.ceil(np.log2(2 * n_obs)))
    spectrum = np.fft.rfft(demeaned, n=size, axis=0)
    autocovariance = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=0)[:n_obs] / n_obs
    lags = np.arange(1, n_obs)[:, None]
    keep = 1.0 - 1.0 / block_length[None, :]
    kappa = (1.0 - lags / n_obs) * keep**lags + (lags / n_obs) * keep ** (n_obs - lags)
    return np.asarray(
        autocovariance[0] + 2.0 * np.sum(kappa * autocovariance[1:], axis=0), dtype=np.float64
    )
