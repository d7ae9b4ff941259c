"""Run ids and symbols: minted and validated before any path is built from them."""

import re
import secrets
from datetime import UTC, datetime

RUN_ID_PATTERN = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{4,16}")
"""``YYYYMMDD-HHMMSS-xxxx``: UTC time of minting and 4 to 16 random hex characters.

ASCII digits only: the regex digit class would also accept other scripts' digits (Arabic-Indic)."""

SYMBOL_PATTERN = re.compile(r"[A-Za-z0-9^=_][A-Za-z0-9.\-_^=]{0,31}")
"""Letters, digits, ``.``, ``-``, ``_``, ``^``, ``=``; at most 32 characters, no leading dot."""

RUN_ID_SUFFIX_BYTES = 2


class InvalidRunId(ValueError):
    """A run id that does not match :data:`RUN_ID_PATTERN`."""


class InvalidSymbol(ValueError):
    """A symbol that cannot safely become a path part."""


def new_run_id(now: datetime | None = None) -> str:
    """Mint a run id ``YYYYMMDD-HHMMSS-xxxx`` from the UTC time and a random suffix."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(RUN_ID_SUFFIX_BYTES)}"


def validate_run_id(run_id: object) -> str:
    """Return ``run_id`` if it is a well-formed run id, else raise :class:`InvalidRunId`."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise InvalidRunId(
            f"invalid run id {run_id!r}: expected YYYYMMDD-HHMMSS-xxxx "
            "(mint one with `quant new-run` or QuantSDK.new_run())"
        )
    return run_id


def validate_symbol(symbol: object) -> str:
    """Return ``symbol`` if it is safe as a path part, else raise :class:`InvalidSymbol`."""
    if not isinstance(symbol, str) or not SYMBOL_PATTERN.fullmatch(symbol) or ".." in symbol:
        raise InvalidSymbol(
            f"invalid symbol {symbol!r}: use letters, digits and . - _ ^ = only "
            "(at most 32 characters, no '..', not starting with '.')"
        )
    return symbol
