"""Pandera contracts of every frame the pipeline stores, in two tiers.

Tier 1 (``*Contract``) is structural: columns, dtypes, uniqueness, sortedness. Its checks are
blocking: a frame that breaks it stops every downstream asset.

Tier 2 (``*Audit``) checks values: ranges, sums, enough history, no zero-filled holidays. Its
checks warn, and block only when the run's ``strict`` setting is on.
"""

import math

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera.typing import Series

from quant_assets.regimes import REGIME_LABELS

MAX_DAILY_SIMPLE_RETURN = 10.0
"""Largest believable daily simple return (+1,000%); -100% is the smallest."""
WEIGHT_SUM_TOLERANCE = 1e-9


def strictly_increasing(df: pd.DataFrame, keys: tuple[str, ...]) -> bool:
    """Whether the rows of ``df`` strictly increase in ``keys`` (lexicographically), in Arrow.

    A null key fails. Vectorised in Arrow's compute kernels: no Python objects per row.
    """
    if len(df) < 2:
        return bool(df[list(keys)].notna().all().all())
    table = pyarrow.Table.from_pandas(df[list(keys)], preserve_index=False).combine_chunks()
    later: pyarrow.ChunkedArray | None = None
    for key in reversed(keys):
        column = table.column(key)
        previous, current = column.slice(0, len(df) - 1), column.slice(1)
        greater = pc.greater(current, previous)
        tied = pc.equal(current, previous)
        later = greater if later is None else pc.or_(greater, pc.and_(tied, later))
    assert later is not None
    return bool(pc.all(later.fill_null(False)).as_py())


def column_names(contract: type[pa.DataFrameModel]) -> tuple[str, ...]:
    """The columns of ``contract``, in order: the one list a pillar builds its frame with.

    Columns matched by a pattern (the signals of ``features``) are not listed.
    """
    return tuple(name for name, column in contract.to_schema().columns.items() if not column.regex)


class MarketDataContract(pa.DataFrameModel):
    """One hydrated symbol's daily bars."""

    date: Series[pd.Timestamp] = pa.Field(unique=True)
    open: Series[float] = pa.Field(nullable=True)
    high: Series[float] = pa.Field(nullable=True)
    low: Series[float] = pa.Field(nullable=True)
    close: Series[float] = pa.Field(gt=0)
    volume: Series[float] = pa.Field(nullable=True, ge=0)

    class Config:
        strict = True

    @pa.dataframe_check
    @classmethod
    def dates_ascending(cls, df: pd.DataFrame) -> bool:
        """Bars are in date order."""
        return bool(df["date"].is_monotonic_increasing)


class UniverseContract(pa.DataFrameModel):
    """Discovery's verdict on every hydrated symbol."""

    symbol: Series[str] = pa.Field(unique=True)
    first_date: Series[pd.Timestamp] = pa.Field(nullable=True)
    last_date: Series[pd.Timestamp] = pa.Field(nullable=True)
    observations: Series[int] = pa.Field(ge=0)
    missing_fraction: Series[float] = pa.Field(ge=0, le=1)
    eligible: Series[bool]
    reason: Series[str]

    class Config:
        strict = True


class UniverseAudit(UniverseContract):
    """At least two symbols are eligible (one cannot be diversified)."""

    @pa.dataframe_check
    @classmethod
    def enough_eligible_symbols(cls, df: pd.DataFrame) -> bool:
        """Two or more eligible symbols."""
        return int(df["eligible"].sum()) >= 2


class ClosesContract(pa.DataFrameModel):
    """The run's snapshot of eligible closes, long: one row per date and symbol."""

    date: Series[pd.Timestamp]
    symbol: Series[str]
    close: Series[float] = pa.Field(gt=0)

    class Config:
        strict = True
        unique = ["date", "symbol"]

    @pa.dataframe_check
    @classmethod
    def sorted_by_date_then_symbol(cls, df: pd.DataFrame) -> bool:
        """Rows are ordered by (date, symbol)."""
        keys = df[["date", "symbol"]]
        return bool(keys.equals(keys.sort_values(["date", "symbol"]).reset_index(drop=True)))


