import base64
import dataclasses
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from quant_assets.tearsheet import SECTION_IDS, TearsheetInputs, render_tearsheet, save_tearsheet
from quant_assets.tearsheet.benchmark import BENCHMARK_METRIC_COLUMNS, benchmark_returns
from quant_assets.tournament.reporting import LEADERBOARD_COLUMNS

EXPECTED_SECTIONS = [
    "summary",
    "leaderboard",
    "luck",
    "equity",
    "monthly-returns",
    "rolling-sharpe",
    "weights",
    "turnover-costs",
    "vetoes",
    "regimes",
    "selection-frequency",
    "manifest",
]
PERCENT_COLUMNS = {"annual_return", "annual_volatility", "max_drawdown", "cost_drag"}
RATIO_COLUMNS = {"sharpe", "sortino", "calmar", "avg_turnover"}
EXTERNAL_REFERENCE = re.compile(
    r"""(?:src|href|action|poster)\s*=\s*["']?\s*(?:https?:)?//""", re.I
)


class TableCells(HTMLParser):
    """Text of every cell of the table with a given id, row by row."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in {"td", "th"}:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in {"td", "th"} and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _table(document: str, table_id: str) -> list[list[str]]:
    parser = TableCells(table_id)
    parser.feed(document)
    assert parser.rows, f"no table {table_id}"
    return parser.rows


def test_every_section_in_order(canary_html: str):
    assert list(SECTION_IDS) == EXPECTED_SECTIONS
    assert re.findall(r'<h2 id="([^"]+)"', canary_html) == EXPECTED_SECTIONS
    assert re.findall(r'<a href="#([^"]+)"', canary_html) == EXPECTED_SECTIONS


def test_leaderboard_numbers_equal_the_frame(canary_inputs: TearsheetInputs, canary_html: str):
    header, *rows = _table(canary_html, "leaderboard-table")
    columns = [*LEADERBOARD_COLUMNS, *BENCHMARK_METRIC_COLUMNS]
    assert header == [c.replace("_", " ") for c in columns]
    board = canary_inputs.leaderboard
    assert len(rows) == len(board)
    for cells, (_, row) in zip(rows, board.iterrows(), strict=True):
        shown = dict(zip(LEADERBOARD_COLUMNS, cells, strict=False))
        for column in LEADERBOARD_COLUMNS:
            value = row[column]
            if column in PERCENT_COLUMNS:
                assert shown[column] == f"{value * 100:.2f}%"
                assert float(shown[column][:-1]) / 100 == pytest.approx(value, abs=5e-5)
            elif column in RATIO_COLUMNS:
                assert shown[column] == f"{value:.2f}"
                assert float(shown[column]) == pytest.approx(value, abs=5e-3)
            elif column in {"first_date", "last_date"}:
                assert shown[column] == pd.Timestamp(value).date().isoformat()
            elif column in {"rank", "vetoes", "days"}:
                assert int(shown[column].replace(",", "")) == value
            else:
                assert shown[column] == str(value)
        relative = dict(zip(columns, cells, strict=True))
        assert int(relative["benchmark_days"].replace(",", "")) == row["days"]  # all overlap
        assert relative["excess_annual_return"].endswith("%")


def test_no_external_resources(canary_html: str):
    assert not EXTERNAL_REFERENCE.search(canary_html)
    assert "<script" not in canary_html.lower() and "<link" not in canary_html.lower()
    assert "@import" not in canary_html and "url(" not in canary_html
    assert "http://" not in canary_html and "https://" not in canary_html


def test_images_are_inline_pngs(canary_html: str):
    sources = re.findall(r'<img src="([^"]+)"', canary_html)
    # luck (logits, splits), equity, monthly, rolling, weights, costs, regimes, selection
    assert len(sources) == 9
    for source in sources:
        prefix, payload = source.split(",", 1)
        assert prefix == "data:image/png;base64"
        assert base64.b64decode(payload, validate=True).startswith(b"\x89PNG\r\n\x1a\n")


def test_text_is_escaped(canary_inputs: TearsheetInputs):
    hostile = "<script>alert('x')</script>"
    manifest = {**canary_inputs.run_manifest, "created_at": hostile}
    manifest["settings"] = {**manifest["settings"], "source_path": hostile}
    inputs = dataclasses.replace(canary_inputs, run_manifest=manifest)
    document = render_tearsheet(inputs)
    assert "<script" not in document
    assert document.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") >= 3


def test_synthetic_dates_get_no_benchmark_columns(canary_inputs: TearsheetInputs):
    future = benchmark_returns()
    future.index = future.index - pd.DateOffset(years=60)  # nothing in common
    document = render_tearsheet(canary_inputs, benchmark=future)
    header, *rows = _table(document, "leaderboard-table")
    for cells in rows:
        relative = dict(zip(header, cells, strict=True))
        assert relative["benchmark days"] == "0"
        assert relative["excess annual return"] == relative["information ratio"] == "n/a"
    assert "has no date in common" in document


def test_save_tearsheet_writes_atomically(canary_html: str, tmp_path: Path):
    old_mask = os.umask(0o022)
    try:
        target = save_tearsheet(canary_html, tmp_path / "reports" / "run.html")
    finally:
        os.umask(old_mask)
    assert target.read_text(encoding="utf-8") == canary_html
    assert [p.name for p in target.parent.iterdir()] == ["run.html"]
    assert target.stat().st_mode & 0o044  # readable by others (umask permitting), not 0600
