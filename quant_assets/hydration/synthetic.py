"""The synthetic market: a seeded generator of daily OHLCV bars that behaves like a stock market.

Calendar
--------
The ``years * 252`` business days ending on ``end``. Parameters below are given per year and
turned into daily ones with :data:`TRADING_DAYS_PER_YEAR`.

Regimes
-------
Every day is calm or crisis. The regime is ONE two-state Markov chain shared by all symbols, so a
crisis hits everyone together. Spells have geometric lengths with means :data:`CALM_MEAN_DAYS`
(3 years) and :data:`CRISIS_MEAN_DAYS` (about 3.5 months), i.e. daily switching probabilities
``1 / CALM_MEAN_DAYS`` and ``1 / CRISIS_MEAN_DAYS``; the first day's regime is drawn from the
chain's stationary distribution (crisis with probability ``75 / 825``, about 9% of days).

Returns
-------
The daily log return of symbol ``i`` of sector ``k`` on day ``t`` in regime ``g`` is::

    r[i, t] = a_i + b_i * m[t] + c_i * s[k, t] + v[i, t] * e[i, t] + d[i, t] - var[i, t] / 2

- ``a_i``: the symbol's annual alpha / 252;
- ``m[t] = MARKET_DRIFT[g] + MARKET_VOL[g] * z[t]``: the market factor, normal within a regime
  (calm: +20% a year, 12% volatility; crisis: -50% a year, 40% volatility);
- ``s[k, t] = SECTOR_VOL * REGIME_VOL_SCALE[g] * z[k, t]``: one of :data:`N_SECTORS` zero-mean
  sector factors (12% a year, 1.5x in a crisis);
- ``e[i, t]``: Student-t with :data:`IDIO_DOF` degrees of freedom scaled to unit variance, with
  volatility ``v[i, t] = idio_vol_i * REGIME_VOL_SCALE[g]`` (times
  :data:`DISTRESS_VOL_MULTIPLIER` while the symbol goes bankrupt);
- ``var[i, t]``: the day's variance of the random part, subtracted half so the expected gross
  return is ``exp(a_i + b_i * MARKET_DRIFT[g])``: the drifts are expected simple returns;
- ``d[i, t]``: the bankruptcy drift (below), zero otherwise.

Per symbol: sector uniform among :data:`N_SECTORS`; beta ``b_i`` in :data:`BETA_RANGE`, sector
loading ``c_i`` in :data:`SECTOR_LOADING_RANGE`, idiosyncratic volatility in
:data:`IDIO_VOL_RANGE` (uniform); alpha ``a_i`` normal with :data:`ALPHA_SD`; first close
log-uniform in :data:`START_PRICE_RANGE`.

Listings and delistings
-----------------------
A symbol lists after the first day with probability ``1 - exp(-LISTING_RATE * years)``, on a day
uniform over the history that leaves it :data:`MIN_LISTED_DAYS` to trade. From its listing it
trades at least :data:`MIN_LISTED_DAYS` days, then survives an exponential time with rate
:data:`DELISTING_RATE` per year; if that ends before the last day it is delisted there:

- acquired (share :data:`ACQUIRED_SHARE`): its last bar jumps by a premium in
  :data:`ACQUISITION_PREMIUM_RANGE` (that day's log return is exactly ``log(1 + premium)``);
- bankrupt (the rest): over its last :data:`BANKRUPTCY_DECAY_DAYS` days it drifts down by a total
  loss in :data:`BANKRUPTCY_LOSS_RANGE`, with :data:`DISTRESS_VOL_MULTIPLIER` times its
  idiosyncratic volatility, then stops.

A symbol's first close (on its listing day) is its start price. It has bars only from its
listing to its last day; :meth:`SyntheticSource.last_date` is its
own last day (a delisted symbol's is its delisting date).

Bars
----
Open: the previous close times ``exp(OPEN_GAP_SCALE * sd * z)`` (``sd``: the day's volatility);
high and low: ``max(open, close)`` and ``min(open, close)`` stretched by
``exp(+-BAR_RANGE_SCALE * sd * |z|)``; volume: log-normal around a per-symbol level, times
``1 + |r| / sd`` (big moves trade more), at least 1.

Determinism
-----------
The regime path and the market factor depend only on (seed, dates), sector ``k``'s factor on
(seed, dates, k), and a symbol's parameters and idiosyncratic draws on (seed, dates, symbol):
generators ``np.random.default_rng([seed, stream, key])`` with one stream per kind and
``key = crc32(symbol)`` for symbols. A symbol's bars never depend on how many symbols are made
or in which order they are fetched.

What it gives
-------------
On 1,000 symbols x 10 years (``benchmarks/bench_synthetic.py``, seed 7): mean pairwise
correlation of daily returns about 0.27, equal-weight volatility about 18% a year, about 30% of
symbols listing late and 25% delisted. The equal-weight return averages about 9% a year over
seeds, with a 10-year spread of about 7% (seed 7: 1%), as a real decade's would.
"""