class ClosesAudit(ClosesContract):
    """Daily simple returns are believable and no holiday was zero-filled."""

    @pa.dataframe_check
    @classmethod
    def returns_within_bounds(cls, df: pd.DataFrame) -> pd.Series:
        """Each close's simple return from the symbol's previous close lies in [-1, 10]."""
        previous = df.groupby("symbol")["close"].shift(1)
        simple = df["close"] / previous - 1.0
        return simple.isna() | simple.between(-1.0, MAX_DAILY_SIMPLE_RETURN)

    @pa.dataframe_check
    @classmethod
    def no_zero_filled_dates(cls, df: pd.DataFrame) -> pd.Series:
        """No date on which every one of several symbols repeats its previous close exactly."""
        unchanged = df.groupby("symbol")["close"].diff() == 0
        per_date = unchanged.groupby(df["date"]).transform("all")
        symbols = df.groupby("date")["symbol"].transform("size")
        return ~(per_date & (symbols > 2))


BASE_FEATURE_COLUMNS = (
    "date",
    "symbol",
    "log_return",
    "volatility",
    "momentum",
    "perm_entropy",
    "hurst",
)
"""The columns every ``features`` table has; signals add theirs after them."""
SIGNAL_COLUMN_PATTERN = rf"^(?!({'|'.join(BASE_FEATURE_COLUMNS)})$)[A-Za-z_]\w*$"
"""Names a signal's column may have: a word that is not a base column."""


class FeaturesContract(pa.DataFrameModel):
    """Per symbol and date features; NaN marks warm-up.

    Rows are in strictly increasing (symbol, date) order, which also makes each pair unique: the
    order the feature build writes them in, a chunk of symbols at a time.
    """

    date: Series[pd.Timestamp]
    symbol: Series[str]
    log_return: Series[float] = pa.Field(nullable=True)
    volatility: Series[float] = pa.Field(nullable=True)
    momentum: Series[float] = pa.Field(nullable=True)
    perm_entropy: Series[float] = pa.Field(nullable=True)
    hurst: Series[float] = pa.Field(nullable=True)
    signal: Series[float] = pa.Field(
        nullable=True, alias=SIGNAL_COLUMN_PATTERN, regex=True, required=False
    )
    """Any other column is a signal (the run's ``signals`` setting): floats, NaN allowed."""

    class Config:
        strict = True

    @pa.dataframe_check
    @classmethod
    def sorted_by_symbol_then_date(cls, df: pd.DataFrame) -> bool:
        """Rows are in strictly increasing (symbol, date) order: sorted, each pair once."""
        return strictly_increasing(df, ("symbol", "date"))


class FeaturesAudit(FeaturesContract):
    """Feature values lie in their mathematical ranges."""

    log_return: Series[float] = pa.Field(nullable=True, le=math.log1p(MAX_DAILY_SIMPLE_RETURN))
    volatility: Series[float] = pa.Field(nullable=True, ge=0)
    momentum: Series[float] = pa.Field(nullable=True, ge=-1)
    perm_entropy: Series[float] = pa.Field(nullable=True, ge=0, le=1 + 1e-12)
    hurst: Series[float] = pa.Field(nullable=True, ge=-0.5, le=2.0)


class RegimesContract(pa.DataFrameModel):
    """One market regime label per date."""

    date: Series[pd.Timestamp] = pa.Field(unique=True)
    market_return: Series[float] = pa.Field(nullable=True)
    market_volatility: Series[float] = pa.Field(nullable=True)
    volatility_threshold: Series[float] = pa.Field(nullable=True)
    trend: Series[float] = pa.Field(nullable=True)
    label: Series[str] = pa.Field(isin=list(REGIME_LABELS))

    class Config:
        strict = True

    @pa.dataframe_check
    @classmethod
    def sorted_by_date(cls, df: pd.DataFrame) -> bool:
        """Rows are in date order."""
        return bool(df["date"].is_monotonic_increasing)


