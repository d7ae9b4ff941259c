"""The walk-forward tournament: which selection and allocation choices would have worked.

Three stages, each its own module and each an asset: :mod:`.windows` (windowing),
:mod:`.execution` (target weights per window x profile x engine, in parallel) and
:mod:`.reporting` (holding them out of sample after costs, and the leaderboard).
:func:`run_tournament` chains them.
"""

from quant_assets.tournament.walk_forward import TournamentResult, run_tournament

__all__ = ["TournamentResult", "run_tournament"]
