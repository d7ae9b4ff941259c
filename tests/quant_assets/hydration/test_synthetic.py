"""The synthetic market behaves like a stock market (on 200 symbols x 5 years, seed 7).

The statistics bounds are the benchmark's targets for 1,000 symbols x 10 years; on 16 seeds of
200 x 5 years the statistics ranged over: mean pairwise correlation 0.18-0.32, equal-weight
volatility 13-22%, listing late 13.5-22%, delisted 11.5-22.5% (expected 18% and 15%), so the
same bounds hold on the smaller sample.
"""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from lakehouse import LakehouseStore
from quant_assets.freshness import stale_symbols
from quant_assets.hydration.bars import BAR_COLUMNS, canonical_bars
from quant_assets.hydration.synthetic import (
    ACQUISITION_PREMIUM_RANGE,
    BANKRUPTCY_DECAY_DAYS,
    BANKRUPTCY_LOSS_RANGE,
    CALM_MEAN_DAYS,
    CRISIS_MEAN_DAYS,
    MIN_LISTED_DAYS,
    SyntheticSource,
)
from tests.conftest import hydrate_cleanly

END = date(2024, 12, 31)
N_SYMBOLS, YEARS, SEED = 200, 5, 7


@pytest.fixture(scope="module")
def source() -> SyntheticSource:
    return SyntheticSource(N_SYMBOLS, YEARS, END, SEED)


@pytest.fixture(scope="module")
def bars(source: SyntheticSource) -> dict[str, pd.DataFrame]:
    return source.fetch_many(source.symbols())


