"""Covariance estimators shared by the engines, and the conditioning the guard watches."""

import numpy as np

from quant_assets.settings import CovarianceName
from quant_assets.typing import FloatArray


def estimate_covariance(returns: FloatArray, method: CovarianceName = "sample") -> FloatArray:
    """Covariance of daily returns (rows are days, columns are assets).

    ``sample`` is the unbiased sample covariance (``ddof=1``, as skfolio's
    ``EmpiricalCovariance``); ``ledoit_wolf`` is scikit-learn's Ledoit-Wolf shrinkage toward a
    scaled identity. NaNs propagate: the guard vetoes what they produce.
    """
    if returns.ndim != 2:
        raise ValueError(f"returns must be 2-D (days x assets), got shape {returns.shape}")
    days, assets = returns.shape
    if days < 2:
        return np.full((assets, assets), np.nan)
    if method == "sample":
        return np.atleast_2d(np.cov(returns, rowvar=False, ddof=1))
    if method == "ledoit_wolf":
        if not np.isfinite(returns).all():
            return np.full((assets, assets), np.nan)
        from sklearn.covariance import ledoit_wolf

        covariance, _ = ledoit_wolf(returns, assume_centered=False)
        return np.asarray(covariance, dtype=np.float64)
    raise ValueError(f"unknown covariance estimator {method!r}; choose 'sample' or 'ledoit_wolf'")


def sample_variances(returns: FloatArray) -> FloatArray:
    """Unbiased sample variances of each column (the diagonal of the ``sample`` covariance)."""
    days, assets = returns.shape
    if days < 2:
        return np.full(assets, np.nan)
    centered = returns - returns.mean(axis=0)
    return np.asarray(np.einsum("ij,ij->j", centered, centered) / (days - 1), dtype=np.float64)


def correlation_spectrum(covariance: FloatArray) -> tuple[float, float] | None:
    """Smallest and largest eigenvalue of the correlation matrix of ``covariance``.

    The correlation is ``D^-1/2 S D^-1/2`` with ``D = diag(S)``: one symmetric
    eigendecomposition (``eigvalsh``). None when it is undefined: a variance that is zero,
    negative or not finite, or any entry not finite.
    """
    variances = np.diag(covariance)
    if not np.isfinite(covariance).all() or (variances <= 0.0).any():
        return None
    scale = 1.0 / np.sqrt(variances)
    eigenvalues = np.linalg.eigvalsh(covariance * scale[:, None] * scale[None, :])
    return float(eigenvalues[0]), float(eigenvalues[-1])
