"""Selection: which symbols to hold, with their scores and the reason each other one is left out.

The score is a plug-in (:mod:`quant_assets.plugins`), chosen by the ``score`` setting: a
function from one date's features (a frame indexed by symbol, one column per feature and
signal) and the regime label to a score per symbol, higher is better. It returns either a
Series of scores (NaN: not eligible, reason ``"no score from <score>"``) or a frame with
``score`` and ``reason`` columns (the reason says why a NaN score is not eligible).

The built-in score, ``trend_strength`` (:func:`trend_strength`), is momentum divided by
volatility (a Sharpe-like ratio of the momentum window), in normal regimes. In a volatile regime
(see :mod:`quant_assets.regimes`) it turns defensive: minus volatility, so the calmest symbols
are held. ``top_n`` selection holds the ``top_n`` best scores (ties broken by symbol); ``all``
holds every eligible symbol. Only symbols eligible at the decision date are scored
(:mod:`quant_assets.membership`).
"""

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lakehouse.frames import StoredFrame
from quant_assets.contracts import SelectionsContract, column_names
from quant_assets.features import FEATURE_COLUMNS, features_on
from quant_assets.membership import decision_date, membership
from quant_assets.plugins import PluginError, resolve
from quant_assets.regimes import VOLATILE_REGIMES
from quant_assets.settings import Settings

SELECTION_COLUMNS = column_names(SelectionsContract)
NOT_ENOUGH_HISTORY = "not enough history"
ScoreFunction = Callable[[pd.DataFrame, str], Any]


def trend_strength(features: pd.DataFrame, regime: str) -> pd.DataFrame:
    """The built-in score: momentum over volatility; minus volatility in volatile regimes.

    Parameters
    ----------
    features : DataFrame
        One date's features indexed by symbol, with ``momentum`` and ``volatility``.
    regime : str
        The market regime label on that date.

    Returns
    -------
    DataFrame
        ``score`` (NaN when not eligible) and ``reason`` ("" when scored), by symbol.
    """
    momentum = features["momentum"].to_numpy(dtype=np.float64, na_value=np.nan)
    volatility = features["volatility"].to_numpy(dtype=np.float64, na_value=np.nan)
    defensive = regime in VOLATILE_REGIMES
    with np.errstate(divide="ignore", invalid="ignore"):
        score = -volatility if defensive else momentum / volatility
    missing = np.isnan(volatility) | (np.isnan(momentum) & (not defensive))
    constant = (volatility <= 0) & ~missing
    reason = np.full(len(features), "", dtype=object)
    reason[missing] = NOT_ENOUGH_HISTORY
    reason[constant] = "constant price (zero volatility)"
    scored = np.where(missing | constant, np.nan, score)
    return pd.DataFrame(
        {"score": scored, "reason": pd.Series(reason, index=features.index, dtype=object)},
        index=features.index,
    )


@functools.lru_cache(maxsize=64)
def get_score(name: str) -> ScoreFunction:
    """The score settings call ``name``, ready to call (a class is instantiated once)."""
    built = resolve("score", name).build()
    if not callable(built):
        raise PluginError(f"score {name!r} built a {type(built).__name__}, which is not callable")
    function: ScoreFunction = built
    return function


def scores_of(latest: pd.DataFrame, regime: str, name: str) -> pd.DataFrame:
    """``score`` and ``reason`` of every symbol of ``latest`` from the score ``name``.

    A symbol the score leaves out, or scores NaN or infinite, is not eligible; its reason is
    the score's own when it gives one.

    Raises
    ------
    PluginError
        When the score raises or returns something other than a Series or a frame with a
        ``score`` column (naming the score and the error).
    """
    try:
        result = get_score(name)(latest.copy(), regime)
    except PluginError:
        raise
    except Exception as error:
        raise PluginError(
            f"score {name!r} failed: {' '.join(f'{type(error).__name__}: {error}'.split())}"
        ) from error
    if isinstance(result, pd.DataFrame) and "score" in result.columns:
        given_reason = result["reason"] if "reason" in result.columns else None
        values = result["score"]
    elif isinstance(result, pd.Series):
        given_reason, values = None, result
    else:
        raise PluginError(
            f"score {name!r} returned a {type(result).__name__}; a score returns a Series of "
            "scores by symbol, or a frame with `score` (and `reason`) columns"
        )
    score = pd.to_numeric(values, errors="coerce").astype("float64").reindex(latest.index)
    score = score.where(np.isfinite(score))
    default = f"no score from {name}"
    reason = pd.Series(default, index=latest.index, dtype=object)
    if given_reason is not None:
        given = given_reason.reindex(latest.index).fillna("").astype(str)
        reason = given.where(given != "", default)
    reason = reason.where(score.isna(), "")
    return pd.DataFrame({"score": score, "reason": reason.astype(object)}, index=latest.index)


