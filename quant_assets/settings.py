"""Platform settings: one validated pydantic model and the named profiles.

Settings come from, in increasing priority: field defaults (the ``canary`` profile's values),
``QUANT_*`` environment variables, the named profile (``canary``, ``production``), and explicit
overrides passed to :meth:`Settings.with_profile` or :meth:`Settings.clone`.

The environment is read in ONE place, :meth:`Settings.from_environment`, and only the callers
at the edge call it (the ``quant`` command line, ``QuantSDK()`` built without settings, the
code location Dagster loads). ``Settings()`` and everything inside the pipeline never read it:
settings travel explicitly, through run config and resources to assets, and as JSON to workers.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lakehouse.location import StorageLocationError, validate_data_root
from quant_assets.plugins import check_name

SourceName = Literal["bundled", "synthetic", "files", "yfinance"]
ExecutorName = Literal["serial", "local", "ray"]
CovarianceName = Literal["sample", "ledoit_wolf"]
SelectionName = Literal["top_n", "all"]
WindowMode = Literal["rolling", "expanding"]

EngineName = Literal[
    "equal_weight",
    "inverse_volatility",
    "min_variance",
    "max_sharpe",
    "risk_parity",
    "hrp",
    "market",
]
"""The platform's built-in allocation engines, by the name they are registered under (entry
points of the ``quant_lakehouse.engines`` group, like any plug-in's: :mod:`quant_assets.plugins`);
each engine in :mod:`quant_assets.allocation.engines` declares one of these as its ``name``."""
DEFAULT_SCORE = "trend_strength"
"""The built-in selection score (momentum over volatility; defensive in volatile regimes)."""
ENGINE_NAMES: tuple[EngineName, ...] = get_args(EngineName)

CANARY_ENGINES: tuple[EngineName, ...] = (
    "equal_weight",
    "inverse_volatility",
    "min_variance",
    "market",
)
"""The engines of the default (``canary``) settings: the fast ones and the baseline."""
PRODUCTION_PROFILE: dict[str, Any] = {
    "start_date": None,
    "train": 504,
    "test": 21,
    "top_n": 10,
    "engines": list(ENGINE_NAMES),
}
"""What the ``production`` profile changes: the full bundled history (1990-2022), every engine."""
MAX_COST_BPS = 1_000.0
"""Largest ``cost_bps`` accepted: 10% of the traded value per unit turnover. Beyond it costs
swamp any return (a rebalance could cost more than the portfolio is worth), so the leaderboard
would rank costs, not engines."""
STEP_FOLLOWS_TEST = (
    "windows start every `test` days (the step is not a setting): each window is scored on the "
    "`test` days after its training end, so the out-of-sample series is one continuous series "
    "with no day left out or counted twice, as the annual figures assume; set `test`"
)


class Settings(BaseSettings):
    """Every tunable of the platform, validated.

    Build one with ``Settings()`` (the defaults: the ``canary`` profile),
    ``Settings.for_profile("production", top_n=5)``, ``settings.clone(top_n=5)``, or, at the
    command line's edge, :meth:`from_environment` (``QUANT_*`` variables).
    """

    model_config = SettingsConfigDict(
        env_prefix="QUANT_", frozen=True, extra="forbid", validate_default=True
    )

    # Where things live
    data_root: str | Path = Field(
        Path("data/lakehouse"),
        description=(
            "Where the lakehouse lives: a folder, or object storage as `s3://<bucket>/<prefix>` "
            "(credentials and endpoint from the standard AWS_* variables or profile files)."
        ),
    )
    profile: str = Field("canary", description="Name of the profile these settings came from.")

    # Hydration
    source: SourceName = Field("bundled", description="Where `hydrate` reads market data.")
    source_path: Path | None = Field(
        None, description="Folder of `<SYMBOL>.csv|.parquet` files; required by the `files` source."
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
    start_date: date | None = Field(
        date(2016, 1, 1), description="First date used by a run (None: all); not after `end_date`."
    )
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
    top_n: int = Field(8, ge=1, description="Symbols held by `top_n` selection.")
    score: str = Field(
        DEFAULT_SCORE,
        description="Selection score, higher is better: a registered name or "
        "`package.module:Name` (a plug-in).",
    )
    signals: list[str] = Field(
        default_factory=list,
        description="Extra feature columns, each a signal of the closes panel: registered names "
        "or `package.module:Name` (plug-ins).",
    )

    # Allocation
    engines: list[str] = Field(
        default_factory=lambda: [str(name) for name in CANARY_ENGINES],
        description="Allocation engines run by the tournament: registered names or "
        "`package.module:Name` (plug-ins, skfolio estimators too).",
    )
    covariance: CovarianceName = Field("sample", description="Covariance estimator.")
    max_weight: float = Field(0.35, gt=0, le=1, description="Largest weight of one symbol.")
    kappa_max: float = Field(
        5_000.0,
        gt=1,
        description="Largest condition number of the covariance's correlation before ridge "
        "hardening.",
    )
    min_effective_holdings: float = Field(
        2.0,
        ge=1,
        description="Fewest effective holdings (1/sum of squared weights) before a veto.",
    )
    risk_free_rate: float = Field(0.0, description="Annual risk-free rate for Sharpe ratios.")

    # Walk-forward tournament
    train: int = Field(252, ge=20, description="Training days per window.")
    test: int = Field(63, ge=1, description="Out-of-sample days per window.")
    window_mode: WindowMode = Field("rolling", description="`rolling` or `expanding` training.")
    cost_bps: float = Field(
        5.0,
        ge=0,
        le=MAX_COST_BPS,
        description="Cost per unit turnover, in basis points (at most 1,000: 10%).",
    )
    drift: bool = Field(True, description="Let weights drift with prices between rebalances.")
    pbo_blocks: int = Field(
        16,
        ge=2,
        multiple_of=2,
        description="Blocks S of the out-of-sample dates in the PBO's cross-validation (even).",
    )
    executor: ExecutorName = Field(
        "local",
        description="Where the tournament's windows run: in the run's process (`serial`), a "
        "pool of processes (`local`) or Ray (`ray`).",
    )
    workers: int | None = Field(
        None,
        ge=1,
        description="Processes for `local` (the caller too), CPUs of a local Ray (None: cores).",
    )
    ray_address: str | None = Field(
        None, description="Existing Ray cluster address; None starts a local Ray on 127.0.0.1."
    )

    # Operations
    seed: int = Field(7, description="Seed of every random generator.")
    strict: bool = Field(False, description="Make audit (tier 2) contract checks blocking.")
    auto_sync: bool = Field(False, description="Turn the `auto_sync` sensor on by default.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what the caller passes: ``Settings()`` never reads the environment."""
        return (init_settings,)

    @field_validator("data_root", mode="after")
    @classmethod
    def _storage(cls, data_root: str | Path) -> str | Path:
        try:
            return validate_data_root(data_root)
        except StorageLocationError as error:
            raise ValueError(str(error)) from error

    @field_validator("engines", mode="after")
    @classmethod
    def _known_engines(cls, engines: list[str]) -> list[str]:
        if not engines:
            raise ValueError("`engines` must name at least one engine")
        return _plugin_names("engine", engines)

    @field_validator("signals", mode="after")
    @classmethod
    def _known_signals(cls, signals: list[str]) -> list[str]:
        return _plugin_names("signal", signals)

    @field_validator("score", mode="after")
    @classmethod
    def _known_score(cls, score: str) -> str:
        return check_name("score", score)

    @model_validator(mode="before")
    @classmethod
    def _no_step(cls, data: Any) -> Any:
        """Accept the ``step`` that run manifests before it was derived record (equal to test)."""
        if isinstance(data, dict) and "step" in data:
            data = dict(data)
            step = data.pop("step")
            if step is not None and step != data.get("test", cls.model_fields["test"].default):
                raise ValueError(STEP_FOLLOWS_TEST)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose from {sorted(PROFILES)}")
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError(f"`start_date` {self.start_date} is after `end_date` {self.end_date}")
        if self.selection == "top_n" and self.max_weight * self.top_n < 1:
            raise ValueError(
                f"`max_weight` ({self.max_weight:g}) is below 1/`top_n` (1/{self.top_n} = "
                f"{1 / self.top_n:.4g}): {self.top_n} holdings capped at {self.max_weight:.4g} "
                f"can hold only {self.max_weight * self.top_n:.0%} of the portfolio. Raise "
                f"`max_weight` to at least {1 / self.top_n:.4g} or `top_n` to at least "
                f"{math.ceil(1 / self.max_weight - 1e-12)}."
            )
        if self.source == "files" and self.source_path is None:
            raise ValueError("the `files` source needs `source_path` (QUANT_SOURCE_PATH)")
        return self

    @classmethod
    def from_environment(cls, **overrides: Any) -> Settings:
        """Defaults, then ``QUANT_*`` environment variables, then ``overrides``.

        The one place the environment is read; call it at the edge (command line, notebook),
        then pass the result down. List values are JSON (``QUANT_ENGINES='["hrp"]'``).
        """
        return cls.model_validate(_EnvironmentSettings(**overrides).model_dump())

    @classmethod
    def environment_fields(cls) -> set[str]:
        """Names of the fields that ``QUANT_*`` environment variables set right now."""
        return set(_EnvironmentSettings().model_fields_set)

    @classmethod
    def for_profile(cls, profile: str = "canary", **overrides: Any) -> Settings:
        """The defaults with a named profile and ``overrides`` applied (no environment)."""
        return cls().with_profile(profile, **overrides)

    def with_profile(self, profile: str, **overrides: Any) -> Settings:
        """A copy with a named profile's values, then ``overrides``, applied on top of ``self``."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
        return self.clone(profile=profile, **PROFILES[profile]).clone(**overrides)

    def clone(self, **overrides: Any) -> Settings:
        """Return a new, validated copy with ``overrides`` applied (``self`` is unchanged)."""
        unknown = sorted(set(overrides) - set(type(self).model_fields))
        if unknown:
            raise ValueError(
                f"unknown settings {unknown}"
                + (f": {STEP_FOLLOWS_TEST}" if "step" in unknown else "")
            )
        return type(self).model_validate({**self.model_dump(), **overrides})

    @property
    def step(self) -> int:
        """Days between window starts: always ``test`` (see :data:`STEP_FOLLOWS_TEST`)."""
        return self.test

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return self.model_dump(mode="json")

    def content_hash(self) -> str:
        """Stable hash of the settings, for provenance."""
        payload = json.dumps(self.snapshot(), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:16]


def _plugin_names(kind: str, names: list[str]) -> list[str]:
    """``names`` when each resolves to a plug-in of ``kind`` and none repeats."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{kind}s {repeated} are listed more than once")
    return [check_name(kind, name) for name in names]


PROFILES: dict[str, dict[str, Any]] = {
    "canary": {
        name: Settings.model_fields[name].get_default(call_default_factory=True)
        for name in PRODUCTION_PROFILE
    },
    "production": PRODUCTION_PROFILE,
}
"""Named settings variants, each the values it sets. ``canary`` is the field defaults (so
``Settings()`` is honestly ``canary``) and runs in seconds on recent bundled data;
``production`` uses the full bundled history and every engine."""


class _EnvironmentSettings(Settings):
    """:class:`Settings` that also read ``QUANT_*`` variables (for :meth:`from_environment`)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit values first, then the environment."""
        return (init_settings, env_settings)