import zlib
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_assets.calendar import TRADING_DAYS_PER_YEAR
from quant_assets.hydration.bars import canonical_bars

Floats = npt.NDArray[np.float64]
Fate = Literal["listed", "acquired", "bankrupt"]

CALM_MEAN_DAYS = 750.0
"""Mean length of a calm spell (trading days)."""
CRISIS_MEAN_DAYS = 75.0
"""Mean length of a crisis spell (trading days)."""
MARKET_DRIFT = (0.20 / TRADING_DAYS_PER_YEAR, -0.50 / TRADING_DAYS_PER_YEAR)
"""Daily expected market return in (calm, crisis)."""
MARKET_VOL = (0.12 / TRADING_DAYS_PER_YEAR**0.5, 0.40 / TRADING_DAYS_PER_YEAR**0.5)
"""Daily market volatility in (calm, crisis)."""
REGIME_VOL_SCALE = (1.0, 1.5)
"""Multiplier of sector and idiosyncratic volatility in (calm, crisis)."""
N_SECTORS = 6
SECTOR_VOL = 0.12 / TRADING_DAYS_PER_YEAR**0.5
"""Daily volatility of each sector factor in calm times."""
IDIO_DOF = 4.0
"""Degrees of freedom of the Student-t idiosyncratic shocks (fat tails)."""
BETA_RANGE = (0.5, 1.5)
SECTOR_LOADING_RANGE = (0.5, 1.5)
IDIO_VOL_RANGE = (0.12, 0.35)
"""Annual idiosyncratic volatility in calm times, uniform in this range."""
ALPHA_SD = 0.02
"""Standard deviation of the per-symbol annual alpha (expected return beyond beta x market)."""
START_PRICE_RANGE = (5.0, 200.0)
VOLUME_LOG_LEVEL = (13.0, 1.0)
"""Mean and spread across symbols of the log of a symbol's typical daily volume."""
VOLUME_LOG_NOISE = 0.4
OPEN_GAP_SCALE = 0.3
BAR_RANGE_SCALE = 0.5
LISTING_RATE = 0.04
"""Listings per symbol per year: ``1 - exp(-LISTING_RATE * years)`` list after the first day."""
DELISTING_RATE = 0.04
"""Delisting hazard per year once :data:`MIN_LISTED_DAYS` have passed."""
MIN_LISTED_DAYS = 126
"""Every symbol trades at least this many days (>= :data:`BANKRUPTCY_DECAY_DAYS`)."""
ACQUIRED_SHARE = 0.6
"""Share of delistings that are acquisitions (the rest are bankruptcies)."""
ACQUISITION_PREMIUM_RANGE = (0.20, 0.40)
BANKRUPTCY_LOSS_RANGE = (0.80, 0.95)
"""Total loss (fraction of the price) drifted over the last :data:`BANKRUPTCY_DECAY_DAYS` days."""
BANKRUPTCY_DECAY_DAYS = 84
DISTRESS_VOL_MULTIPLIER = 2.0
REGIME_STREAM, MARKET_STREAM, SECTOR_STREAM, SYMBOL_STREAM = 1, 2, 3, 4
"""Seed-sequence stream tags: ``default_rng([seed, stream, key])``."""
SYMBOLS_PER_BLOCK = 256
"""Symbols generated together in one array block by :meth:`SyntheticSource.fetch_many`."""


