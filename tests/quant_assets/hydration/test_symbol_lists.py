"""Symbol list files: written atomically, read back with comments, duplicates and bad lines."""

from pathlib import Path

import pytest

from lakehouse import InvalidSymbol
from quant_assets.hydration.symbol_lists import read_symbol_list, write_symbol_list


def test_a_written_list_reads_back_in_order_once_each(tmp_path: Path):
    path = tmp_path / "lists" / "symbols.txt"
    written = write_symbol_list(["AAPL", "BRK-B", "AAPL", "^GSPC"], path, ["made by a test"])
    assert written == ["AAPL", "BRK-B", "^GSPC"]
    assert path.read_text().splitlines() == ["# made by a test", "AAPL", "BRK-B", "^GSPC"]
    assert read_symbol_list(path) == written
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_reading_skips_blanks_comments_and_spaces(tmp_path: Path):
    path = tmp_path / "symbols.txt"
    path.write_text("# my list\n\n  SPY  \nQQQ\n# QQQ again below\nQQQ\n")
    assert read_symbol_list(path) == ["SPY", "QQQ"]


def test_a_bad_line_is_named_by_file_and_line(tmp_path: Path):
    path = tmp_path / "symbols.txt"
    path.write_text("SPY\nNYSE:BRK.B\n")
    with pytest.raises(InvalidSymbol, match=r"symbols.txt, line 2: invalid symbol 'NYSE:BRK.B'"):
        read_symbol_list(path)


def test_an_empty_missing_or_binary_list_is_refused(tmp_path: Path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(ValueError, match="lists no symbol"):
        read_symbol_list(empty)
    with pytest.raises(FileNotFoundError, match=r"absent\.txt does not exist"):
        read_symbol_list(tmp_path / "absent.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"SPY\n\xff\xfe\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_symbol_list(binary)


def test_nothing_is_written_when_a_symbol_is_invalid(tmp_path: Path):
    path = tmp_path / "symbols.txt"
    path.write_text("OLD\n")
    with pytest.raises(InvalidSymbol):
        write_symbol_list(["SPY", "BAC/PL"], path)
    assert path.read_text() == "OLD\n"
