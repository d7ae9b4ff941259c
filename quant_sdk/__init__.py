"""The one Python entry point (:class:`QuantSDK`) and the ``quant`` command line over it.

``QuantSDK`` and ``RunFailedError`` are imported on first use, so the command line can start
(and answer ``--help``) without importing Dagster.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quant_sdk.sdk import QuantSDK, RunFailedError

__all__ = ["QuantSDK", "RunFailedError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from quant_sdk import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'quant_sdk' has no attribute {name!r}")
