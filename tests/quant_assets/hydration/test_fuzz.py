"""Property-based: random files of bars through FilesSource and hydration.

Whatever a file holds, hydrating it either stores valid bars or quarantines the symbol with a
DataQualityError naming it; never another exception, and another symbol's stored data (and the
symbol's own earlier good data) is unchanged.
"""

import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lakehouse import LakehouseStore
from quant_assets.hydration import FilesSource, hydrate_symbols
from quant_assets.hydration.quarantine import entry
from quant_assets.hydration.validation import validate_bars

GOOD_DAYS = [str(d.date()) for d in pd.bdate_range("2024-01-02", periods=5)]
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

bad_dates = st.one_of(
    st.dates(
        min_value=pd.Timestamp("1700-01-01").date(), max_value=pd.Timestamp("2300-01-01").date()
    ).map(str),
    st.sampled_from(["", "not-a-date", "2024-13-01", "2024-01-03T00:00-05:00", "2024-01-04Z"]),
    st.sampled_from(["2024-01-05T09:30:00+01:00", "01/08/2024", "2024-01-09 16:00", "0"]),
    st.text(max_size=12),
)
bad_closes = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "abc", "$100.22", "1,234.5", "inf", "-1", "0", "NaN", " 12 ", "1e3"]),
    st.text(max_size=8),
)
headers = st.one_of(
    st.just("date,close"),
    st.sampled_from(
        ["Date,Close", " date , close ", "date,close,extra", "date,price", "close,date"]
    ),
)
encodings = st.one_of(st.just("utf-8"), st.sampled_from(["utf-8-sig", "utf-16", "latin-1"]))
GOOD_SHARE = 8
"""Out of 10: how often a cell keeps its good value (so some files are good, most have a flaw)."""


@st.composite
def bar_rows(draw) -> list[tuple[str, str, str]]:
    """Up to 5 rows of (date, close, extra) cells, each cell good or, sometimes, bad."""
    rows = []
    for i in range(draw(st.integers(0, len(GOOD_DAYS)))):
        good_date = draw(st.integers(0, 9)) < GOOD_SHARE
        good_close = draw(st.integers(0, 9)) < GOOD_SHARE
        date = GOOD_DAYS[i] if good_date else draw(bad_dates)
        close = repr(10.0 + i) if good_close else draw(bad_closes)
        rows.append((date, close, draw(st.text(max_size=5))))
    return rows


def _cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


@st.composite
def files(draw) -> tuple[str, bytes]:
    """(suffix, bytes) of a random CSV, a Parquet of random text cells, or garbage."""
    kind = draw(st.sampled_from(["csv", "csv", "parquet", "empty", "garbage"]))
    if kind == "empty":
        return ".csv", b""
    if kind == "garbage":
        return draw(st.sampled_from([".csv", ".parquet"])), draw(st.binary(max_size=40))
    names = [name.strip() for name in draw(headers).split(",")]
    rows = draw(bar_rows())
    if names[0] == "close":
        rows = [(close, date, extra) for date, close, extra in rows]
    if kind == "parquet":
        frame = pd.DataFrame([row[: len(names)] for row in rows], columns=names, dtype="str")
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        return ".parquet", buffer.getvalue()
    lines = [",".join(names)] + [",".join(_cell(c) for c in row[: len(names)]) for row in rows]
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    try:
        return ".csv", text.encode(draw(encodings))
    except UnicodeEncodeError:
        return ".csv", text.encode("utf-8")


def _store_good(store: LakehouseStore, folder: Path, symbol: str) -> pd.DataFrame:
    pd.DataFrame({"date": GOOD_DAYS, "close": [10.0, 11.0, 12.0, 11.5, 12.5]}).to_csv(
        folder / f"{symbol}.csv", index=False
    )
    outcome = hydrate_symbols(store, FilesSource(folder), [symbol])
    assert outcome.quarantined == []
    return store.read_frame(store.symbol_dir(symbol))


@FUZZ
@given(file=files(), stored_before=st.booleans())
def test_any_file_is_stored_valid_or_quarantined_naming_the_symbol(file, stored_before):
    suffix, content = file
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "source"
        folder.mkdir()
        store = LakehouseStore(Path(tmp) / "lake")
        other = _store_good(store, folder, "GOOD")
        before = _store_good(store, folder, "SYM") if stored_before else None
        (folder / "SYM.csv").unlink(missing_ok=True)
        (folder / f"SYM{suffix}").write_bytes(content)

        outcome = hydrate_symbols(store, FilesSource(folder), ["GOOD", "SYM"])

        pd.testing.assert_frame_equal(store.read_frame(store.symbol_dir("GOOD")), other)
        assert [r.symbol for r in outcome.reports][:1] == ["GOOD"]
        if outcome.quarantined:
            (refused,) = outcome.quarantined
            event(f"quarantined: {refused['reason'][:30]}")
            assert refused["symbol"] == "SYM" and "symbol 'SYM'" in refused["message"]
            assert refused["file"] == str(folder / f"SYM{suffix}")
            assert entry(store, "SYM") is not None
            if before is None:
                assert not store.symbol_path("SYM").exists()
            else:
                pd.testing.assert_frame_equal(store.read_frame(store.symbol_dir("SYM")), before)
        else:
            event("stored")
            stored = store.read_frame(store.symbol_dir("SYM"))
            validate_bars(stored, source="files", symbol="SYM")
            assert np.isfinite(stored["close"]).all() and (stored["close"] > 0).all()
            assert entry(store, "SYM") is None