class SelectionsContract(pa.DataFrameModel):
    """Every universe symbol with its score and whether (or why not) it is held."""

    symbol: Series[str] = pa.Field(unique=True)
    score: Series[float] = pa.Field(nullable=True)
    selected: Series[bool]
    rank: Series[int] = pa.Field(ge=0)
    reason: Series[str]
    regime: Series[str]

    class Config:
        strict = True


class SelectionsAudit(SelectionsContract):
    """Something is held, and every symbol left out says why."""

    @pa.dataframe_check
    @classmethod
    def something_selected(cls, df: pd.DataFrame) -> bool:
        """At least one symbol is selected."""
        return bool(df["selected"].any())

    @pa.dataframe_check
    @classmethod
    def exclusions_have_reasons(cls, df: pd.DataFrame) -> pd.Series:
        """A symbol not selected has a non-empty reason."""
        return df["selected"] | (df["reason"].str.len() > 0)


class AllocationsContract(pa.DataFrameModel):
    """Target weights per engine, as of the last date of the run."""

    engine: Series[str]
    symbol: Series[str]
    weight: Series[float]
    engine_used: Series[str]
    vetoes: Series[str]

    class Config:
        strict = True
        unique = ["engine", "symbol"]


class AllocationsAudit(AllocationsContract):
    """Weights are finite, long-only, and sum to one per engine."""

    weight: Series[float] = pa.Field(ge=0, le=1)

    @pa.dataframe_check
    @classmethod
    def weights_sum_to_one(cls, df: pd.DataFrame) -> pd.Series:
        """Each engine's weights sum to 1 within :data:`WEIGHT_SUM_TOLERANCE`."""
        totals = df.groupby("engine")["weight"].transform("sum")
        return (totals - 1.0).abs() <= WEIGHT_SUM_TOLERANCE


class TournamentWindowsContract(pa.DataFrameModel):
    """Walk-forward windows: training then test spans, in order, per profile."""

    profile: Series[str]
    window: Series[int] = pa.Field(ge=0)
    train_start: Series[pd.Timestamp]
    train_end: Series[pd.Timestamp]
    test_start: Series[pd.Timestamp]
    test_end: Series[pd.Timestamp]
    train_days: Series[int] = pa.Field(gt=0)
    test_days: Series[int] = pa.Field(gt=0)

    class Config:
        strict = True
        unique = ["profile", "window"]

    @pa.dataframe_check
    @classmethod
    def test_after_training(cls, df: pd.DataFrame) -> pd.Series:
        """No window tests on a date it trained on."""
        return (df["train_start"] <= df["train_end"]) & (df["train_end"] < df["test_start"])


class TournamentWeightsContract(pa.DataFrameModel):
    """Target weights per window x profile x engine."""

    window: Series[int] = pa.Field(ge=0)
    train_end: Series[pd.Timestamp]
    profile: Series[str]
    engine: Series[str]
    symbol: Series[str]
    weight: Series[float]

    class Config:
        strict = True
        unique = ["profile", "window", "engine", "symbol"]


class TournamentWeightsAudit(TournamentWeightsContract):
    """Guarded weights are long-only and fully invested."""

    weight: Series[float] = pa.Field(ge=0, le=1)

    @pa.dataframe_check
    @classmethod
    def weights_sum_to_one(cls, df: pd.DataFrame) -> pd.Series:
        """Each window x profile x engine sums to 1 within :data:`WEIGHT_SUM_TOLERANCE`."""
        totals = df.groupby(["profile", "window", "engine"])["weight"].transform("sum")
        return (totals - 1.0).abs() <= WEIGHT_SUM_TOLERANCE


