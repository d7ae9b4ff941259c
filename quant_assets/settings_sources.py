"""Where each resolved setting comes from: default, environment, profile or override.

:func:`explain_settings` resolves settings exactly as :meth:`Settings.with_profile` does (field
defaults, then the base settings, e.g. ``QUANT_*`` variables read by
:meth:`Settings.from_environment`, then the named profile, then explicit overrides) and says,
for every field, which layer its value came from and which lower layers it overrode. Nothing
here reads the environment: the caller says which base fields came from it.
"""

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from quant_assets.settings import PROFILES, Settings

DEFAULT = "default"
ENVIRONMENT = "environment"
PROFILE = "profile"
OVERRIDE = "override"
CALLER = "caller"
"""A base value that differs from the default and whose origin the caller did not name."""
SETTING_SOURCES = (DEFAULT, ENVIRONMENT, PROFILE, OVERRIDE, CALLER)
"""Every source :func:`explain_settings` reports, lowest priority first."""
EXPLANATION_COLUMNS = ("setting", "value", "source", "overridden")


def explain_settings(
    profile: str = "canary",
    overrides: Mapping[str, Any] | None = None,
    base: Settings | None = None,
    base_sources: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Resolve ``base`` + ``profile`` + ``overrides`` and say where every value came from.

    Parameters
    ----------
    profile : str
        A name in :data:`quant_assets.settings.PROFILES`.
    overrides : mapping, optional
        Explicit values (``--set key=value``); highest priority.
    base : Settings, optional
        The settings the profile is applied to (default ``Settings()``, the field defaults).
    base_sources : mapping of field name to source, optional
        Where ``base`` values came from, e.g. ``{"cost_bps": "environment"}``. A base value
        not named here is ``default`` when it equals the field default, else ``caller``.

    Returns
    -------
    DataFrame
        One row per field, in declaration order: ``setting``, ``value`` (JSON-ready, as in
        :meth:`Settings.snapshot`), ``source`` (one of :data:`SETTING_SOURCES`) and
        ``overridden`` (the lower layers this value replaced, ``source=value; ...``, or "").

    Raises
    ------
    ValueError
        For an unknown profile, unknown setting or invalid value (pydantic's message).
    """
    base = base if base is not None else Settings()
    explicit = dict(overrides or {})
    resolved = base.with_profile(profile, **explicit).snapshot()
    defaults = Settings().snapshot()
    from_base = base.snapshot()
    profile_values = Settings().with_profile(profile).snapshot()
    profile_fields = {*PROFILES[profile], "profile"}
    named = dict(base_sources or {})
    rows = []
    for name, value in resolved.items():
        layers = [(DEFAULT, defaults[name])]
        if name in named or from_base[name] != defaults[name]:
            layers.append((named.get(name, CALLER), from_base[name]))
        if name in profile_fields:
            layers.append((PROFILE, profile_values[name]))
        if name in explicit:
            layers.append((OVERRIDE, value))
        source, _ = layers[-1]
        replaced = [
            f"{layer}={_text(old)}"
            for layer, old in layers[1:-1]
            if old != value and layer != DEFAULT
        ]
        rows.append((name, value, source, "; ".join(replaced)))
    return pd.DataFrame(rows, columns=list(EXPLANATION_COLUMNS))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
