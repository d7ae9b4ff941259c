import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# Property-based: any input either validates or raises the module's own error, and whatever
# validates is safe as one path part.
SYMBOL_ALPHABET = "AZaz09.-_^=/\\ \x00\n:*?~"
FUZZ = settings(max_examples=100, deadline=None)
ANYTHING = st.one_of(st.text(max_size=40), st.binary(max_size=8), st.integers(), st.none())


def _safe_path_part(value: str) -> bool:
    return (
        "/" not in value
        and "\\" not in value
        and ".." not in value
        and "\x00" not in value
        and not value.startswith(".")
        and value.strip() == value
    )


@FUZZ
@given(st.one_of(ANYTHING, st.text(alphabet=SYMBOL_ALPHABET, max_size=40)))
def test_random_symbols_validate_or_raise_invalid_symbol(value):
    try:
        symbol = validate_symbol(value)
    except InvalidSymbol:
        return
    assert symbol == value and _safe_path_part(symbol) and 1 <= len(symbol) <= 32


@FUZZ
@given(
    st.one_of(
        ANYTHING,
        st.from_regex(r"\A\d{8}-\d{6}-[0-9a-f]{4,16}\Z"),
        st.from_regex(r"\A\d{8}-\d{6}-[0-9a-f./]{4,16}\n?\Z"),
    )
)
def test_random_run_ids_validate_or_raise_invalid_run_id(value):
    try:
        run_id = validate_run_id(value)
    except InvalidRunId:
        return
    assert run_id == value and _safe_path_part(run_id) and re.fullmatch(r"[0-9a-f-]+", run_id)