def ranked_candidates(scored: pd.DataFrame) -> list[str]:
    """The scored symbols (``reason`` empty) of a :func:`scores_of` table, best first.

    Ties in score are broken by symbol, the order :func:`score_symbols` ranks in; ``top_n``
    selection holds the first ``top_n``.
    """
    candidates = scored[scored["reason"] == ""]
    symbols = candidates.index.to_numpy(dtype=object).astype(str)
    order = np.lexsort((symbols, -candidates["score"].to_numpy(dtype=np.float64)))
    return [str(s) for s in symbols[order]]


def score_symbols(latest: pd.DataFrame, regime: str, settings: Settings) -> pd.DataFrame:
    """Score and select symbols from their latest features.

    Parameters
    ----------
    latest : DataFrame
        Indexed by symbol, one date's features (and signals).
    regime : str
        The market regime label on that date.
    settings : Settings
        ``score``, ``selection`` and ``top_n``. With ``selection="all"`` every symbol given is
        selected, whatever its score (the caller passes only eligible ones).

    Returns
    -------
    DataFrame
        Columns :data:`SELECTION_COLUMNS`, one row per symbol, best score first.
    """
    scored = scores_of(latest, regime, settings.score)
    scored.index.name = "symbol"
    scored = scored.reset_index().sort_values(
        ["score", "symbol"], ascending=[False, True], na_position="last"
    )
    candidates = scored["reason"] == ""
    scored["rank"] = np.where(candidates, candidates.cumsum(), 0).astype("int64")
    if settings.selection == "all":  # every symbol given is held, whatever its score
        scored["selected"] = True
        scored["reason"] = ""
    else:
        scored["selected"] = candidates & (scored["rank"] <= settings.top_n)
        beyond = candidates & ~scored["selected"]
        scored.loc[beyond, "reason"] = f"rank beyond top_n={settings.top_n}"
    scored["regime"] = regime
    return scored.reset_index(drop=True)[list(SELECTION_COLUMNS)].astype({"reason": str})


def select_among(
    cross_section: pd.DataFrame, eligible: list[str], regime: str, settings: Settings
) -> pd.DataFrame:
    """Score and select among the ``eligible`` symbols, from one date's features.

    ``cross_section`` is a date's features indexed by symbol (see
    :func:`quant_assets.features.features_on`); symbols absent from it score NaN ("not enough
    history"). Returns the :func:`score_symbols` table of the eligible symbols.
    """
    rows = cross_section.reindex(pd.Index(eligible, name="symbol"))
    return score_symbols(rows, regime, settings)


def select_now(
    closes: pd.DataFrame,
    features: pd.DataFrame | StoredFrame,
    regimes: pd.DataFrame,
    settings: Settings,
) -> pd.DataFrame:
    """The current selection: every symbol of ``closes`` judged at the run's decision date.

    Eligible symbols are scored and ranked (:func:`select_among`); the others are listed with
    the membership reason and no score. Only the features of the decision date are read (a
    :class:`~lakehouse.frames.StoredFrame` is scanned for that date's rows).
    """
    as_of = decision_date(closes, settings)
    members = membership(closes, pd.DatetimeIndex([as_of]), settings)
    eligible = members.eligible_at(0)
    section = features_on(features, pd.DatetimeIndex([as_of])).get(as_of)
    if section is None:
        section = pd.DataFrame(columns=list(FEATURE_COLUMNS)).set_index("symbol")
    regime = str(regimes.set_index("date")["label"].get(as_of, "unknown"))
    chosen = select_among(section, eligible, regime, settings)
    reasons = members.reasons_at(0, settings)
    others = pd.DataFrame(
        {
            "symbol": [s for s in members.symbols if s not in set(eligible)],
            "score": np.nan,
            "selected": False,
            "rank": 0,
        }
    )
    others["reason"] = [f"not eligible: {reasons[s]}" for s in others["symbol"]]
    others["regime"] = regime
    table = pd.concat([chosen, others.astype(chosen.dtypes.to_dict())], ignore_index=True)
    return table[list(SELECTION_COLUMNS)].reset_index(drop=True)


def selected_symbols(table: pd.DataFrame) -> list[str]:
    """The symbols a selection table holds, in its order."""
    return [str(s) for s in table.loc[table["selected"], "symbol"]]
