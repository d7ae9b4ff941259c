"""A self-contained HTML tear-sheet of one pipeline run, with metrics against the S&P 500.

Load a run's stored assets with :func:`load_tearsheet_inputs` (or build
:class:`TearsheetInputs` from frames loaded elsewhere), then :func:`render_tearsheet` returns
the HTML and :func:`save_tearsheet` writes it. :func:`benchmark_metrics` and
:func:`relative_leaderboard` measure strategies against the index on their own.
"""

from quant_assets.tearsheet.benchmark import (
    benchmark_closes,
    benchmark_metrics,
    benchmark_returns,
    relative_leaderboard,
)
from quant_assets.tearsheet.inputs import TearsheetInputs, load_tearsheet_inputs
from quant_assets.tearsheet.render import (
    SECTION_IDS,
    render_tearsheet,
    save_tearsheet,
    tearsheet_path,
)

__all__ = [
    "SECTION_IDS",
    "TearsheetInputs",
    "benchmark_closes",
    "benchmark_metrics",
    "benchmark_returns",
    "load_tearsheet_inputs",
    "relative_leaderboard",
    "render_tearsheet",
    "save_tearsheet",
    "tearsheet_path",
]
