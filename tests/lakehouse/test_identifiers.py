import re
from datetime import UTC, datetime

import pytest

from lakehouse import InvalidRunId, InvalidSymbol, new_run_id, validate_run_id, validate_symbol

TRAVERSALS = [
    "../etc",
    "..",
    "20261125-101010-abcd/../../x",
    "20261125-101010-abcd/..",
    "/abs/20261125-101010-abcd",
    "20261125-101010-abcd\x00",
    "20261125-101010-ABCD",
    "20261125-101010-abc",
    "20261125-1010-abcd",
    " 20261125-101010-abcd",
    "20261125-101010-abcd\n",
    "",
    None,
    42,
]


def test_new_run_id_is_utc_stamp_with_random_suffix():
    run_id = new_run_id(datetime(2026, 11, 25, 3, 4, 5, tzinfo=UTC))
    assert re.fullmatch(r"20261125-030405-[0-9a-f]{4}", run_id)
    assert validate_run_id(run_id) == run_id
    assert len({new_run_id() for _ in range(200)}) > 190  # random suffix, not a counter


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_validate_run_id_rejects_traversal_and_malformed(bad):
    with pytest.raises(InvalidRunId, match="YYYYMMDD-HHMMSS-xxxx"):
        validate_run_id(bad)


@pytest.mark.parametrize(
    "good", ["AAPL", "BRK.B", "^GSPC", "EURUSD=X", "RDS-A", "SYN_0001", "7203"]
)
def test_validate_symbol_accepts_market_symbols(good):
    assert validate_symbol(good) == good


@pytest.mark.parametrize(
    "bad", ["..", "../AAPL", "A/B", "A\\B", ".hidden", "A..B", "", "A B", "X" * 33]
)
def test_validate_symbol_rejects_unsafe(bad):
    with pytest.raises(InvalidSymbol):
        validate_symbol(bad)
