"""Numeric kernels: numpy arrays in, numpy arrays out; no pandas, no Dagster.

Modules are imported on demand (``from quant_kernels.predictability import ...``) so that
importing the package does not compile every kernel.

- :mod:`quant_kernels.predictability`: permutation entropy, Hurst R/S and rolling realised
  volatility, scalar and rolling (1-D or symbols x time panels). It re-exports the private modules
  that hold one measure each (``_permutation_entropy``, ``_hurst_rs`` with ``_hurst_tables``,
  ``_rolling_volatility``) and their shared plumbing (``_numba_types``, ``_kernel_boundary``).
"""