@dataclass(frozen=True)
class SymbolProfile:
    """One synthetic symbol's drawn parameters and life (indices into the source's dates)."""

    symbol: str
    sector: int
    beta: float
    sector_loading: float
    idio_vol: float
    """Annual idiosyncratic volatility in calm times."""
    alpha: float
    """Annual expected return beyond beta x market."""
    start_price: float
    volume_level: float
    first_index: int
    last_index: int
    fate: Fate
    """``listed`` (trades to the end), ``acquired`` or ``bankrupt``."""
    delisting_move: float
    """Acquisition premium or bankruptcy loss (fraction); 0 for a listed symbol."""
    first_date: date
    last_date: date


@dataclass(frozen=True)
class _Noise:
    """A symbol's idiosyncratic draws, each of shape (n_days,)."""

    idio: Floats
    gap: Floats
    high: Floats
    low: Floats
    volume: Floats


class SyntheticSource:
    """A seeded synthetic stock market: common factors, regimes, listings and delistings.

    See the module docstring for the model. ``SYN0000``, ``SYN0001``, ... are made; each symbol's
    bars depend only on ``(seed, years, end, symbol)``.
    """

    name = "synthetic"

    def __init__(self, n_symbols: int, years: int, end: date, seed: int) -> None:
        self.n_symbols = n_symbols
        self.years = years
        self.end = end
        self.seed = seed
        self._profiles: dict[str, SymbolProfile] = {}

    @cached_property
    def dates(self) -> pd.DatetimeIndex:
        """Business days of the generated history."""
        return pd.bdate_range(end=self.end, periods=self.years * TRADING_DAYS_PER_YEAR)

    def symbols(self) -> list[str]:
        """``SYN0000``, ``SYN0001``, ..."""
        width = max(4, len(str(self.n_symbols - 1)))
        return [f"SYN{i:0{width}d}" for i in range(self.n_symbols)]

    @cached_property
    def _known(self) -> frozenset[str]:
        return frozenset(self.symbols())

    def _rng(self, stream: int, key: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream, key])

    @cached_property
    def crisis(self) -> npt.NDArray[np.bool_]:
        """Shape (n_days,): True on crisis days of the shared regime chain."""
        rng = self._rng(REGIME_STREAM, 0)
        n = len(self.dates)
        leave = (1.0 / CALM_MEAN_DAYS, 1.0 / CRISIS_MEAN_DAYS)
        state = int(rng.random() < CRISIS_MEAN_DAYS / (CALM_MEAN_DAYS + CRISIS_MEAN_DAYS))
        path = np.zeros(n, dtype=bool)
        day = 0
        while day < n:  # one step per spell (geometric lengths), not per day
            length = int(rng.geometric(leave[state]))
            path[day : day + length] = bool(state)
            day += length
            state = 1 - state
        return path

    @cached_property
    def _regime(self) -> npt.NDArray[np.intp]:
        return self.crisis.astype(np.intp)

    @cached_property
    def market(self) -> Floats:
        """Shape (n_days,): the market factor's daily log returns."""
        shocks = self._rng(MARKET_STREAM, 0).standard_normal(len(self.dates))
        drift, vol = np.asarray(MARKET_DRIFT), np.asarray(MARKET_VOL)
        return drift[self._regime] + vol[self._regime] * shocks

    @cached_property
    def sectors(self) -> Floats:
        """Shape (N_SECTORS, n_days): the sector factors' daily log returns."""
        scale = SECTOR_VOL * np.asarray(REGIME_VOL_SCALE)[self._regime]
        n = len(self.dates)
        shocks = [self._rng(SECTOR_STREAM, k).standard_normal(n) for k in range(N_SECTORS)]
        factors: Floats = scale * np.stack(shocks)
        return factors

    def _draw_profile(self, symbol: str) -> tuple[SymbolProfile, np.random.Generator]:
        rng = self._rng(SYMBOL_STREAM, zlib.crc32(symbol.encode()))
        sector = int(rng.integers(N_SECTORS))
        beta = rng.uniform(*BETA_RANGE)
        loading = rng.uniform(*SECTOR_LOADING_RANGE)
        idio_vol = rng.uniform(*IDIO_VOL_RANGE)
        alpha = rng.normal(0.0, ALPHA_SD)
        low, high = np.log(START_PRICE_RANGE)
        start_price = float(np.exp(rng.uniform(low, high)))
        volume_level = rng.normal(*VOLUME_LOG_LEVEL)
        late_draw, day_draw, fate_draw, move_draw = rng.random(4)
        life_draw = rng.exponential(TRADING_DAYS_PER_YEAR / DELISTING_RATE)
        n = len(self.dates)
        latest_listing = n - MIN_LISTED_DAYS
        late = latest_listing >= 1 and late_draw < 1.0 - np.exp(-LISTING_RATE * self.years)
        first = 1 + int(day_draw * latest_listing) if late else 0
        last = first + MIN_LISTED_DAYS - 1 + int(life_draw)
        fate: Fate = "listed"
        move = 0.0
        if last < n - 1:
            fate = "acquired" if fate_draw < ACQUIRED_SHARE else "bankrupt"
            bounds = ACQUISITION_PREMIUM_RANGE if fate == "acquired" else BANKRUPTCY_LOSS_RANGE
            move = bounds[0] + float(move_draw) * (bounds[1] - bounds[0])
        last = min(last, n - 1)
        profile = SymbolProfile(
            symbol=symbol,
            sector=sector,
            beta=float(beta),
            sector_loading=float(loading),
            idio_vol=float(idio_vol),
            alpha=float(alpha),
            start_price=start_price,
            volume_level=float(volume_level),
            first_index=first,
            last_index=last,
            fate=fate,
            delisting_move=move,
            first_date=self.dates[first].date(),
            last_date=self.dates[last].date(),
        )
        return profile, rng

    def profile(self, symbol: str) -> SymbolProfile:
        """``symbol``'s drawn parameters, listing and delisting (KeyError if not made)."""
        if symbol not in self._known:
            raise KeyError(
                f"source 'synthetic' has no symbol {symbol!r} ({self.n_symbols} made: "
                f"{self.symbols()[0]} to {self.symbols()[-1]})"
            )
        if symbol not in self._profiles:
            self._profiles[symbol] = self._draw_profile(symbol)[0]
        return self._profiles[symbol]

    def last_date(self, symbol: str) -> date | None:
        """``symbol``'s last bar: the end date, or its delisting date."""
        return self.profile(symbol).last_date

    def last_dates(self) -> dict[str, date | None]:
        """Every symbol's last date at once (no bars are generated)."""
        return {symbol: self.profile(symbol).last_date for symbol in self.symbols()}

    def fetch(self, symbol: str, start: date | None = None) -> pd.DataFrame:
        """Canonical bars of ``symbol`` from ``start`` (inclusive) within its life."""
        return self.fetch_many([symbol], start)[symbol]

    def fetch_many(self, symbols: list[str], start: date | None = None) -> dict[str, pd.DataFrame]:
        """Canonical bars of many symbols at once, generated in array blocks.

        Parameters
        ----------
        symbols : list of str
            Symbols of this source (KeyError names the first unknown one).
        start : date, optional
            First date wanted (inclusive); None: each symbol's whole life.

        Returns
        -------
        dict of str to DataFrame
            ``symbol -> bars`` in the order asked; each frame has only the dates the symbol
            traded (empty if ``start`` is after its last date), no NaN. Equal to :meth:`fetch`.
        """
        for symbol in symbols:
            self.profile(symbol)
        start_index = 0 if start is None else int(self.dates.searchsorted(pd.Timestamp(start)))
        unique = list(dict.fromkeys(symbols))
        bars: dict[str, pd.DataFrame] = {}
        for offset in range(0, len(unique), SYMBOLS_PER_BLOCK):
            bars.update(self._block(unique[offset : offset + SYMBOLS_PER_BLOCK], start_index))
        return bars

    def _block(self, symbols: list[str], start_index: int) -> dict[str, pd.DataFrame]:
        n = len(self.dates)
        profiles, noises = [], []
        for symbol in symbols:
            profile, rng = self._draw_profile(symbol)
            profiles.append(profile)
            noises.append(_draw_noise(rng, n))
        paths = _price_paths(profiles, noises, self.market, self.sectors, self._regime)
        bars: dict[str, pd.DataFrame] = {}
        for row, profile in enumerate(profiles):
            lo, hi = max(profile.first_index, start_index), profile.last_index + 1
            columns = {column: values[row, lo:hi] for column, values in paths.items()}
            frame = pd.DataFrame({"date": self.dates[lo:hi], **columns})
            bars[profile.symbol] = canonical_bars(frame, source=self.name, symbol=profile.symbol)
        return bars


