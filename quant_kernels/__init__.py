"""Numeric kernels: numpy arrays in, numpy arrays out; no pandas, no Dagster.

Modules are imported on demand (``from quant_kernels.predictability import ...``) so that
importing the package does not compile every kernel.

- :mod:`quant_kernels.predictability`: permutation entropy, Hurst R/S, Kaufman efficiency ratio
  and rolling realised volatility, scalar and rolling (1-D or symbols x time panels).
"""
