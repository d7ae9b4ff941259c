"""Property-based: the array fast paths of hydration agree with the long paths they skip.

``canonical_bars`` takes an already-typed frame as it is (``_already_canonical``), and a frame
whose text dates are all ``YYYY-MM-DD`` after parsing only them (``_with_plain_dates``);
``validate_bars`` skips pandera for plainly valid bars (``plainly_valid``). Whatever frame
they are given, a short cut taken gives exactly the long path's result.
"""

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from quant_assets.contracts import MarketDataContract
from quant_assets.hydration import DataQualityError, SyntheticSource
from quant_assets.hydration.bars import (
    BAR_COLUMNS,
    _already_canonical,
    _with_plain_dates,
    canonical_bars,
    parse_bars,
)
from quant_assets.hydration.validation import plainly_valid

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY = pd.Timedelta(days=1)

prices = st.one_of(
    st.floats(0.01, 1e4),
    st.sampled_from([0.0, -0.0, -1.0, np.nan, np.inf, -np.inf, 1e-300]),
)


@st.composite
def typed_frames(draw) -> pd.DataFrame:
    """Small frames of bars with typed columns, mostly sound, each with a chance of a flaw."""
    n = draw(st.integers(0, 6))
    start = pd.Timestamp("2024-01-01") + draw(st.integers(0, 5)) * DAY
    dates = pd.DatetimeIndex([start + i * DAY for i in range(n)])
    flaw = draw(st.sampled_from(["none", "none", "unsorted", "repeat", "time", "nat", "range"]))
    if n >= 2 and flaw == "unsorted":
        dates = dates[::-1]
    elif n >= 2 and flaw == "repeat":
        dates = dates[[0, 0, *range(2, n)]]
    elif n and flaw == "time":
        dates = dates + pd.Timedelta(hours=draw(st.integers(1, 23)))
    elif n and flaw == "nat":
        dates = pd.DatetimeIndex([pd.NaT, *dates[1:]])
    elif n and flaw == "range":
        dates = pd.DatetimeIndex([pd.Timestamp("1700-01-01"), *dates[1:]])
    unit = draw(st.sampled_from(["ns", "ns", "us"]))
    frame = pd.DataFrame({"date": pd.Series(dates).astype(f"datetime64[{unit}]")})
    columns = draw(st.sets(st.sampled_from(BAR_COLUMNS[1:]))) | {"close"}
    for column in BAR_COLUMNS[1:]:
        if column in columns:
            values = [draw(prices) if draw(st.integers(0, 9)) < 2 else 10.0 + i for i in range(n)]
            frame[column] = np.array(values, dtype=np.float64)
    if draw(st.booleans()) and "volume" in frame:
        frame["volume"] = frame["volume"].astype("float32")
    if draw(st.integers(0, 9)) == 0:
        frame["extra"] = "x"
    return frame[draw(st.permutations(list(frame.columns)))]


@PROPERTY
@given(frame=typed_frames())
def test_the_short_cut_gives_what_parsing_gives(frame: pd.DataFrame):
    ready = _already_canonical(frame)
    try:
        parsed = parse_bars(frame, source="test", symbol="SYM")
    except DataQualityError:
        event("refused")
        assert ready is None  # the short cut never accepts what parsing refuses
        return
    if ready is None:
        event("parsed the long way")
        return
    event("short cut")
    pd.testing.assert_frame_equal(ready, parsed, check_exact=True)
    assert ready.attrs == parsed.attrs


@st.composite
def text_frames(draw) -> pd.DataFrame:
    """:func:`typed_frames` as a CSV file reads: text dates in some format, whole numbers int."""
    frame = draw(typed_frames())
    written = draw(
        st.sampled_from(["%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M", "%d/%m/%Y", "%Y%m%d", "%Y-%m"])
    )
    dates = frame["date"].dt.strftime(written).astype("str")
    if len(dates) and draw(st.integers(0, 4)) == 0:
        dates.iloc[draw(st.integers(0, len(dates) - 1))] = draw(
            st.sampled_from(["", " 2024-01-05", "2024-01-05 ", "2024-13-01", "nope", "2024-1-7"])
        )
    frame = frame.assign(date=dates.astype(draw(st.sampled_from(["str", "object"]))))
    for column in ("volume", "close"):
        values = frame[column] if column in frame else None
        if values is not None and values.notna().all() and draw(st.booleans()):
            frame[column] = np.floor(values.clip(-1e6, 1e6)).astype("int64")
    return frame


@PROPERTY
@given(frame=text_frames())
def test_the_short_cut_for_text_dates_gives_what_parsing_gives(frame: pd.DataFrame):
    taken = _with_plain_dates(frame)
    taken = None if taken is None else _already_canonical(taken)
    try:
        parsed = parse_bars(frame, source="test", symbol="SYM")
    except DataQualityError:
        event("refused")
        assert taken is None
        with pytest.raises(DataQualityError):
            canonical_bars(frame, source="test", symbol="SYM")
        return
    if taken is None:
        event("parsed the long way")
        return
    event("short cut")
    pd.testing.assert_frame_equal(taken, parsed, check_exact=True)
    pd.testing.assert_frame_equal(canonical_bars(frame, source="test", symbol="SYM"), parsed)
    assert taken.attrs == parsed.attrs


@PROPERTY
@given(frame=typed_frames())
def test_plainly_valid_bars_pass_the_contract(frame: pd.DataFrame):
    try:
        bars = parse_bars(frame, source="test", symbol="SYM")[list(BAR_COLUMNS)]
    except DataQualityError:
        bars = frame  # raw frames too: the check must hold whatever it is given
    if not plainly_valid(bars):
        event("left to pandera")
        return
    event("plainly valid")
    MarketDataContract.validate(bars, lazy=True)  # raises if the short cut was wrong


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.assign(close=b["close"].where(b.index != 3, 0.0)),
        lambda b: b.assign(volume=b["volume"].where(b.index != 3, -1.0)),
        lambda b: b.iloc[[0, 2, 1, *range(3, len(b))]],
        lambda b: b.assign(extra=1.0),
        lambda b: b.drop(columns="open"),
    ],
)
def test_flawed_bars_are_not_plainly_valid(change):
    bars = SyntheticSource(1, 1, pd.Timestamp("2024-12-31").date(), 7).fetch("SYN0000")
    assert plainly_valid(bars)
    flawed = change(bars)
    assert not plainly_valid(flawed)
    with pytest.raises(pa.errors.SchemaErrors):
        MarketDataContract.validate(flawed, lazy=True)


def test_a_doubt_is_left_to_pandera_which_decides():
    bars = SyntheticSource(1, 1, pd.Timestamp("2024-12-31").date(), 7).fetch("SYN0000")
    microseconds = bars.assign(date=bars["date"].astype("datetime64[us]"))
    assert not plainly_valid(microseconds)  # not the stored dtype: no short cut
    MarketDataContract.validate(microseconds, lazy=True)  # which pandera happens to accept
