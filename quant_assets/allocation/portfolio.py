"""The run's recommended portfolio: every engine's guarded weights as of the last date."""

import pandas as pd

from quant_assets.allocation.engines import get_engine
from quant_assets.allocation.guard import SolverGuard
from quant_assets.settings import Settings

ALLOCATION_COLUMNS = ("engine", "symbol", "weight", "engine_used", "vetoes")


def current_allocations(
    closes: pd.DataFrame, selected: list[str], settings: Settings
) -> pd.DataFrame:
    """Weights per engine from the last ``train`` returns of ``closes`` (dates x symbols).

    Engines that use selection hold ``selected``; ``market`` holds every symbol with a complete
    training history. ``vetoes`` lists the engines vetoed on the way (``;``-separated reasons).
    """
    recent = closes.iloc[-(settings.train + 1) :]
    eligible = [str(s) for s in recent.columns[recent.notna().all().to_numpy()]]
    held_selection = [s for s in selected if s in eligible]
    returns = recent[eligible].pct_change().iloc[1:]
    guard = SolverGuard(settings)
    rows = []
    for engine in settings.engines:
        held = held_selection if get_engine(engine).uses_selection else eligible
        allocation = guard.allocate(engine, returns[held])
        vetoes = "; ".join(f"{veto.engine}: {veto.reason}" for veto in allocation.vetoes)
        rows += [
            {
                "engine": engine,
                "symbol": symbol,
                "weight": float(weight),
                "engine_used": allocation.engine_used,
                "vetoes": vetoes,
            }
            for symbol, weight in allocation.weights.items()
        ]
    return pd.DataFrame(rows, columns=list(ALLOCATION_COLUMNS))
