"""Permutation entropy kernels: parity with antropy, rolling == scalar, NaNs, edges."""

import antropy
import numpy as np
import pandas as pd
import pytest

from quant_kernels._permutation_entropy import permutation_entropy, rolling_permutation_entropy
from tests.quant_kernels.conftest import windows

TOL = 1e-12
RNG = np.random.default_rng(20261101)


def antropy_pe(x, order=3, delay=1, normalize=True):
    return antropy.perm_entropy(x, order=order, delay=delay, normalize=normalize)


@pytest.mark.parametrize("order", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("delay", [1, 2, 3])
@pytest.mark.parametrize("normalize", [True, False])
def test_perm_entropy_matches_antropy_on_random_data(order, delay, normalize):
    for length in (order * delay + 1, 50, 1000):
        x = RNG.standard_normal(length)
        ties = np.round(x, 1)  # about 20 distinct values: many ties
        for series in (x, ties):
            ours = permutation_entropy(series, order, delay, normalize)
            assert abs(ours - antropy_pe(series, order, delay, normalize)) <= TOL


def test_perm_entropy_ties_rank_by_position():
    # Equal values rank by position (stable argsort): [1, 1, 1] is the "increasing" pattern.
    assert permutation_entropy(np.ones(20)) == 0.0
    x = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    for order in (2, 3, 4, 5):
        assert abs(permutation_entropy(x, order) - antropy_pe(x, order)) <= TOL


def test_perm_entropy_matches_antropy_on_bundled_nineties(
    nineties: pd.DataFrame, nineties_returns: np.ndarray
):
    prices = np.ascontiguousarray(nineties.to_numpy().T)
    assert np.mean(nineties_returns[:, 1:] == 0) > 0.05  # plenty of ties
    for panel in (nineties_returns[:, 1:], prices):
        for row in panel:
            for order in (3, 4, 5):
                assert abs(permutation_entropy(row, order) - antropy_pe(row, order)) <= TOL
    rolling = rolling_permutation_entropy(nineties_returns, 128)
    checked = 0
    for symbol in range(nineties_returns.shape[0]):
        for i, window in windows(nineties_returns[symbol], 128, step=11):
            expected = np.nan if np.isnan(window).any() else antropy_pe(window)
            np.testing.assert_allclose(rolling[symbol, i], expected, rtol=0, atol=TOL)
            checked += 1
    assert checked > 4000


def test_perm_entropy_nan():
    x = RNG.standard_normal(300)
    x[[40, 41, 200]] = np.nan
    assert np.isnan(permutation_entropy(x))
    assert np.isnan(antropy_pe(x))  # antropy agrees for orders 3 and 4
    window = 32
    rolling = rolling_permutation_entropy(x, window)
    for i, values in windows(x, window):
        if np.isnan(values).any():
            assert np.isnan(rolling[i])
        else:
            assert abs(rolling[i] - antropy_pe(values)) <= TOL
    assert np.isnan(rolling[: window - 1]).all()
    assert np.isfinite(rolling[41 + window :]).sum() > 0


@pytest.mark.parametrize(
    ("window", "order", "delay"),
    [(3, 3, 1), (5, 3, 2), (10, 3, 1), (17, 4, 3), (64, 3, 1), (64, 5, 2), (100, 6, 1)],
)
def test_rolling_perm_entropy_equals_scalar_per_window(window, order, delay):
    x = np.round(RNG.standard_normal(400), 1)
    rolling = rolling_permutation_entropy(x, window, order, delay)
    assert np.isnan(rolling[: window - 1]).all()
    for normalize in (True, False):
        rolling = rolling_permutation_entropy(x, window, order, delay, normalize)
        expected = [permutation_entropy(v, order, delay, normalize) for _, v in windows(x, window)]
        np.testing.assert_array_equal(rolling[window - 1 :], expected)  # bit for bit


def test_rolling_perm_entropy_edges():
    x = RNG.standard_normal(50)
    whole = rolling_permutation_entropy(x, 50)
    assert np.isnan(whole[:-1]).all() and whole[-1] == permutation_entropy(x)
    assert np.isnan(rolling_permutation_entropy(x, 51)).all()
    one_pattern = rolling_permutation_entropy(x, 5, order=3, delay=2)  # one pattern per window
    assert (one_pattern[4:] == 0.0).all()
    for window, order, delay in [(2, 3, 1), (3, 4, 1), (4, 3, 2)]:  # window <= (order-1)*delay
        with pytest.raises(ValueError, match="too short"):
            rolling_permutation_entropy(x, window, order, delay)
        with pytest.raises(ValueError):
            antropy_pe(x[:window], order, delay)
    with pytest.raises(ValueError):
        rolling_permutation_entropy(x, 10, order=1)
    with pytest.raises(ValueError):
        rolling_permutation_entropy(np.zeros((2, 2, 2)), 2)
    with pytest.raises(ValueError, match="out must be"):
        rolling_permutation_entropy(x, 10, out=np.empty(49))
