"""What the online sources share: the optional ``online`` extra, timeouts, and network errors.

The online sources (Yahoo Finance through ``yfinance``, TradingView's screener through
``tradingview-screener``) need packages the core install does not have and a working internet
connection. Both are checked at the boundary, with a message that says what to do:

- a missing package raises :class:`MissingExtraError` (an ``ImportError``) naming
  :data:`INSTALL_ONLINE`;
- a service that cannot be reached raises :class:`SourceUnreachable` (a ``ConnectionError``)
  within :data:`NETWORK_TIMEOUT_SECONDS`, never retried: ``cannot reach <service> (<why>):
  check the connection``;
- a service that answers something unusable raises :class:`OnlineSourceError`.

Neither error is a :class:`~quant_assets.hydration.bars.DataQualityError`: an outage stops a
hydration instead of quarantining every symbol one by one.
"""

import importlib
import importlib.util
import socket
from types import ModuleType

ONLINE_EXTRA = "online"
INSTALL_ONLINE = "pip install -e '.[online]'"
"""How to install the online sources' packages (from a checkout of this project)."""
NETWORK_TIMEOUT_SECONDS = 10.0
"""Longest wait for one answer from an online service; there are no retries."""
PROBE_TIMEOUT_SECONDS = 5.0
"""Longest wait for a TCP connection when checking that a service can be reached at all."""
HTTPS_PORT = 443
FILE_SYSTEM_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)
"""``OSError``s about local files (a library's cache, say): never reported as an outage."""
REASON_CHARACTERS = 160
"""Longest reason quoted from a library's error message."""


class MissingExtraError(ImportError):
    """An online source's package is not installed; the message says how to install it."""

    def __init__(self, package: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs the `{package}` package of the `{ONLINE_EXTRA}` extra: "
            f"{INSTALL_ONLINE}",
            name=package,
        )
        self.package = package
        self.install = INSTALL_ONLINE


class SourceUnreachable(ConnectionError):
    """An online service cannot be reached (no network, DNS failure, timeout, proxy)."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"cannot reach {service} ({reason}): check the connection")
        self.service = service
        self.reason = reason


class OnlineSourceError(RuntimeError):
    """An online service answered, but not with something usable (HTTP error, odd payload)."""


def require_package(package: str, feature: str) -> None:
    """Raise :class:`MissingExtraError` unless ``package`` is installed (it is not imported)."""
    if importlib.util.find_spec(package) is None:
        raise MissingExtraError(package, feature)


def import_package(package: str, feature: str) -> ModuleType:
    """Import ``package`` or raise :class:`MissingExtraError` naming ``feature``."""
    try:
        return importlib.import_module(package)
    except ImportError as error:
        raise MissingExtraError(package, feature) from error


def is_network_error(error: BaseException) -> bool:
    """Whether ``error`` is about the network rather than a local file.

    The errors of ``socket``, ``requests`` and ``curl_cffi`` are all ``OSError``s; so are
    :data:`FILE_SYSTEM_ERRORS`, which are not about the network.
    """
    return isinstance(error, OSError) and not isinstance(error, FILE_SYSTEM_ERRORS)


def reason_of(error: BaseException) -> str:
    """``ConnectionError: <first line of the message>``, shortened to a readable length."""
    lines = str(error).strip().splitlines()
    message = " ".join(lines[0].split()) if lines else ""
    if len(message) > REASON_CHARACTERS:
        message = message[: REASON_CHARACTERS - 3] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def probe_connection(
    service: str, host: str, port: int = HTTPS_PORT, timeout: float = PROBE_TIMEOUT_SECONDS
) -> None:
    """Open (and close) a TCP connection to ``host:port``; :class:`SourceUnreachable` if not.

    Costs one DNS lookup and one TCP handshake, at most ``timeout`` seconds.
    """
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        raise SourceUnreachable(service, f"{host}:{port}: {reason_of(error)}") from error
