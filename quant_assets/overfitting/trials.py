"""Trials across runs: every strategy evaluated earlier on the same closes and dates.

A run's leaderboard records ``closes_hash``, the content hash of the closes the run used (its
``closes`` snapshot as the wide dates x symbols panel, :func:`lakehouse.hashing.get_df_hash`;
the manifest's per-symbol file hashes change whenever hydration appends a day), beside each
strategy's first and last out-of-sample date. Earlier trials of a strategy are the strategies
of other runs whose leaderboard rows have the same hash and the same dates: on the same data
and dates, a researcher who tries 50 settings one run at a time is deflated as one who sweeps
them at once. Runs stored before the hash was recorded are not counted.
"""

from pathlib import Path

import duckdb
import pandas as pd

from lakehouse import validate_run_id
from lakehouse.catalog import open_catalog

__all__ = ["CLOSES_HASH", "earlier_trials"]

CLOSES_HASH = "closes_hash"
"""The leaderboard column holding the content hash of the run's closes."""
LEADERBOARD = "leaderboard"
RETURNS = "tournament_returns"

EARLIER_TRIALS_SQL = f"""
SELECT r.run_id, r.profile, r.engine, r.date, r.net_return
FROM {RETURNS} AS r
JOIN {LEADERBOARD} AS l USING (run_id, profile, engine)
WHERE l.{CLOSES_HASH} = ? AND l.first_date = ? AND l.last_date = ? AND l.run_id <> ?
"""


def earlier_trials(
    root: str | Path,
    closes_hash: str,
    first_date: pd.Timestamp,
    last_date: pd.Timestamp,
    run_id: str,
) -> pd.DataFrame:
    """Daily net returns of other runs' strategies on the same closes and dates.

    Parameters
    ----------
    root : str or Path
        The lakehouse root.
    closes_hash : str
        Content hash of this run's closes.
    first_date, last_date : Timestamp
        The out-of-sample span of this run's strategies.
    run_id : str
        This run (left out, should it be stored already).

    Returns
    -------
    DataFrame
        Dates x ``run_id/profile/engine`` columns (empty when there is none).
    """
    validate_run_id(run_id)
    con = open_catalog(root, assets=[LEADERBOARD, RETURNS])
    try:
        views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        if not {LEADERBOARD, RETURNS} <= views:
            return pd.DataFrame()
        columns = {d[0] for d in con.execute(f"SELECT * FROM {LEADERBOARD} LIMIT 0").description}
        if CLOSES_HASH not in columns:
            return pd.DataFrame()
        first, last = (
            pd.Timestamp(first_date).to_pydatetime(),
            pd.Timestamp(last_date).to_pydatetime(),
        )
        params = [closes_hash, first, last, run_id]
        long = con.execute(EARLIER_TRIALS_SQL, params).df()
    except duckdb.Error:
        return pd.DataFrame()
    finally:
        con.close()
    if long.empty:
        return pd.DataFrame()
    long["trial"] = long["run_id"] + "/" + long["profile"] + "/" + long["engine"]
    wide = long.pivot(index="date", columns="trial", values="net_return").sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    return wide
