"""Rolling volatility kernel: equal to pandas rolling std, exact where pandas' sums drift."""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from quant_kernels._rolling_volatility import rolling_volatility
from tests.quant_kernels.conftest import windows

RTOL = 1e-12
EXACT_RTOL = 1e-14
RNG = np.random.default_rng(20261102)


def pandas_rolling_std(returns: np.ndarray, window: int) -> np.ndarray:
    """`DataFrame.rolling(window).std()` (ddof=1, min_periods=window) of a symbols x time array."""
    return pd.DataFrame(returns.T).rolling(window).std().to_numpy().T


def exact_std(values: np.ndarray) -> float:
    """Sample standard deviation in rational arithmetic, rounded once to float, then its root."""
    exact = [Fraction(float(v)) for v in values]
    mean = sum(exact) / len(exact)
    variance = sum((v - mean) ** 2 for v in exact) / (len(exact) - 1)
    return math.sqrt(float(variance))


def random_returns_with_nans() -> np.ndarray:
    returns = RNG.standard_normal((5, 1500)) * 0.01
    returns[1, 100] = np.nan  # one missing day
    returns[2, 500:530] = np.nan  # a gap
    returns[3, :] = np.nan  # never traded
    returns[4] = np.round(returns[4], 3)  # ties
    return returns


@pytest.mark.parametrize("window", [21, 63, 252])
def test_rolling_volatility_equals_pandas_rolling_std_with_nans(window):
    returns = random_returns_with_nans()
    expected = pandas_rolling_std(returns, window)
    ours = rolling_volatility(returns, window)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))  # pandas' min_periods=window
    assert np.isnan(ours[1, 100 : 100 + window]).all() and np.isfinite(ours[1, 100 + window])
    assert np.isnan(ours[3]).all()
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=0)  # NaN where both are NaN
    for row in range(returns.shape[0]):
        np.testing.assert_array_equal(rolling_volatility(returns[row], window), ours[row])


@pytest.mark.parametrize("window", [21, 63])
def test_rolling_volatility_equals_pandas_on_read_only_input(window):
    returns = random_returns_with_nans()
    expected = pandas_rolling_std(returns, window)
    frozen = returns.copy()
    frozen.setflags(write=False)
    from_pandas = pd.DataFrame(returns).to_numpy()  # pandas 3 may hand out a read-only view
    for read_only in (frozen, from_pandas):
        ours = rolling_volatility(read_only, window)
        np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=0)
        np.testing.assert_array_equal(rolling_volatility(read_only[0], window), ours[0])
    assert not frozen.flags.writeable


@pytest.mark.parametrize("window", [21, 63, 252])
def test_rolling_volatility_equals_pandas_on_bundled_returns(
    bundled_closes: pd.DataFrame, window: int
):
    log_returns = np.log(bundled_closes).diff()
    ours = rolling_volatility(log_returns.to_numpy().T, window)
    expected = log_returns.rolling(window).std().to_numpy().T
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=0)


@pytest.mark.parametrize("window", [2, 3, 5, 10])
def test_rolling_volatility_is_exact_on_short_windows_and_flat_stretches(
    nineties_returns: np.ndarray, window: int
):
    # Short windows after large moves and runs of equal returns: pandas' running sums leave
    # residues there (up to 1e-5 relative at 3 days, and about 1e-9 for windows of zeros); the
    # kernel's re-anchored sums stay at the rounding level of a two-pass computation.
    returns = np.concatenate([nineties_returns[0, 1:600], np.zeros(40), np.full(30, 0.0123)])
    ours = rolling_volatility(returns, window)
    assert np.isnan(ours[: window - 1]).all()
    for i, values in windows(returns, window):
        expected = exact_std(values)
        if expected == 0.0:
            assert ours[i] == 0.0
        else:
            assert abs(ours[i] - expected) <= EXACT_RTOL * expected
    assert (ours[599 + window - 1 : 639] == 0.0).all()  # windows of zeros: exactly 0


def test_rolling_volatility_matches_std(nineties_returns: np.ndarray):
    returns = nineties_returns[0]
    for window, ddof in [(2, 1), (21, 1), (63, 0), (256, 1)]:
        vol = rolling_volatility(returns, window, ddof)
        for i, values in windows(returns, window):
            if np.isnan(values).any():
                assert np.isnan(vol[i])
            else:
                expected = np.std(values, ddof=ddof)
                assert abs(vol[i] - expected) <= 1e-11 * expected
    with pytest.raises(ValueError, match="ddof"):
        rolling_volatility(returns, 1, ddof=1)
    with pytest.raises(ValueError, match="ddof"):
        rolling_volatility(returns, 5, ddof=-1)
