"""Allocation: portfolio engines, the covariance they share, and the `SolverGuard` over them.

- :mod:`.covariance`: covariance estimators (``sample``, ``ledoit_wolf``) and condition numbers.
- :mod:`.solvers`: exact small solvers (long-only minimum variance by an active-set method,
  equal risk contribution by Newton's method, hierarchical risk parity).
- :mod:`.engines`: one small object per engine, from training returns to weights.
- :mod:`.guard`: :class:`SolverGuard`, ridge hardening, the sanity veto and the fallback chain.
"""

from quant_assets.allocation.engines import ENGINES, Engine, get_engine
from quant_assets.allocation.guard import (
    FALLBACK_CHAIN,
    Allocation,
    SolverGuard,
    Veto,
)

__all__ = [
    "ENGINES",
    "FALLBACK_CHAIN",
    "Allocation",
    "Engine",
    "SolverGuard",
    "Veto",
    "get_engine",
]
