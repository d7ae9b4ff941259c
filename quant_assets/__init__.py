"""Quant research pillars (hydration to tournament), their Dagster assets, settings and the SDK."""

from typing import Any

__all__ = ["QuantSDK", "Settings", "get_settings", "use_settings"]


def __getattr__(name: str) -> Any:
    # Lazy, so that workers importing one pillar do not pay for Dagster and the SDK.
    if name == "QuantSDK":
        from quant_assets.sdk import QuantSDK

        return QuantSDK
    if name in {"Settings", "get_settings", "use_settings"}:
        from quant_assets import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'quant_assets' has no attribute {name!r}")
