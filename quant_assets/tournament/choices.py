"""Who each window may hold and whom it selects, decided at its training end, point in time.

Features and regimes are causal (each row depends on earlier rows only), so they are computed
once on the whole panel and each window reads the row of its training end: the regime a window
sees is the label the ``regimes`` asset stores for that date. Membership
(:mod:`quant_assets.membership`) reads closes up to the training end only. In a run the
features are the stored asset, scanned for the training ends' rows only; outside Dagster they
are computed a chunk of symbols at a time, keeping only those rows.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lakehouse.frames import StoredFrame
from quant_assets.features import FEATURE_COLUMNS, feature_chunks, features_on
from quant_assets.membership import Membership, membership
from quant_assets.regimes import label_regimes
from quant_assets.selection import ranked_candidates, scores_of
from quant_assets.settings import Settings
from quant_assets.sweep import (
    FEATURE_FIELDS,
    MEMBERSHIP_FIELDS,
    REGIME_FIELDS,
    SCORE_FIELDS,
    stage_key,
)


@dataclass(frozen=True)
class CausalInputs:
    """A profile's features (long, or the stored asset) and regimes over the whole panel."""

    features: pd.DataFrame | StoredFrame
    regimes: pd.DataFrame


def causal_inputs(
    prices: pd.DataFrame, settings: Settings, dates: pd.DatetimeIndex | None = None
) -> CausalInputs:
    """Features and regimes of ``prices`` with ``settings``' windows.

    With ``dates``, only the features of those dates are kept (computed a chunk of symbols at
    a time), which is all :func:`choose_holdings` reads.
    """
    chunks = feature_chunks(prices, settings)
    if dates is not None:
        chunks = (chunk[chunk["date"].isin(dates)] for chunk in chunks)
    features = pd.concat(list(chunks), ignore_index=True)
    return CausalInputs(features, label_regimes(prices, settings))


def choose_holdings(
    prices: pd.DataFrame,
    windows: pd.DataFrame,
    profiles: Mapping[str, Settings],
    inputs: Mapping[str, CausalInputs] | None = None,
) -> pd.DataFrame:
    """The eligible and selected symbols of every window of every profile.

    Profiles that agree on what a stage reads share its work (:mod:`quant_assets.sweep`):
    membership is judged once per membership settings, features and regimes are computed once
    per feature and regime settings, and each window's scores once per score settings and
    eligible symbols; only the cut at ``top_n`` is per profile.

    Parameters
    ----------
    prices : DataFrame of shape (n_dates, n_symbols)
        Wide closes of the whole run (NaN before a listing and after a delisting).
    windows : DataFrame
        The walk-forward windows (:mod:`quant_assets.tournament.windows`).
    profiles : mapping of name to Settings
        Each profile's membership rules, feature windows and selection.
    inputs : mapping of profile name to CausalInputs, optional
        Precomputed features and regimes (the run's assets); computed here when missing.

    Returns
    -------
    DataFrame
        ``profile``, ``window``, ``eligible`` and ``selected`` (lists of symbols).
    """
    rows = []
    memberships: dict[tuple[str, tuple[pd.Timestamp, ...]], Membership] = {}
    causal: dict[str, CausalInputs] = {}
    sections: dict[str, dict[pd.Timestamp, pd.DataFrame]] = {}
    rankings: dict[tuple[str, pd.Timestamp, tuple[str, ...]], list[str]] = {}
    for profile, settings in profiles.items():
        mine = windows[windows["profile"] == profile]
        if mine.empty:
            continue
        train_ends = pd.DatetimeIndex(mine["train_end"])
        window_ids = mine["window"].to_numpy(dtype=np.int64).tolist()
        member_key = (stage_key(settings, MEMBERSHIP_FIELDS), tuple(train_ends))
        if member_key not in memberships:
            memberships[member_key] = membership(prices, train_ends, settings)
        members = memberships[member_key]
        if settings.selection == "all":  # every eligible symbol: no scores, no features needed
            for row, window in enumerate(window_ids):
                eligible = members.eligible_at(row)
                rows.append(_choice(profile, window, eligible, eligible))
            continue
        inputs_key = stage_key(settings, (*FEATURE_FIELDS, *REGIME_FIELDS))
        if inputs_key not in causal:
            given = (inputs or {}).get(profile)
            causal[inputs_key] = given or causal_inputs(prices, settings, train_ends)
        given = causal[inputs_key]
        features_key = stage_key(settings, FEATURE_FIELDS)
        wanted = train_ends.difference(pd.DatetimeIndex(list(sections.get(features_key, {}))))
        if len(wanted):
            sections.setdefault(features_key, {}).update(features_on(given.features, wanted))
        section_of = sections[features_key]
        labels = given.regimes.set_index("date")["label"]
        score_key = stage_key(settings, SCORE_FIELDS)
        empty = pd.DataFrame(columns=list(FEATURE_COLUMNS)).set_index("symbol")
        for row, (window, end) in enumerate(zip(window_ids, train_ends, strict=True)):
            eligible = members.eligible_at(row)
            key = (score_key, end, tuple(eligible))
            if key not in rankings:
                latest = section_of.get(end, empty).reindex(pd.Index(eligible, name="symbol"))
                rankings[key] = ranked_candidates(
                    scores_of(latest, str(labels[end]), settings.score)
                )
            selected = rankings[key][: settings.top_n]
            rows.append(_choice(profile, window, eligible, selected))
    return pd.DataFrame(rows, columns=["profile", "window", "eligible", "selected"])


def _choice(profile: str, window: int, eligible: list[str], selected: list[str]) -> dict[str, Any]:
    return {"profile": profile, "window": window, "eligible": eligible, "selected": selected}
