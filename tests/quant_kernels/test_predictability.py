"""The public kernel module: its exports, and what every rolling kernel shares.

Panels equal row-by-row results, read-only inputs are accepted, and neither the Python entry
points nor the compiled loops allocate in proportion to the series.
"""

import tracemalloc

import numpy as np
import pandas as pd
import pytest

import quant_kernels.predictability as qp
from quant_kernels import _hurst_rs, _hurst_tables, _permutation_entropy, _rolling_volatility
from quant_kernels.predictability import (
    hurst_rs,
    permutation_entropy,
    rolling_hurst_rs,
    rolling_permutation_entropy,
    rolling_volatility,
)

RNG = np.random.default_rng(20261101)


def test_public_names_are_sorted_and_come_from_the_measure_modules():
    assert qp.__all__ == sorted(qp.__all__)
    assert set(qp.__all__) == {
        "HURST_FLAT_RTOL",
        "expected_rs",
        "hurst_rs",
        "logmid_n",
        "permutation_entropy",
        "rolling_hurst_rs",
        "rolling_permutation_entropy",
        "rolling_volatility",
    }
    assert qp.permutation_entropy is _permutation_entropy.permutation_entropy
    assert qp.rolling_permutation_entropy is _permutation_entropy.rolling_permutation_entropy
    assert qp.hurst_rs is _hurst_rs.hurst_rs
    assert qp.rolling_hurst_rs is _hurst_rs.rolling_hurst_rs
    assert qp.HURST_FLAT_RTOL is _hurst_rs.HURST_FLAT_RTOL
    assert qp.logmid_n is _hurst_tables.logmid_n
    assert qp.expected_rs is _hurst_tables.expected_rs
    assert qp.rolling_volatility is _rolling_volatility.rolling_volatility


ROLLING = [
    lambda x, out=None: rolling_permutation_entropy(x, 32, out=out),
    lambda x, out=None: rolling_permutation_entropy(x, 33, order=4, delay=2, out=out),
    lambda x, out=None: rolling_hurst_rs(x, 64, out=out),
    lambda x, out=None: rolling_volatility(x, 21, out=out),
]
ROLLING_IDS = ["pe3", "pe4", "hurst", "volatility"]


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
            table = _permutation_entropy._pe_table(30)
            counts = np.zeros(6, dtype=np.int64)
            sizes, log_n, log_ers = _hurst_tables.hurst_tables(None, 64)
            ring = np.zeros((len(sizes), 64))
            ys = np.zeros(len(sizes))
            norm = _permutation_entropy._pe_norm(3)
            start = rtsys.get_allocation_stats().alloc
            _permutation_entropy._rolling_pe_row(x, 32, 3, 1, table, norm, True, counts, out)
            _hurst_rs._rolling_hurst_row(x, 64, sizes, log_n, log_ers, True, True, ring, ys, out)
            _rolling_volatility._volatility_row(x, 21, 1, out)
            return rtsys.get_allocation_stats().alloc - start

        assert allocations(100) == allocations(100_000) == 4 + 7 + 2
    finally:
        _nrt_python.memsys_disable_stats()