@pytest.fixture(scope="module")
def returns(source: SyntheticSource, bars: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Daily simple returns, dates x symbols, NaN where a symbol did not trade both days."""
    closes = pd.DataFrame({s: frame.set_index("date")["close"] for s, frame in bars.items()})
    return closes.reindex(source.dates).pct_change(fill_method=None).iloc[1:]


def test_common_factor_gives_stock_market_correlation_and_volatility(returns: pd.DataFrame):
    correlation = returns.corr(min_periods=63).to_numpy()
    mean_correlation = np.nanmean(correlation[np.triu_indices_from(correlation, k=1)])
    assert 0.15 <= mean_correlation <= 0.45
    equal_weight = returns.mean(axis=1)  # the symbols alive that day
    volatility = equal_weight.std() * np.sqrt(252)
    assert 0.10 <= volatility <= 0.30
    sharpe = equal_weight.mean() / equal_weight.std() * np.sqrt(252)
    assert abs(sharpe) < 3.0  # the factor-free generator had 9.2


def test_crises_hit_every_symbol_together(source: SyntheticSource, returns: pd.DataFrame):
    crisis = source.crisis[1:]
    assert 0 < crisis.sum() < len(crisis)
    dispersion = returns.abs().mean(axis=1).to_numpy()
    assert dispersion[crisis].mean() > 1.5 * dispersion[~crisis].mean()
    market_moves = returns.mean(axis=1).abs().to_numpy()
    assert market_moves[crisis].mean() > 2.0 * market_moves[~crisis].mean()


def test_idiosyncratic_returns_are_fat_tailed(source: SyntheticSource, returns: pd.DataFrame):
    listed = [s for s in source.symbols() if source.profile(s).fate == "listed"]  # no jumps
    calm = returns.loc[~source.crisis[1:], listed]
    residual = calm.sub(calm.mean(axis=1), axis=0)  # removes most of the common factors
    standardized = (residual - residual.mean()) / residual.std()
    pooled = standardized.to_numpy().ravel()
    pooled = pooled[~np.isnan(pooled)]
    excess_kurtosis = np.mean(pooled**4) - 3.0
    assert excess_kurtosis > 1.0  # Gaussian shocks give about 0


def test_regime_chain_spells_have_the_documented_lengths():
    crisis = SyntheticSource(1, 200, date(2200, 12, 31), SEED).crisis
    change = np.flatnonzero(np.diff(crisis.astype(int))) + 1
    starts = np.r_[0, change]
    lengths = np.diff(np.r_[starts, len(crisis)])[1:-1]  # whole spells only
    in_crisis = crisis[starts][1:-1]
    assert in_crisis.sum() > 30
    assert lengths[in_crisis].mean() == pytest.approx(CRISIS_MEAN_DAYS, rel=0.3)
    assert lengths[~in_crisis].mean() == pytest.approx(CALM_MEAN_DAYS, rel=0.3)


def test_listings_and_delistings_bound_each_symbols_bars(source: SyntheticSource, bars):
    profiles = [source.profile(symbol) for symbol in source.symbols()]
    first_day, last_day = source.dates[0].date(), source.dates[-1].date()
    assert np.mean([p.first_date > first_day for p in profiles]) >= 0.10
    assert np.mean([p.last_date < last_day for p in profiles]) >= 0.10
    assert source.last_dates() == {p.symbol: p.last_date for p in profiles}
    for profile in profiles:
        frame = bars[profile.symbol]
        assert frame["date"].iloc[0].date() == profile.first_date
        assert frame["date"].iloc[-1].date() == profile.last_date
        assert source.last_date(profile.symbol) == profile.last_date
        assert len(frame) == profile.last_index - profile.first_index + 1 >= MIN_LISTED_DAYS
        assert (profile.fate == "listed") == (profile.last_date == last_day)


def test_acquired_symbols_end_with_a_jump_up(source: SyntheticSource, bars):
    acquired = [p for p in map(source.profile, source.symbols()) if p.fate == "acquired"]
    assert len(acquired) >= 5
    for profile in acquired:
        close = bars[profile.symbol]["close"].to_numpy()
        jump = close[-1] / close[-2] - 1.0
        assert ACQUISITION_PREMIUM_RANGE[0] <= jump <= ACQUISITION_PREMIUM_RANGE[1]
        assert jump == pytest.approx(profile.delisting_move, rel=1e-9)


def test_bankrupt_symbols_end_down_a_lot(source: SyntheticSource, bars):
    bankrupt = [p for p in map(source.profile, source.symbols()) if p.fate == "bankrupt"]
    assert len(bankrupt) >= 5
    for profile in bankrupt:
        assert BANKRUPTCY_LOSS_RANGE[0] <= profile.delisting_move <= BANKRUPTCY_LOSS_RANGE[1]
        close = bars[profile.symbol]["close"].to_numpy()
        assert close[-1] / close[-1 - BANKRUPTCY_DECAY_DAYS] < 0.3


def test_bars_are_canonical_and_ohlc_consistent(bars):
    for symbol, frame in bars.items():
        assert list(frame.columns) == list(BAR_COLUMNS)
        pd.testing.assert_frame_equal(canonical_bars(frame, source="t", symbol=symbol), frame)
        assert not frame.isna().any().any()
        assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
        assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
        assert (frame["low"] > 0).all() and (frame["volume"] >= 1).all()


def test_bars_depend_only_on_seed_and_symbol(source: SyntheticSource, bars):
    few = SyntheticSource(50, YEARS, END, SEED)
    picked = ["SYN0042", "SYN0007", "SYN0031"]
    reversed_order = few.fetch_many(picked[::-1])
    for symbol in picked:
        pd.testing.assert_frame_equal(few.fetch(symbol), bars[symbol])
        pd.testing.assert_frame_equal(reversed_order[symbol], bars[symbol])
    np.testing.assert_array_equal(few.market, source.market)
    np.testing.assert_array_equal(few.sectors, source.sectors)
    other = SyntheticSource(50, YEARS, END, SEED + 1)
    assert not np.allclose(other.market, source.market)
    assert other.profile("SYN0042") != source.profile("SYN0042")


def test_fetch_many_equals_fetch_and_start_slices(source: SyntheticSource, bars):
    delisted = next(p for p in map(source.profile, source.symbols()) if p.fate != "listed")
    start = source.dates[len(source.dates) // 2].date()
    many = source.fetch_many(["SYN0001", delisted.symbol, "SYN0001"], start=start)
    assert list(many) == ["SYN0001", delisted.symbol]
    for symbol, frame in many.items():
        pd.testing.assert_frame_equal(frame, source.fetch(symbol, start=start))
        full = bars[symbol]
        expected = full[full["date"] >= pd.Timestamp(start)].reset_index(drop=True)
        pd.testing.assert_frame_equal(frame, expected)
    after_delisting = source.fetch(delisted.symbol, start=delisted.last_date.replace(day=1))
    assert after_delisting["date"].iloc[-1].date() == delisted.last_date
    late = source.dates[-1].date()
    if delisted.last_date < late:
        assert source.fetch(delisted.symbol, start=late).empty


def test_unknown_symbols_are_refused_with_the_range_made(source: SyntheticSource):
    with pytest.raises(KeyError, match=r"no symbol 'SYN9999' \(200 made: SYN0000 to SYN0199\)"):
        source.fetch("SYN9999")
    with pytest.raises(KeyError, match="no symbol 'NOPE'"):
        source.fetch_many(["SYN0000", "NOPE"])
    with pytest.raises(KeyError, match="no symbol 'NOPE'"):
        source.last_date("NOPE")


def test_a_hydrated_delisted_symbol_is_fresh_not_stale(source: SyntheticSource, tmp_path):
    delisted = next(p for p in map(source.profile, source.symbols()) if p.fate != "listed")
    listed = next(p for p in map(source.profile, source.symbols()) if p.fate == "listed")
    store = LakehouseStore(tmp_path)
    for profile in (delisted, listed):
        first = hydrate_cleanly(store, source, [profile.symbol])[profile.symbol]
        assert first.last_date == str(profile.last_date)
        assert hydrate_cleanly(store, source, [profile.symbol])[profile.symbol].new_rows == 0
    status = stale_symbols(store, source).set_index("symbol")["status"]
    assert status[delisted.symbol] == status[listed.symbol] == "fresh"
