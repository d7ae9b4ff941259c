"""Boundary helpers of the rolling kernels: array checks and per-thread workspace sizes."""

import numpy as np
import pytest

from quant_kernels._kernel_boundary import (
    CACHE_LINE_FLOATS,
    as_kernel_input,
    as_kernel_output,
    padded_length,
)


def test_input_is_float64_c_contiguous_without_copying_read_only_arrays():
    frozen = np.arange(12.0).reshape(3, 4)
    frozen.setflags(write=False)
    assert as_kernel_input(frozen) is frozen
    converted = as_kernel_input(np.asfortranarray(np.arange(12).reshape(3, 4)))
    assert converted.dtype == np.float64 and converted.flags.c_contiguous
    np.testing.assert_array_equal(converted, np.arange(12.0).reshape(3, 4))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        as_kernel_input(np.zeros((2, 2, 2)))


def test_output_is_checked_or_allocated():
    fresh = as_kernel_output(None, (3, 5))
    assert fresh.shape == (3, 5) and fresh.dtype == np.float64
    given = np.empty((3, 5))
    assert as_kernel_output(given, (3, 5)) is given
    frozen = np.empty((3, 5))
    frozen.setflags(write=False)
    for bad in (np.empty(15), np.empty((3, 5), dtype=np.float32), np.empty((5, 3)).T, frozen):
        with pytest.raises(ValueError, match="out must be a writable C-contiguous float64"):
            as_kernel_output(bad, (3, 5))


@pytest.mark.parametrize("length", [1, 6, 7, 8, 9, 120])
def test_workspace_rows_fill_whole_cache_lines_plus_a_gap(length):
    padded = padded_length(length)
    assert padded % CACHE_LINE_FLOATS == 0
    assert length + CACHE_LINE_FLOATS <= padded < length + 2 * CACHE_LINE_FLOATS
