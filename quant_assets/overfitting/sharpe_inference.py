"""How much a Sharpe ratio says: probabilistic and deflated Sharpe, track record, trials.

All Sharpe ratios here are per period (per day for daily returns), not annualised: the mean
excess return over the sample standard deviation (``ddof=1``). Skewness and kurtosis are the
population standardised moments (raw kurtosis: 3 for a normal), as skfolio 1.12 computes them,
so :func:`probabilistic_sharpe_ratio` and :func:`deflated_sharpe_ratio` equal
``skfolio.measures.probabilistic_sharpe_ratio`` and ``deflated_sharpe_ratio`` (tested to 1e-9).

- :func:`sharpe_moments`: Sharpe ratio, skewness, kurtosis and length of each return series.
- :func:`probabilistic_sharpe_ratio` (PSR): the probability that the true Sharpe ratio exceeds a
  benchmark, given the sample's length, skewness and kurtosis (Bailey and Lopez de Prado 2012).
- :func:`expected_maximum_sharpe`: the Sharpe ratio the best of ``N`` zero-skill trials shows
  by luck alone; :func:`deflated_sharpe_ratio` (DSR) is the PSR against it (Bailey and Lopez de
  Prado 2014).
- :func:`minimum_track_record_length`: how many observations a Sharpe ratio needs before it is
  above a benchmark with a given confidence (2012).
- :func:`minimum_backtest_length`: how many years of data keep the best of ``N`` zero-skill
  trials below a given annual Sharpe ratio in expectation (Bailey, Borwein, Lopez de Prado and
  Zhu 2014).
- :func:`effective_number_of_trials`: how many independent ideas correlated trials amount to,
  as the effective rank of their correlation matrix (Roy and Vetterli 2007).

References
----------
.. [1] D. H. Bailey and M. Lopez de Prado, "The Sharpe ratio efficient frontier", Journal of
   Risk 15(2), 3-44 (2012).
.. [2] D. H. Bailey and M. Lopez de Prado, "The deflated Sharpe ratio: correcting for selection
   bias, backtest overfitting and non-normality", Journal of Portfolio Management 40(5), 94-107
   (2014).
.. [3] D. H. Bailey, J. M. Borwein, M. Lopez de Prado and Q. J. Zhu, "Pseudo-mathematics and
   financial charlatanism: the effects of backtest overfitting on out-of-sample performance",
   Notices of the AMS 61(5), 458-471 (2014).
.. [4] O. Roy and M. Vetterli, "The effective rank: a measure of effective dimensionality",
   15th European Signal Processing Conference, 606-610 (2007).
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = [
    "DEFAULT_CONFIDENCE",
    "SharpeMoments",
    "deflated_sharpe_ratio",
    "effective_number_of_trials",
    "expected_maximum_sharpe",
    "minimum_backtest_length",
    "minimum_track_record_length",
    "probabilistic_sharpe_ratio",
    "sharpe_moments",
]

FloatArray = npt.NDArray[np.float64]

DEFAULT_CONFIDENCE = 0.95
"""Confidence of the minimum track record length (and the DSR's pass mark in the reports)."""
MIN_OBSERVATIONS = 3
"""Fewer observations than this leave skewness and kurtosis, hence the PSR, undefined (NaN)."""


@dataclass(frozen=True)
class SharpeMoments:
    """Per-period Sharpe ratio and the higher moments of one or more return series.

    Each attribute is a float array of shape (n_series,), or a 0-d array for one series.
    """

    sharpe: FloatArray
    """Mean excess return over the sample standard deviation (``ddof=1``); NaN if it is 0."""
    skewness: FloatArray
    """Third standardised central moment (population)."""
    kurtosis: FloatArray
    """Fourth standardised central moment (population, raw: 3 for a normal)."""
    n_obs: FloatArray
    """Number of non-NaN observations."""


def sharpe_moments(returns: npt.ArrayLike, risk_free_rate: float = 0.0) -> SharpeMoments:
    """Sharpe ratio, skewness, kurtosis and length of each series, NaNs skipped.

    Parameters
    ----------
    returns : array of shape (n_obs,) or (n_obs, n_series)
        Per-period returns; NaNs are skipped per series.
    risk_free_rate : float, default 0.0
        Per-period risk-free rate subtracted from the mean.

    Returns
    -------
    SharpeMoments
        Arrays of shape (n_series,) (0-d for 1-D input).

    Notes
    -----
    The estimators are skfolio 1.12's: sample standard deviation, and population skewness and
    kurtosis of the deviations from the mean, re-centred once more to remove the rounding of
    the mean; they are NaN when the second moment is at most ``(eps * mean) ** 2``.
    """
    x = np.asarray(returns, dtype=np.float64)
    present = ~np.isnan(x)
    n_obs = present.sum(axis=0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.nansum(x, axis=0) / n_obs
        deviations = np.where(present, x - mean, 0.0)
        deviations = np.where(present, deviations - deviations.sum(axis=0) / n_obs, 0.0)
        second = (deviations**2).sum(axis=0) / n_obs
        third = (deviations**3).sum(axis=0) / n_obs
        fourth = (deviations**4).sum(axis=0) / n_obs
        undefined = second <= (np.finfo(np.float64).eps * mean) ** 2
        skewness = np.where(undefined, np.nan, third / second**1.5)
        kurtosis = np.where(undefined, np.nan, fourth / second**2)
        stdev = np.sqrt(np.nansum((x - mean) ** 2, axis=0) / (n_obs - 1.0))
        sharpe = np.where(stdev > 0, (mean - risk_free_rate) / stdev, np.nan)
    return SharpeMoments(
        sharpe=np.asarray(sharpe, dtype=np.float64),
        skewness=np.asarray(skewness, dtype=np.float64),
        kurtosis=np.asarray(kurtosis, dtype=np.float64),
        n_obs=np.asarray(n_obs, dtype=np.float64),
    )


def probabilistic_sharpe_ratio(
    moments: SharpeMoments, benchmark_sharpe: npt.ArrayLike = 0.0
) -> FloatArray:
    r"""Probability that the true Sharpe ratio exceeds ``benchmark_sharpe`` (the PSR).

    .. math::

        PSR(SR^*) = \Phi\left[\frac{(\hat{SR} - SR^*)\sqrt{T - 1}}
        {\sqrt{1 - \gamma_3 \hat{SR} + \frac{\gamma_4 - 1}{4} \hat{SR}^2}}\right]

    Parameters
    ----------
    moments : SharpeMoments
        Per-period Sharpe ratio, skewness, raw kurtosis and length (:func:`sharpe_moments`).
    benchmark_sharpe : float or array broadcastable to the moments, default 0.0
        Per-period benchmark Sharpe ratio :math:`SR^*`.

    Returns
    -------
    array
        The PSR per series; NaN with fewer than three observations, an undefined Sharpe ratio
        or moment, or a variance adjustment that is not positive.

    References
    ----------
    .. [1] Bailey and Lopez de Prado (2012), "The Sharpe ratio efficient frontier", eq. 11.
    """
    sr = moments.sharpe
    with np.errstate(divide="ignore", invalid="ignore"):
        adjustment = 1.0 - moments.skewness * sr + (moments.kurtosis - 1.0) / 4.0 * sr**2
        z = (sr - np.asarray(benchmark_sharpe)) * np.sqrt(moments.n_obs - 1.0)
        value = stats.norm.cdf(z / np.sqrt(adjustment))
    valid = (moments.n_obs >= MIN_OBSERVATIONS) & (adjustment > 0)
    return np.asarray(np.where(valid, value, np.nan), dtype=np.float64)


def expected_maximum_sharpe(
    n_trials: npt.ArrayLike, trial_sharpe_std: npt.ArrayLike, trial_sharpe_mean: float = 0.0
) -> FloatArray:
    r"""Expected maximum Sharpe ratio of ``n_trials`` independent trials (false strategy theorem).

    .. math::

        E[\max SR] \approx \mu + \sigma\left[(1 - \gamma)\Phi^{-1}\left(1 - \frac{1}{N}\right)
        + \gamma \Phi^{-1}\left(1 - \frac{1}{N e}\right)\right]

    with :math:`\gamma` the Euler-Mascheroni constant.

    Parameters
    ----------
    n_trials : float or array
        Number of independent trials :math:`N` (fractional for an effective count), >= 1.
    trial_sharpe_std : float or array
        Standard deviation :math:`\sigma` of the trials' Sharpe ratios, in the units the result
        should have (per period or annual).
    trial_sharpe_mean : float, default 0.0
        Mean :math:`\mu` of the trials' Sharpe ratios (0: trials without skill).

    Returns
    -------
    array
        The expected maximum; ``trial_sharpe_mean`` for one trial or no dispersion.

    Raises
    ------
    ValueError
        If a number of trials is below 1 or a standard deviation is negative.

    References
    ----------
    .. [1] Bailey and Lopez de Prado (2014), "The deflated Sharpe ratio", appendix (eq. 7).
    """
    n = np.asarray(n_trials, dtype=np.float64)
    sigma = np.asarray(trial_sharpe_std, dtype=np.float64)
    if np.any(n < 1):
        raise ValueError(f"`n_trials` must be >= 1, got {n}.")
    if np.any(sigma < 0):
        raise ValueError(f"`trial_sharpe_std` must be >= 0, got {sigma}.")
    gamma = np.euler_gamma
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = (1.0 - gamma) * stats.norm.ppf(1.0 - 1.0 / n) + gamma * stats.norm.ppf(
            1.0 - 1.0 / (n * np.e)
        )
        selected = np.where((n == 1) | (sigma == 0), 0.0, sigma * spread)
    return np.asarray(trial_sharpe_mean + selected, dtype=np.float64)


def deflated_sharpe_ratio(
    moments: SharpeMoments,
    trial_sharpes: npt.ArrayLike,
    n_trials: npt.ArrayLike | None = None,
) -> FloatArray:
    """PSR against the expected maximum Sharpe ratio of the trials (the DSR).

    Parameters
    ----------
    moments : SharpeMoments
        Moments of the selected strategies (:func:`sharpe_moments`).
    trial_sharpes : array of shape (n_trials,)
        Per-period Sharpe ratios of every trial of the search, the selected ones included;
        NaNs are dropped. Their sample standard deviation (``ddof=1``) is the dispersion.
    n_trials : float or array, optional
        Number of independent trials; by default the number of (non-NaN) trial Sharpe ratios,
        as skfolio counts them. Pass :func:`effective_number_of_trials` for correlated trials.

    Returns
    -------
    array
        The DSR per series (NaN where the PSR is undefined).

    Raises
    ------
    ValueError
        If no trial Sharpe ratio is finite.

    References
    ----------
    .. [1] Bailey and Lopez de Prado (2014), "The deflated Sharpe ratio", eq. 2.
    """
    trials = np.asarray(trial_sharpes, dtype=np.float64).ravel()
    trials = trials[~np.isnan(trials)]
    if len(trials) == 0 or not np.all(np.isfinite(trials)):
        raise ValueError(f"`trial_sharpes` must hold finite Sharpe ratios, got {trials}.")
    count = len(trials) if n_trials is None else n_trials
    dispersion = float(trials.std(ddof=1)) if len(trials) > 1 else 0.0
    return probabilistic_sharpe_ratio(moments, expected_maximum_sharpe(count, dispersion))


def minimum_track_record_length(
    moments: SharpeMoments,
    benchmark_sharpe: npt.ArrayLike = 0.0,
    confidence: float = DEFAULT_CONFIDENCE,
) -> FloatArray:
    r"""Observations needed for the Sharpe ratio to exceed ``benchmark_sharpe`` with confidence.

    .. math::

        MinTRL = 1 + \left(1 - \gamma_3 \hat{SR} + \frac{\gamma_4 - 1}{4}\hat{SR}^2\right)
        \left(\frac{\Phi^{-1}(\alpha)}{\hat{SR} - SR^*}\right)^2

    Parameters
    ----------
    moments : SharpeMoments
        Per-period moments of the series (:func:`sharpe_moments`).
    benchmark_sharpe : float or array, default 0.0
        Per-period benchmark Sharpe ratio.
    confidence : float, default 0.95
        The confidence :math:`\alpha`.

    Returns
    -------
    array
        The minimum number of observations per series; NaN where the Sharpe ratio is not above
        the benchmark (no track record is long enough) or the adjustment is not positive.

    References
    ----------
    .. [1] Bailey and Lopez de Prado (2012), "The Sharpe ratio efficient frontier", eq. 12.
    """
    sr = moments.sharpe
    edge = sr - np.asarray(benchmark_sharpe)
    with np.errstate(divide="ignore", invalid="ignore"):
        adjustment = 1.0 - moments.skewness * sr + (moments.kurtosis - 1.0) / 4.0 * sr**2
        length = 1.0 + adjustment * (stats.norm.ppf(confidence) / edge) ** 2
    return np.asarray(np.where((edge > 0) & (adjustment > 0), length, np.nan), dtype=np.float64)


def minimum_backtest_length(n_trials: float, annual_sharpe: float) -> float:
    r"""Years of data with which the best of ``n_trials`` lucky trials shows ``annual_sharpe``.

    .. math::

        MinBTL \approx \left(\frac{(1 - \gamma)\Phi^{-1}(1 - 1/N)
        + \gamma\Phi^{-1}(1 - 1/(N e))}{E[\max SR_{annual}]}\right)^2

    Parameters
    ----------
    n_trials : float
        Number of independent trials (> 1).
    annual_sharpe : float
        The annual in-sample Sharpe ratio of the best trial (> 0).

    Returns
    -------
    float
        Years of data: with less, a Sharpe ratio of ``annual_sharpe`` is expected from the best
        of ``n_trials`` skill-less trials (whose annual Sharpe ratios have unit variance per
        year of data).

    Raises
    ------
    ValueError
        If ``n_trials`` is not above 1 or ``annual_sharpe`` is not positive.

    References
    ----------
    .. [1] Bailey, Borwein, Lopez de Prado and Zhu (2014), "Pseudo-mathematics and financial
       charlatanism", Theorem 2.
    """
    if n_trials <= 1:
        raise ValueError(f"`n_trials` must be > 1, got {n_trials}.")
    if annual_sharpe <= 0:
        raise ValueError(f"`annual_sharpe` must be > 0, got {annual_sharpe}.")
    spread = float(expected_maximum_sharpe(n_trials, 1.0))
    return (spread / annual_sharpe) ** 2


def effective_number_of_trials(returns: npt.ArrayLike) -> float:
    r"""Effective number of independent trials: the effective rank of their correlation matrix.

    .. math::

        N_{eff} = \exp\left(-\sum_i p_i \ln p_i\right), \quad p_i = \lambda_i / \sum_j \lambda_j

    with :math:`\lambda_i` the eigenvalues of the trials' return correlation matrix. It is
    ``N`` for uncorrelated trials, 1 for perfectly correlated ones, and in between for a dense
    grid of similar settings.

    Parameters
    ----------
    returns : array of shape (n_obs, n_trials)
        The trials' per-period returns over common dates; rows holding a NaN are dropped, and
        so are constant trials (they carry no information on correlation, and count as one
        trial each).

    Returns
    -------
    float
        The effective number of trials, between 1 and ``n_trials``.

    Raises
    ------
    ValueError
        If ``returns`` is not 2-D with at least one trial.

    References
    ----------
    .. [1] Roy and Vetterli (2007), "The effective rank: a measure of effective dimensionality".
    """
    x = np.asarray(returns, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"`returns` must be (n_obs, n_trials) with a trial, got {x.shape}.")
    x = x[~np.isnan(x).any(axis=1)]
    varying = x.std(axis=0) > 0 if len(x) > 1 else np.zeros(x.shape[1], dtype=bool)
    constant = int((~varying).sum())
    if varying.sum() < 2:
        return float(max(1, int(varying.sum()) + constant))
    eigenvalues = np.clip(np.linalg.eigvalsh(np.corrcoef(x[:, varying], rowvar=False)), 0, None)
    share = eigenvalues / eigenvalues.sum()
    share = share[share > 0]
    return float(np.exp(-(share * np.log(share)).sum()) + constant)
