"""The one Python entry point (:class:`QuantSDK`) and the ``quant`` command line over it."""

from quant_sdk.sdk import QuantSDK, RunFailedError

__all__ = ["QuantSDK", "RunFailedError"]