def _draw_noise(rng: np.random.Generator, n: int) -> _Noise:
    unit_t = np.sqrt((IDIO_DOF - 2.0) / IDIO_DOF)
    return _Noise(
        idio=rng.standard_t(IDIO_DOF, n) * unit_t,
        gap=rng.standard_normal(n),
        high=np.abs(rng.standard_normal(n)),
        low=np.abs(rng.standard_normal(n)),
        volume=rng.standard_normal(n),
    )


def _column(profiles: list[SymbolProfile], name: str) -> Floats:
    return np.array([getattr(p, name) for p in profiles], dtype=np.float64)[:, None]


def _price_paths(
    profiles: list[SymbolProfile],
    noises: list[_Noise],
    market: Floats,
    sectors: Floats,
    regime: npt.NDArray[np.intp],
) -> dict[str, Floats]:
    """OHLCV arrays of shape (n_symbols, n_days) over the whole calendar (outside life: stale)."""
    n = market.shape[0]
    day = np.arange(n)[None, :]
    first = np.array([p.first_index for p in profiles])[:, None]
    last = np.array([p.last_index for p in profiles])[:, None]
    bankrupt = np.array([p.fate == "bankrupt" for p in profiles])[:, None]
    beta, loading = _column(profiles, "beta"), _column(profiles, "sector_loading")
    scale = np.asarray(REGIME_VOL_SCALE)[regime]
    idio_sd = _column(profiles, "idio_vol") / np.sqrt(TRADING_DAYS_PER_YEAR) * scale
    decaying = bankrupt & (day > last - BANKRUPTCY_DECAY_DAYS) & (day <= last)
    idio_sd = np.where(decaying, DISTRESS_VOL_MULTIPLIER * idio_sd, idio_sd)
    market_var = np.asarray(MARKET_VOL)[regime] ** 2
    sector_var = (SECTOR_VOL * scale) ** 2
    variance = beta**2 * market_var + loading**2 * sector_var + idio_sd**2
    decay_drift = np.log1p(-_column(profiles, "delisting_move")) / BANKRUPTCY_DECAY_DAYS
    log_return = (
        _column(profiles, "alpha") / TRADING_DAYS_PER_YEAR
        + beta * market
        + loading * sectors[[p.sector for p in profiles]]
        + idio_sd * np.stack([noise.idio for noise in noises])
        - 0.5 * variance
        + np.where(decaying, decay_drift, 0.0)
    )
    for row, profile in enumerate(profiles):
        if profile.fate == "acquired":
            log_return[row, profile.last_index] = np.log1p(profile.delisting_move)
    log_return[day <= first] = 0.0
    close = _column(profiles, "start_price") * np.exp(np.cumsum(log_return, axis=1))
    previous = np.concatenate([close[:, :1], close[:, :-1]], axis=1)
    day_sd = np.sqrt(variance)
    open_ = previous * np.exp(OPEN_GAP_SCALE * day_sd * np.stack([z.gap for z in noises]))
    high = np.maximum(open_, close) * np.exp(
        BAR_RANGE_SCALE * day_sd * np.stack([z.high for z in noises])
    )
    low = np.minimum(open_, close) * np.exp(
        -BAR_RANGE_SCALE * day_sd * np.stack([z.low for z in noises])
    )
    typical = np.exp(
        _column(profiles, "volume_level") + VOLUME_LOG_NOISE * np.stack([z.volume for z in noises])
    )
    volume = np.maximum(1.0, np.round(typical * (1.0 + np.abs(log_return) / day_sd)))
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}
