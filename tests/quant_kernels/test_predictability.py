"""Predictability kernels: parity with antropy and nolds, rolling == scalar, no allocation."""

import tracemalloc

import antropy
import nolds
import nolds.measures
import numpy as np
import pandas as pd
import pytest

from quant_kernels import predictability as qp
from quant_kernels.predictability import (
    efficiency_ratio,
    hurst_rs,
    logmid_n,
    permutation_entropy,
    rolling_hurst_rs,
    rolling_permutation_entropy,
    rolling_volatility,
)

TOL = 1e-12
RNG = np.random.default_rng(20261101)


# ------------------------------------------------------------------------------------------------
# References
# ------------------------------------------------------------------------------------------------


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


def antropy_pe(x, order=3, delay=1, normalize=True):
    return antropy.perm_entropy(x, order=order, delay=delay, normalize=normalize)


def windows(x, window, step=1):
    """(end index, window) pairs of x, every `step` ends."""
    return [(i, x[i - window + 1 : i + 1]) for i in range(window - 1, len(x), step)]


@pytest.fixture(scope="module")
def nineties(bundled_closes: pd.DataFrame) -> pd.DataFrame:
    """1990s closes: rounded to 3 decimals, so many ties and zero returns."""
    return bundled_closes.loc["1990-01-01":"1999-12-31"]


@pytest.fixture(scope="module")
def nineties_returns(nineties: pd.DataFrame) -> np.ndarray:
    """Symbols x time log returns of the 1990s, C-contiguous, first column NaN."""
    return np.ascontiguousarray(np.log(nineties).diff().to_numpy().T)


# ------------------------------------------------------------------------------------------------
# Permutation entropy
# ------------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------------
# Hurst R/S
# ------------------------------------------------------------------------------------------------


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


def test_hurst_default_nvals_are_nolds_logmid_n():
    for n in (16, 100, 128, 256, 1000, 8313):
        np.testing.assert_array_equal(logmid_n(n), nolds.logmid_n(n, 0.25, 15))
    for n in (2, 10, 100, 340, 341, 1000):
        assert abs(qp.expected_rs(n) - nolds.expected_rs(n)) <= 1e-15 * abs(nolds.expected_rs(n))


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


# ------------------------------------------------------------------------------------------------
# Efficiency ratio and volatility
# ------------------------------------------------------------------------------------------------


def test_efficiency_ratio_matches_direct_formula():
    x = np.cumsum(RNG.standard_normal(600))
    x[300] = np.nan
    x[400:450] = x[399]  # flat stretch
    window = 20
    ratio = efficiency_ratio(x, window)
    assert np.isnan(ratio[:window]).all()
    for i in range(window, len(x)):
        values = x[i - window : i + 1]
        if np.isnan(values).any():
            assert np.isnan(ratio[i])
            continue
        path = np.abs(np.diff(values)).sum()
        expected = abs(values[-1] - values[0]) / path if path > 0 else 0.0
        assert abs(ratio[i] - expected) <= 1e-12
    assert (ratio[420:450] == 0.0).all()
    assert (efficiency_ratio(np.arange(30.0), 5)[5:] == 1.0).all()


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
    with pytest.raises(ValueError):
        rolling_volatility(returns, 1, ddof=1)


# ------------------------------------------------------------------------------------------------
# Panels, read-only inputs, allocation
# ------------------------------------------------------------------------------------------------

ROLLING = [
    lambda x, out=None: rolling_permutation_entropy(x, 32, out=out),
    lambda x, out=None: rolling_permutation_entropy(x, 33, order=4, delay=2, out=out),
    lambda x, out=None: rolling_hurst_rs(x, 64, out=out),
    lambda x, out=None: efficiency_ratio(x, 10, out=out),
    lambda x, out=None: rolling_volatility(x, 21, out=out),
]
ROLLING_IDS = ["pe3", "pe4", "hurst", "efficiency", "volatility"]


@pytest.mark.parametrize("kernel", ROLLING, ids=ROLLING_IDS)
def test_panel_equals_row_by_row(kernel):
    panel = np.round(RNG.standard_normal((7, 400)), 1)
    panel[2, 50] = np.nan
    panel[3, :] = np.nan
    panel[4, 100:200] = 0.0
    result = kernel(panel)
    assert result.shape == panel.shape
    for row in range(panel.shape[0]):
        np.testing.assert_array_equal(result[row], kernel(panel[row]))
    column_major = np.asfortranarray(panel)  # copied to C order at the boundary
    np.testing.assert_array_equal(kernel(column_major), result)
    np.testing.assert_array_equal(kernel(panel[:1]), result[:1])


@pytest.mark.parametrize("kernel", ROLLING, ids=ROLLING_IDS)
def test_read_only_inputs(kernel):
    panel = RNG.standard_normal((3, 300))
    frozen = panel.copy()
    frozen.setflags(write=False)
    np.testing.assert_array_equal(kernel(frozen), kernel(panel))
    np.testing.assert_array_equal(kernel(frozen[1]), kernel(panel[1]))
    from_pandas = pd.Series(panel[0]).to_numpy()  # pandas 3 may hand out a read-only view
    np.testing.assert_array_equal(kernel(from_pandas), kernel(panel[0]))
    assert permutation_entropy(frozen[0]) == permutation_entropy(panel[0])
    assert hurst_rs(frozen[0]) == hurst_rs(panel[0])


@pytest.mark.parametrize("kernel", ROLLING, ids=ROLLING_IDS)
def test_rolling_kernels_allocate_a_constant_per_call(kernel):
    """With `out` given, a call allocates the same small workspace for 1,000 or 50,000 points."""
    peaks = []
    for n, calls in ((1_000, 200), (50_000, 5)):
        x = RNG.standard_normal(n)
        out = np.empty(n)
        kernel(x, out=out)  # warm up
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(calls):
            assert kernel(x, out=out) is out
        after, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert after - before < 16_384  # nothing kept across calls
        peaks.append(peak - before)
    assert peaks[1] < 65_536 and peaks[1] <= peaks[0] + 4_096  # not proportional to n


def test_compiled_loops_do_not_allocate():
    """numba's runtime counts one allocation per array argument (its view of the caller's array)
    and none in the loops: the same count for 100 or 100,000 points."""
    from numba.core.runtime import _nrt_python, rtsys

    _nrt_python.memsys_enable_stats()
    try:

        def allocations(n):
            x = RNG.standard_normal(n)
            out = np.empty(n)
            table = qp._pe_table(30)
            counts = np.zeros(6, dtype=np.int64)
            sizes, log_n, log_ers = qp._hurst_tables(None, 64)
            ring = np.zeros((len(sizes), 64))
            ys = np.zeros(len(sizes))
            start = rtsys.get_allocation_stats().alloc
            qp._rolling_pe_row(x, 32, 3, 1, table, qp._pe_norm(3), True, counts, out)
            qp._rolling_hurst_row(x, 64, sizes, log_n, log_ers, True, True, ring, ys, out)
            qp._efficiency_ratio_row(x, 10, out)
            qp._volatility_row(x, 21, 1, out)
            return rtsys.get_allocation_stats().alloc - start

        assert allocations(100) == allocations(100_000) == 4 + 7 + 2 + 2
    finally:
        _nrt_python.memsys_disable_stats()
