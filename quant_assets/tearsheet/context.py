"""What every section shares: the inputs plus the frames derived once from them.

:func:`build_context` pivots the returns (in leaderboard order), measures every strategy
against the benchmark, picks the best strategy (rank 1, best Sharpe ratio) and fixes one colour
per strategy, so the sections need not recompute any of it.
"""

from dataclasses import dataclass
from typing import Any

import pandas as pd

from quant_assets.metrics import daily_rate
from quant_assets.tearsheet.analytics import returns_wide
from quant_assets.tearsheet.benchmark import relative_leaderboard
from quant_assets.tearsheet.figures import strategy_colors
from quant_assets.tearsheet.inputs import TearsheetInputs
from quant_assets.tournament.reporting import strategy_name

RISK_FREE_SETTING = "risk_free_rate"


@dataclass(frozen=True)
class TearsheetContext:
    """The inputs and what is derived from them once.

    Attributes
    ----------
    inputs : TearsheetInputs
        The run's stored assets.
    returns : DataFrame
        Daily net returns, dates x ``profile/engine``, columns in leaderboard order.
    benchmark : Series
        Daily benchmark returns on the benchmark's own calendar (named, e.g. ``S&P 500``).
    board : DataFrame
        The leaderboard plus the benchmark-relative columns.
    colors : dict
        One colour per strategy name.
    daily_risk_free : float
        The run's annual risk-free rate over 252.
    """

    inputs: TearsheetInputs
    returns: pd.DataFrame
    benchmark: pd.Series
    board: pd.DataFrame
    colors: dict[str, Any]
    daily_risk_free: float

    @property
    def best(self) -> tuple[str, str] | None:
        """``(profile, engine)`` of the leaderboard's first row, or None when it is empty."""
        if self.board.empty:
            return None
        first = self.board.iloc[0]
        return str(first["profile"]), str(first["engine"])

    @property
    def best_name(self) -> str | None:
        """``profile/engine`` of the best strategy, or None."""
        best = self.best
        return strategy_name(*best) if best else None

    def benchmark_on(self, dates: pd.DatetimeIndex) -> pd.Series | None:
        """Benchmark returns on ``dates`` (NaN where it has none), or None if none overlaps."""
        aligned = self.benchmark.reindex(dates)
        return aligned if aligned.notna().any() else None


def build_context(inputs: TearsheetInputs, benchmark: pd.Series) -> TearsheetContext:
    """Derive the shared frames from ``inputs`` and daily ``benchmark`` returns."""
    wide = returns_wide(inputs.tournament_returns)
    order = [
        strategy_name(str(p), str(e))
        for p, e in zip(inputs.leaderboard["profile"], inputs.leaderboard["engine"], strict=True)
    ]
    ranked = [name for name in order if name in wide.columns]
    unranked = [name for name in wide.columns if name not in set(ranked)]
    wide = wide[ranked + unranked]
    settings = inputs.run_manifest.get("settings") or {}
    annual_risk_free = float(settings.get(RISK_FREE_SETTING, 0.0) or 0.0)
    return TearsheetContext(
        inputs=inputs,
        returns=wide,
        benchmark=benchmark,
        board=relative_leaderboard(inputs.leaderboard, wide, benchmark),
        colors=strategy_colors(list(wide.columns)),
        daily_risk_free=daily_rate(annual_risk_free),
    )
