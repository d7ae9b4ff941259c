"""Platform settings: one validated pydantic model, named profiles, and the active-settings context.

Settings come from, in increasing priority: field defaults, ``QUANT_*`` environment variables,
the named profile (``canary``, ``production``, ...), and explicit overrides passed to
:meth:`Settings.for_profile` or :meth:`Settings.clone`.

The active settings live in a :class:`contextvars.ContextVar`, so threads and asyncio tasks
each see their own; workers (processes, Ray tasks) receive them explicitly and re-enter them
with :func:`use_settings`. Nothing reads a module-level global after import.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SourceName = Literal["bundled", "synthetic", "files", "yfinance"]
ExecutorName = Literal["serial", "local", "ray"]
CovarianceName = Literal["sample", "ledoit_wolf"]
SelectionName = Literal["top_n", "all"]
WindowMode = Literal["rolling", "expanding"]

ENGINE_NAMES: tuple[str, ...] = (
    "equal_weight",
    "inverse_volatility",
    "min_variance",
    "max_sharpe",
    "risk_parity",
    "hrp",
    "market",
)
"""Every allocation engine the platform knows, by the name settings use."""

PROFILES: dict[str, dict[str, Any]] = {
    "canary": {
        "start_date": date(2016, 1, 1),
        "train": 252,
        "test": 63,
        "step": 63,
        "top_n": 8,
        "engines": ["equal_weight", "inverse_volatility", "min_variance", "market"],
    },
    "production": {
        "start_date": None,
        "train": 504,
        "test": 21,
        "step": 21,
        "top_n": 10,
        "engines": list(ENGINE_NAMES),
    },
}
"""Named settings variants. ``canary`` runs in seconds on recent bundled data; ``production``
uses the full bundled history (1990-2022) and every engine."""


class Settings(BaseSettings):
    """Every tunable of the platform, validated.

    Build one with ``Settings()`` (defaults and ``QUANT_*`` environment variables),
    ``Settings.for_profile("canary", top_n=5)``, or ``settings.clone(top_n=5)``.
    """

    model_config = SettingsConfigDict(
        env_prefix="QUANT_", frozen=True, extra="forbid", validate_default=True
    )

    # Where things live
    data_root: Path = Field(
        Path("data/lakehouse"), description="Root folder of the lakehouse (Parquet and JSON)."
    )
    profile: str = Field("canary", description="Name of the profile these settings came from.")

    # Hydration
    source: SourceName = Field("bundled", description="Where `hydrate` reads market data.")
    source_path: Path | None = Field(
        None, description="Folder of `<SYMBOL>.csv|.parquet` files for the `files` source."
    )
    synthetic_symbols: int = Field(50, ge=1, description="Symbols the synthetic source makes.")
    synthetic_years: int = Field(10, ge=1, description="Years of daily bars it makes.")
    synthetic_end: date = Field(
        date(2024, 12, 31), description="Last date of the synthetic source (fixed: reproducible)."
    )

    # Discovery
    symbols: list[str] | None = Field(
        None, description="Restrict the universe to these symbols (None: every hydrated symbol)."
    )
    start_date: date | None = Field(None, description="First date used by a run (None: all).")
    end_date: date | None = Field(None, description="Last date used by a run (None: all).")
    min_history: int = Field(
        504, ge=2, description="Trading days of clean history a symbol needs to enter the universe."
    )
    max_missing_fraction: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Largest fraction of missing closes a universe member may have.",
    )

    # Features
    volatility_window: int = Field(21, ge=2, description="Days in the rolling volatility.")
    momentum_window: int = Field(126, ge=2, description="Days in the momentum return.")
    momentum_skip: int = Field(
        21, ge=0, description="Most recent days excluded from momentum (short-term reversal)."
    )
    entropy_window: int = Field(128, ge=8, description="Days in rolling permutation entropy.")
    entropy_order: int = Field(3, ge=2, le=7, description="Pattern length of permutation entropy.")
    hurst_window: int = Field(128, ge=16, description="Days in the rolling Hurst exponent (R/S).")

    # Regimes
    regime_volatility_window: int = Field(
        63, ge=5, description="Days of market volatility the regime label looks at."
    )
    regime_trend_window: int = Field(
        126, ge=5, description="Days of market trend (moving-average slope) for the regime label."
    )
    regime_volatility_quantile: float = Field(
        0.8, gt=0, lt=1, description="Expanding quantile above which market volatility is 'high'."
    )

    # Selection
    selection: SelectionName = Field(
        "top_n", description="`top_n` holds the best-scored symbols; `all` the whole universe."
    )
    top_n: int = Field(10, ge=1, description="Symbols held by `top_n` selection.")

    # Allocation
    engines: list[str] = Field(
        default_factory=lambda: ["equal_weight", "inverse_volatility", "min_variance"],
        description="Allocation engines run by the tournament, by name.",
    )
    covariance: CovarianceName = Field("sample", description="Covariance estimator.")
    max_weight: float = Field(0.35, gt=0, le=1, description="Largest weight of one symbol.")
    kappa_max: float = Field(
        5_000.0, gt=1, description="Largest covariance condition number before ridge hardening."
    )
    min_effective_holdings: float = Field(
        2.0,
        ge=1,
        description="Fewest effective holdings (1/sum of squared weights) before a veto.",
    )
    risk_free_rate: float = Field(0.0, description="Annual risk-free rate for Sharpe ratios.")

    # Walk-forward tournament
    train: int = Field(252, ge=20, description="Training days per window.")
    test: int = Field(21, ge=1, description="Out-of-sample days per window.")
    step: int = Field(21, ge=1, description="Days between window starts.")
    window_mode: WindowMode = Field("rolling", description="`rolling` or `expanding` training.")
    cost_bps: float = Field(5.0, ge=0, description="Cost per unit turnover, in basis points.")
    drift: bool = Field(True, description="Let weights drift with prices between rebalances.")
    executor: ExecutorName = Field("local", description="Where windows run.")
    workers: int | None = Field(
        None, ge=1, description="Processes for `local`, CPUs of a local Ray (None: cores)."
    )
    ray_address: str | None = Field(
        None, description="Existing Ray cluster address; None starts a local Ray on 127.0.0.1."
    )

    # Operations
    seed: int = Field(7, description="Seed of every random generator.")
    strict: bool = Field(False, description="Make audit (tier 2) contract checks blocking.")
    auto_sync: bool = Field(False, description="Turn the `auto_sync` sensor on by default.")

    @field_validator("engines")
    @classmethod
    def _known_engines(cls, engines: list[str]) -> list[str]:
        unknown = sorted(set(engines) - set(ENGINE_NAMES))
        if unknown:
            raise ValueError(f"unknown engines {unknown}; choose from {list(ENGINE_NAMES)}")
        if not engines:
            raise ValueError("`engines` must name at least one engine")
        return engines

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose from {sorted(PROFILES)}")
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError(f"`start_date` {self.start_date} is after `end_date` {self.end_date}")
        if self.source == "files" and self.source_path is None:
            raise ValueError("the `files` source needs `source_path` (QUANT_SOURCE_PATH)")
        return self

    @classmethod
    def for_profile(cls, profile: str = "canary", **overrides: Any) -> Settings:
        """Settings of a named profile, with environment variables and ``overrides`` applied."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
        return cls().clone(profile=profile, **{**PROFILES[profile], **overrides})

    def clone(self, **overrides: Any) -> Settings:
        """Return a new, validated copy with ``overrides`` applied (``self`` is unchanged)."""
        unknown = sorted(set(overrides) - set(type(self).model_fields))
        if unknown:
            raise ValueError(f"unknown settings {unknown}")
        return type(self).model_validate({**self.model_dump(), **overrides})

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return self.model_dump(mode="json")

    def content_hash(self) -> str:
        """Stable hash of the settings, for provenance."""
        payload = json.dumps(self.snapshot(), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:16]


_ACTIVE_SETTINGS: ContextVar[Settings | None] = ContextVar("active_settings", default=None)


def get_settings() -> Settings:
    """Return the active settings, or fresh defaults (with the environment) if none are active."""
    active = _ACTIVE_SETTINGS.get()
    return active if active is not None else Settings()


@contextlib.contextmanager
def use_settings(settings: Settings) -> Iterator[Settings]:
    """Make ``settings`` the active settings inside the ``with`` block (this context only)."""
    token = _ACTIVE_SETTINGS.set(settings)
    try:
        yield settings
    finally:
        _ACTIVE_SETTINGS.reset(token)


def inspect_active_settings() -> dict[str, Any]:
    """Return the active settings as a plain dict (for logs, manifests and humans)."""
    return get_settings().snapshot()
