"""The walk-forward tournament: which selection and allocation choices would have worked.

Three stages, each its own module and each an asset: :mod:`.windows` (windowing),
:mod:`.execution` (target weights per window x profile x engine, in parallel) and
:mod:`.reporting` (holding them out of sample after costs, and the leaderboard).
:func:`run_tournament` chains them.

The names below are imported on first use, so a pool worker importing only what it runs
(:mod:`.tasks`, :mod:`.local_pool`) does not import the features, their numba kernels and the
rest of the pipeline (about a second of each worker's start).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quant_assets.tournament.walk_forward import TournamentResult, run_tournament

__all__ = ["TournamentResult", "run_tournament"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from quant_assets.tournament import walk_forward

        return getattr(walk_forward, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
