"""Selection: which symbols to hold, with their scores and the reason each other one is left out.

The score is trend strength, momentum divided by volatility (a Sharpe-like ratio of the
momentum window), in normal regimes. In a volatile regime (see :mod:`quant_assets.regimes`) the
score turns defensive: minus volatility, so the calmest symbols are held. ``top_n`` selection holds
the ``top_n`` best scores (ties broken by symbol); ``all`` holds every symbol with a score.
"""

import numpy as np
import pandas as pd

from quant_assets.contracts import SelectionsContract, column_names
from quant_assets.features import compute_features, latest_features
from quant_assets.regimes import VOLATILE_REGIMES, current_regime, label_regimes
from quant_assets.settings import Settings

SELECTION_COLUMNS = column_names(SelectionsContract)


def score_symbols(latest: pd.DataFrame, regime: str, settings: Settings) -> pd.DataFrame:
    """Score and select symbols from their latest features.

    Parameters
    ----------
    latest : DataFrame
        Indexed by symbol, with ``momentum`` and ``volatility`` as of one date.
    regime : str
        The market regime label on that date.
    settings : Settings
        ``selection`` and ``top_n``.

    Returns
    -------
    DataFrame
        Columns :data:`SELECTION_COLUMNS`, one row per symbol, best score first.
    """
    momentum = latest["momentum"].astype("float64")
    volatility = latest["volatility"].astype("float64")
    defensive = regime in VOLATILE_REGIMES
    score = -volatility if defensive else momentum / volatility
    reason = pd.Series("", index=latest.index, dtype=object)
    needs_momentum = momentum.isna() & (not defensive)
    reason[volatility.isna() | needs_momentum] = "not enough history"
    reason[(volatility <= 0) & (reason == "")] = "constant price (zero volatility)"
    scored = pd.DataFrame({"score": score.where(reason == "", np.nan), "reason": reason})
    scored.index.name = "symbol"
    scored = scored.reset_index().sort_values(
        ["score", "symbol"], ascending=[False, True], na_position="last"
    )
    candidates = scored["reason"] == ""
    scored["rank"] = np.where(candidates, candidates.cumsum(), 0).astype("int64")
    limit = len(scored) if settings.selection == "all" else settings.top_n
    scored["selected"] = candidates & (scored["rank"] <= limit)
    scored.loc[candidates & ~scored["selected"], "reason"] = f"rank beyond top_n={limit}"
    scored["regime"] = regime
    return scored.reset_index(drop=True)[list(SELECTION_COLUMNS)].astype({"reason": str})


def select_symbols(train_closes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Select from training closes only: features and regime as of their last date.

    Returns the :func:`score_symbols` table indexed by symbol. With ``selection="all"`` every
    symbol with complete training history is selected.
    """
    if settings.selection == "all":
        complete = train_closes.notna().all()
        table = pd.DataFrame(
            {
                "score": np.where(complete, 0.0, np.nan),
                "selected": complete.to_numpy(),
                "rank": np.where(complete, 1, 0),
                "reason": np.where(complete, "", "incomplete training history"),
                "regime": "",
            },
            index=pd.Index(train_closes.columns.astype(str), name="symbol"),
        )
        return table
    regime = current_regime(label_regimes(train_closes, settings))
    latest = latest_features(compute_features(train_closes, settings))
    table = score_symbols(latest.reindex(train_closes.columns.astype(str)), regime, settings)
    return table.set_index("symbol")
