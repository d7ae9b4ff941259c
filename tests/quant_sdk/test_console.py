import io
import json
import logging
import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from quant_assets.settings import Settings
from quant_sdk.console import Output, error_line, jsonable, platform_logging, setting_text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


FRAME = pd.DataFrame(
    {
        "engine": ["market", "hrp"],
        "sharpe": [0.719659241, np.nan],
        "cost": [0.000335, 12.5],
        "first_date": pd.to_datetime(["2020-01-03", "2020-01-06"]),
    }
)


def test_jsonable_makes_frames_dates_numpy_and_nan_json_ready():
    value = jsonable(
        {"frame": FRAME, "n": np.int64(3), "when": datetime(2025, 1, 2, 3, 4, tzinfo=UTC)}
    )
    text = json.dumps(value)  # would raise on anything left over
    assert value["frame"][1] == {
        "engine": "hrp",
        "sharpe": None,
        "cost": 12.5,
        "first_date": "2020-01-06",
    }
    assert value["frame"][0]["sharpe"] == 0.719659241  # full precision
    assert value["n"] == 3 and value["when"] == "2025-01-02T03:04:00+00:00"
    assert "NaN" not in text


def test_plain_text_when_not_a_terminal_and_a_table_on_one():
    plain = Output(stream=io.StringIO())
    assert not plain.terminal
    plain.table(FRAME, title="title:")
    lines = plain.stream.getvalue().splitlines()
    assert lines[0] == "title:"
    assert lines[1].split() == ["engine", "sharpe", "cost", "first_date"]
    assert lines[2].startswith("market ") and "0.719659" in lines[2] and "2020-01-03" in lines[2]
    assert lines[3].startswith("hrp    ")  # text left-aligned
    table = Output(stream=Terminal())
    assert table.terminal
    table.table(FRAME)
    drawn = re.sub(r"\x1b\[[0-9;]*m", "", table.stream.getvalue())  # no colours
    assert "┃ engine" in drawn and "│ market │ 0.7197 │" in drawn  # 4 decimals
    assert "0.000335" in drawn and "12.5000" in drawn  # 4 significant digits below 1e-3
    assert "2020-01-03" in drawn and "0.719659" not in drawn


def test_limit_says_how_many_rows_were_left_out():
    out = Output(stream=io.StringIO())
    out.table(pd.DataFrame({"x": range(45)}))
    lines = out.stream.getvalue().splitlines()
    assert len(lines) == 1 + 40 + 1 and lines[-1].startswith("... 5 more rows")
    out = Output(stream=io.StringIO())
    out.table(pd.DataFrame({"x": range(45)}), limit=0)
    assert len(out.stream.getvalue().splitlines()) == 46


def test_error_line_is_one_line_even_for_validation_errors():
    with pytest.raises(ValidationError) as caught:
        Settings(top_n=0, max_weight=2)
    line = error_line(caught.value)
    assert "\n" not in line and line.startswith("invalid settings: top_n: ")
    assert "max_weight: " in line and "(got 2)" in line
    assert error_line(ValueError("a\n  b")) == "a b"
    assert error_line(KeyboardInterrupt()) == "KeyboardInterrupt"


def test_setting_text_is_how_set_takes_it():
    assert [setting_text(v) for v in (None, 7.0, "x", ["hrp"])] == ["null", "7.0", "x", '["hrp"]']


def test_platform_logging_short_lines_and_restores_the_loggers():
    logger = logging.getLogger("quant_assets.example")
    parent = logging.getLogger("quant_assets")
    before = (parent.level, parent.propagate, list(parent.handlers))
    stream = io.StringIO()
    with platform_logging(stream=stream):
        logger.info("tournament: 1/2 tasks done")
        logger.debug("hidden")
        logger.warning("careful")
        logging.getLogger("somebody.else").warning("not ours")
    lines = stream.getvalue().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "tournament: 1/2 tasks done",
        "WARNING careful",
    ]
    assert (parent.level, parent.propagate, list(parent.handlers)) == before