class TournamentReturnsContract(pa.DataFrameModel):
    """Out-of-sample daily net returns per profile x engine (long)."""

    date: Series[pd.Timestamp]
    profile: Series[str]
    engine: Series[str]
    net_return: Series[float] = pa.Field(ge=-1.0)

    class Config:
        strict = True
        unique = ["profile", "engine", "date"]


class LeaderboardContract(pa.DataFrameModel):
    """One ranked row per profile x engine."""

    rank: Series[int] = pa.Field(ge=1, unique=True)
    profile: Series[str]
    engine: Series[str]
    annual_return: Series[float] = pa.Field(nullable=True)
    annual_volatility: Series[float] = pa.Field(nullable=True, ge=0)
    sharpe: Series[float] = pa.Field(nullable=True)
    sortino: Series[float] = pa.Field(nullable=True)
    max_drawdown: Series[float] = pa.Field(nullable=True, le=0, ge=-1)
    calmar: Series[float] = pa.Field(nullable=True)
    avg_turnover: Series[float] = pa.Field(nullable=True, ge=0)
    cost_drag: Series[float] = pa.Field(nullable=True, ge=0)
    vetoes: Series[int] = pa.Field(ge=0)
    days: Series[int] = pa.Field(gt=0)
    first_date: Series[pd.Timestamp]
    last_date: Series[pd.Timestamp]

    class Config:
        strict = True
        unique = ["profile", "engine"]


class RunLeaderboardContract(LeaderboardContract):
    """A run's leaderboard: also measured against the S&P 500 index where the dates overlap."""

    benchmark_days: Series[int] = pa.Field(ge=0)
    benchmark_annual_return: Series[float] = pa.Field(nullable=True)
    excess_annual_return: Series[float] = pa.Field(nullable=True)
    beta: Series[float] = pa.Field(nullable=True)
    tracking_error: Series[float] = pa.Field(nullable=True)
    information_ratio: Series[float] = pa.Field(nullable=True)
    # Is it luck? (quant_assets.overfitting.leaderboard_luck). Optional: a leaderboard stored
    # before them lacks them and is not damaged (`quant doctor`); production runs write them.
    closes_hash: Series[str] | None = pa.Field()
    psr: Series[float] | None = pa.Field(nullable=True, ge=0, le=1)
    n_trials: Series[int] | None = pa.Field(ge=0)
    dsr: Series[float] | None = pa.Field(nullable=True, ge=0, le=1)
    effective_trials: Series[float] | None = pa.Field(nullable=True, ge=1)
    dsr_effective: Series[float] | None = pa.Field(nullable=True, ge=0, le=1)
    min_track_record: Series[float] | None = pa.Field(nullable=True, gt=0)
    sharpe_low: Series[float] | None = pa.Field(nullable=True)
    sharpe_high: Series[float] | None = pa.Field(nullable=True)
    annual_return_low: Series[float] | None = pa.Field(nullable=True, ge=-1)
    annual_return_high: Series[float] | None = pa.Field(nullable=True, ge=-1)
    max_drawdown_low: Series[float] | None = pa.Field(nullable=True, le=0, ge=-1)
    max_drawdown_high: Series[float] | None = pa.Field(nullable=True, le=0, ge=-1)
    spa_pvalue: Series[float] | None = pa.Field(nullable=True, ge=0, le=1)


class OverfittingContract(pa.DataFrameModel):
    """A run's CSCV: one row per split, the run's PBO and its best strategy's DSR on each."""

    split: Series[int] = pa.Field(ge=0, unique=True)
    winner: Series[str]
    in_sample_sharpe: Series[float] = pa.Field(nullable=True)
    out_of_sample_sharpe: Series[float] = pa.Field(nullable=True)
    logit: Series[float]
    pbo: Series[float] = pa.Field(ge=0, le=1)
    probability_of_loss: Series[float] = pa.Field(ge=0, le=1)
    degradation_slope: Series[float] = pa.Field(nullable=True)
    degradation_intercept: Series[float] = pa.Field(nullable=True)
    n_blocks: Series[int] = pa.Field(ge=2)
    n_strategies: Series[int] = pa.Field(ge=2)
    best_strategy: Series[str]
    best_dsr: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    n_trials: Series[int] = pa.Field(ge=0)

    class Config:
        strict = True


