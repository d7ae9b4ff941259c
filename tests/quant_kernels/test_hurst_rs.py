"""Hurst R/S kernels: parity with nolds (fit="poly"), flat blocks, rolling == scalar, edges."""

import nolds
import nolds.measures
import numpy as np
import pandas as pd
import pytest

from quant_kernels._hurst_rs import hurst_rs, rolling_hurst_rs
from quant_kernels._hurst_tables import logmid_n
from tests.quant_kernels.conftest import windows

TOL = 1e-12
RNG = np.random.default_rng(20261101)


def _nolds_rs_skipping_flat(data, n, unbiased=True):
    """nolds 0.6.2's `rs`, verbatim, except that blocks of equal values are also skipped."""
    data = np.asarray(data)
    total_n = len(data)
    m = total_n // n
    seqs = np.reshape(data[: total_n - (total_n % n)], (m, n))
    y = np.cumsum(seqs - np.mean(seqs, axis=1).reshape((m, 1)), axis=1)
    r = np.max(y, axis=1) - np.min(y, axis=1)
    s = np.std(seqs, axis=1, ddof=1 if unbiased else 0)
    keep = (r != 0) & (np.max(seqs, axis=1) != np.min(seqs, axis=1))
    r, s = r[keep], s[keep]
    return np.nan if len(r) == 0 else np.mean(r / s)


def nolds_hurst(x, nvals=None, corrected=True, unbiased=True, skip_flat=False):
    """`nolds.hurst_rs(fit="poly")`; with `skip_flat`, nolds with blocks of equal values skipped."""
    kwargs = {"nvals": nvals, "fit": "poly", "corrected": corrected, "unbiased": unbiased}
    if not skip_flat:
        return nolds.hurst_rs(x, **kwargs)
    original = nolds.measures.rs
    nolds.measures.rs = _nolds_rs_skipping_flat
    try:
        return nolds.hurst_rs(x, **kwargs)
    finally:
        nolds.measures.rs = original


@pytest.mark.parametrize("corrected", [True, False])
@pytest.mark.parametrize("unbiased", [True, False])
def test_hurst_matches_nolds_poly_on_random_data(corrected, unbiased):
    for length, nvals in [(100, None), (256, None), (1000, None), (500, [4, 8, 16, 32, 64])]:
        noise = RNG.standard_normal(length)
        walk = np.cumsum(noise) * 0.01 + 0.02 * noise  # persistent increments
        for x in (noise, walk, np.round(noise, 1)):
            ours = hurst_rs(x, nvals, corrected, unbiased)
            expected = nolds_hurst(x, nvals, corrected, unbiased)
            assert abs(ours - expected) <= TOL


def test_hurst_matches_nolds_on_bundled_nineties(nineties_returns: np.ndarray):
    window = 256
    rolling = rolling_hurst_rs(nineties_returns, window)
    unaffected = 0
    for symbol in range(nineties_returns.shape[0]):
        for i, values in windows(nineties_returns[symbol], window, step=37):
            if np.isnan(values).any():
                assert np.isnan(rolling[symbol, i])
                continue
            expected = nolds_hurst(values, skip_flat=True)
            assert abs(rolling[symbol, i] - expected) <= TOL
            plain = nolds_hurst(values)
            if plain == expected:
                unaffected += 1
            assert abs(rolling[symbol, i] - plain) <= TOL or plain != expected
    assert unaffected > 1000  # returns rarely hold blocks of equal non-zero values


def test_hurst_on_flat_blocks_is_finite_and_matches_nolds_skipping_them(nineties: pd.DataFrame):
    # Equal prices in a row (rounded 1990s closes) make blocks of equal non-zero values: nolds'
    # float mean of such a block is not exact, so it averages in a ratio of rounding noise.
    block = np.full(10, 0.3)
    y = np.cumsum(block - block.mean())
    assert np.ptp(y) != 0  # nolds' range of a flat block: noise, not 0
    assert 8 < np.ptp(y) / np.std(block, ddof=1) < 9  # and its R/S a meaningless 8.5
    x = RNG.standard_normal(256) * 0.01
    x[60:140] = 0.3
    nvals = [5, 10, 20, 40]
    ours = hurst_rs(x, nvals)
    assert np.isfinite(ours)
    assert abs(ours - nolds_hurst(x, nvals, skip_flat=True)) <= TOL
    assert abs(ours - nolds_hurst(x, nvals)) > 1e-3  # plain nolds averages the noise in
    flat_windows = 0
    prices = nineties.to_numpy().T
    for row in prices[:6]:
        for _, values in windows(row, 128, step=151):
            ours = hurst_rs(values)
            expected = nolds_hurst(values, skip_flat=True)
            assert abs(ours - expected) <= TOL
            flat_windows += any(
                np.ptp(values[j : j + n]) == 0 for n in logmid_n(128) for j in range(0, 128, n)
            )
    assert flat_windows > 0


def test_hurst_degenerate_inputs():
    assert np.isnan(hurst_rs(np.zeros(200)))
    assert np.isnan(nolds_hurst(np.zeros(200)))
    assert np.isnan(hurst_rs(np.full(200, 3.7)))
    assert np.isnan(hurst_rs([1.0]))
    x = RNG.standard_normal(300)
    x[100] = np.nan
    assert np.isnan(hurst_rs(x))
    rolling = rolling_hurst_rs(x, 64)
    for i, values in windows(x, 64, step=7):
        if np.isnan(values).any():
            assert np.isnan(rolling[i])
        else:
            assert abs(rolling[i] - nolds_hurst(values)) <= TOL
    with pytest.raises(ValueError):
        rolling_hurst_rs(x, 3)


@pytest.mark.parametrize(
    ("window", "nvals", "corrected", "unbiased"),
    [(16, None, True, True), (64, None, False, False), (128, [4, 8, 16, 32], True, False)],
)
def test_rolling_hurst_equals_scalar_per_window(window, nvals, corrected, unbiased):
    x = RNG.standard_normal(500) * 0.01
    x[200:230] = 0.0  # flat blocks
    rolling = rolling_hurst_rs(x, window, nvals, corrected, unbiased)
    sizes = logmid_n(window) if nvals is None else nvals
    expected = [hurst_rs(v, sizes, corrected, unbiased) for _, v in windows(x, window)]
    assert np.isnan(rolling[: window - 1]).all()
    np.testing.assert_array_equal(rolling[window - 1 :], expected)  # bit for bit


def test_rolling_hurst_window_equals_length():
    x = RNG.standard_normal(300)
    whole = rolling_hurst_rs(x, 300)
    assert np.isnan(whole[:-1]).all() and whole[-1] == hurst_rs(x)
    assert np.isnan(rolling_hurst_rs(x, 301)).all()
