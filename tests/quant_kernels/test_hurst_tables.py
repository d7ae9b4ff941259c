"""Hurst R/S tables: nolds' default block sizes and expected R/S of white noise."""

import nolds
import numpy as np

from quant_kernels._hurst_tables import expected_rs, logmid_n


def test_hurst_default_nvals_are_nolds_logmid_n():
    for n in (16, 100, 128, 256, 1000, 8313):
        np.testing.assert_array_equal(logmid_n(n), nolds.logmid_n(n, 0.25, 15))
    for n in (2, 10, 100, 340, 341, 1000):
        assert abs(expected_rs(n) - nolds.expected_rs(n)) <= 1e-15 * abs(nolds.expected_rs(n))
