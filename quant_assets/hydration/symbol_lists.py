"""Symbol list files: one symbol per line, what ``quant screen --out`` writes and hydrate reads.

The format is plain UTF-8 text: one symbol per line, surrounding spaces ignored; blank lines
and lines starting with ``#`` (comments, e.g. the screen that made the list) are skipped. Every
symbol must pass :func:`lakehouse.validate_symbol`; a symbol listed twice is kept once, at its
first line. Lists are written atomically (a temporary file beside the target, then
:func:`os.replace`), so a reader never sees half a list.
"""

from collections.abc import Iterable
from pathlib import Path

from lakehouse import InvalidSymbol, validate_symbol
from lakehouse.commits import write_text_atomically

COMMENT_PREFIX = "#"
SYMBOL_LIST_ENCODING = "utf-8"


def read_symbol_list(path: str | Path) -> list[str]:
    """The symbols of the list file ``path``, in file order, each once.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    InvalidSymbol
        A line is not a valid symbol; the message names the file and the line number.
    ValueError
        The file lists no symbol, or is not UTF-8 text.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding=SYMBOL_LIST_ENCODING)
    except FileNotFoundError:
        raise FileNotFoundError(f"symbol list {source} does not exist") from None
    except UnicodeDecodeError as error:
        raise ValueError(
            f"symbol list {source} is not UTF-8 text (byte {error.start}): "
            "write one symbol per line"
        ) from None
    symbols: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith(COMMENT_PREFIX):
            continue
        try:
            symbols.setdefault(validate_symbol(entry), None)
        except InvalidSymbol as error:
            raise InvalidSymbol(f"{source}, line {number}: {error}") from None
    if not symbols:
        raise ValueError(f"symbol list {source} lists no symbol (one per line, # comments)")
    return list(symbols)


def write_symbol_list(
    symbols: Iterable[str], path: str | Path, comments: Iterable[str] = ()
) -> list[str]:
    """Write ``symbols`` (validated, each once, in order) to ``path``; return what was written.

    ``comments`` become ``# ...`` lines at the top (say where the list came from). Raises
    :class:`InvalidSymbol` before writing anything if a symbol is invalid.
    """
    written = list(dict.fromkeys(validate_symbol(s) for s in symbols))
    header = [f"{COMMENT_PREFIX} {' '.join(str(c).split())}" for c in comments]
    text = "\n".join([*header, *written]) + "\n"
    write_text_atomically(path, text, SYMBOL_LIST_ENCODING)
    return written
