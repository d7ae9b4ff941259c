import re

import numpy as np
import pandas as pd
import pytest

from quant_assets.tearsheet.tables import (
    DATE,
    INTEGER,
    MISSING,
    PERCENT,
    RATIO,
    format_value,
    header_label,
    html_table,
    key_value_table,
)


def test_format_value_by_kind():
    assert format_value(0.123456, PERCENT) == "12.35%"
    assert format_value(-0.5, PERCENT) == "-50.00%"
    assert format_value(1.23456, RATIO) == "1.23"
    assert format_value(1234, INTEGER) == "1,234"
    assert format_value(pd.Timestamp("2022-10-05 00:00"), DATE) == "2022-10-05"
    for missing in (None, np.nan, pd.NaT, float("inf")):
        assert format_value(missing, RATIO) == MISSING
    with pytest.raises(KeyError, match="unknown column kind"):
        format_value(1.0, "money")


def test_header_label():
    assert header_label("annual_return") == "annual return"
    assert header_label("canary/equal_weight") == "canary/equal_weight"


def _cells(table: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", table)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in rows]


def test_html_table_formats_escapes_and_truncates():
    frame = pd.DataFrame(
        {
            "engine": ["<b>bold</b>", "a&b"],
            "sharpe": [0.912, np.nan],
            "vetoes": ["", "max_sharpe"],  # text, though 'vetoes' is usually a count
            "days": [1449, 3],
        }
    )
    table = html_table(frame, table_id="t", caption="x < y")
    assert "<b>" not in table and "&lt;b&gt;bold&lt;/b&gt;" in table and "a&amp;b" in table
    assert "<caption>x &lt; y</caption>" in table
    header, first, second = _cells(table)
    assert header == ["engine", "sharpe", "vetoes", "days"]
    assert first == ["&lt;b&gt;bold&lt;/b&gt;", "0.91", "", "1,449"]
    assert second == ["a&amp;b", MISSING, "max_sharpe", "3"]
    short = html_table(frame, table_id="t", max_rows=1)
    assert len(_cells(short)) == 2 and "1 more rows not shown" in short


def test_html_table_kinds_and_index():
    frame = pd.DataFrame({"weight": [0.25]}, index=pd.Index(["KO"], name="symbol"))
    table = html_table(frame, table_id="w", kinds={"weight": PERCENT}, index=True)
    assert _cells(table) == [["symbol", "weight"], ["KO", "25.00%"]]


def test_key_value_table_escapes():
    table = key_value_table([("Run <id>", 'a"b')], table_id="kv")
    assert "Run &lt;id&gt;" in table and "a&quot;b" in table