class TournamentGuardContract(pa.DataFrameModel):
    """The SolverGuard's record per window x profile x engine."""

    window: Series[int] = pa.Field(ge=0)
    train_end: Series[pd.Timestamp]
    profile: Series[str]
    engine: Series[str]
    engine_used: Series[str]
    selected: Series[int] = pa.Field(ge=0)
    eligible: Series[int] = pa.Field(ge=0)
    ridge: Series[float] = pa.Field(ge=0, le=1)
    condition_before: Series[float] = pa.Field(nullable=True)
    condition_after: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["profile", "window", "engine"]


class TournamentVetoesContract(pa.DataFrameModel):
    """Every vetoed engine, with its reason."""

    window: Series[int] = pa.Field(ge=0)
    train_end: Series[pd.Timestamp]
    profile: Series[str]
    engine: Series[str]
    vetoed_engine: Series[str]
    reason: Series[str] = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True


class TournamentWindowResultsContract(pa.DataFrameModel):
    """Per window x profile x engine: what was held and what it cost and earned."""

    profile: Series[str]
    engine: Series[str]
    window: Series[int] = pa.Field(ge=0)
    test_start: Series[pd.Timestamp]
    test_end: Series[pd.Timestamp]
    engine_used: Series[str]
    holdings: Series[int] = pa.Field(ge=0)
    turnover: Series[float] = pa.Field(ge=0)
    cost: Series[float] = pa.Field(ge=0)
    gross_return: Series[float] = pa.Field(ge=-1)
    net_return: Series[float] = pa.Field(ge=-1)
    vetoes: Series[int] = pa.Field(ge=0)
    liquidated: Series[str]
    """Symbols that stopped trading while held, sold at their last close (``;``-separated)."""
    liquidated_value: Series[float] = pa.Field(ge=0)
    """What those positions were worth at exit, as a fraction of the window's starting value."""

    class Config:
        strict = True
        unique = ["profile", "engine", "window"]


STORED_CONTRACTS: dict[str, type[pa.DataFrameModel]] = {
    "market_data": MarketDataContract,
    "universe": UniverseContract,
    "closes": ClosesContract,
    "features": FeaturesContract,
    "regimes": RegimesContract,
    "selections": SelectionsContract,
    "allocations": AllocationsContract,
    "tournament_windows": TournamentWindowsContract,
    "tournament_weights": TournamentWeightsContract,
    "tournament_returns": TournamentReturnsContract,
    "leaderboard": RunLeaderboardContract,
    "overfitting": OverfittingContract,
    "tournament_guard": TournamentGuardContract,
    "tournament_vetoes": TournamentVetoesContract,
    "tournament_window_results": TournamentWindowResultsContract,
}
"""The structural (tier 1) contract of every stored frame, by asset name (``quant doctor``)."""


BATCHABLE_ROW_ORDER: dict[type[pa.DataFrameModel], tuple[str, ...]] = {
    FeaturesContract: ("symbol", "date"),
}
"""Contracts a large frame may be validated against in batches of rows, with the keys its rows
strictly increase in. Every other check of these contracts is row by row, so validating each
batch, plus the order across each boundary between batches, validates the whole frame."""


def batchable_row_order(contract: type[pa.DataFrameModel]) -> tuple[str, ...] | None:
    """The keys of :data:`BATCHABLE_ROW_ORDER` for ``contract`` (or a subclass), else None."""
    for base, keys in BATCHABLE_ROW_ORDER.items():
        if issubclass(contract, base):
            return keys
    return None
