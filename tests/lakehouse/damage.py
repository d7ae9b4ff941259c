"""Ways to damage a real stored Parquet file in tests, as a disk or a crash would."""

from pathlib import Path

import pyarrow.parquet as pq

GARBAGE_BYTE = 0xFF
FLIP_MASK = 0x5A
PAGE_BYTES_SPOILED = 64
TAIL_BYTES = 8  # footer length (4) + magic (4)


def cut_in_half(path: Path) -> bytes:
    """Truncate ``path`` to half its size (a copy cut short); return the original bytes."""
    original = path.read_bytes()
    path.write_bytes(original[: len(original) // 2])
    return original


def scramble_footer(path: Path) -> None:
    """Flip every byte of the footer, keeping the magic bytes and the footer length intact."""
    data = bytearray(path.read_bytes())
    footer_length = int.from_bytes(data[-TAIL_BYTES:-4], "little")
    for index in range(len(data) - TAIL_BYTES - footer_length, len(data) - TAIL_BYTES):
        data[index] ^= FLIP_MASK
    path.write_bytes(bytes(data))


def spoil_first_page(path: Path) -> None:
    """Overwrite the start of the first data page; the footer stays readable."""
    offset = pq.read_metadata(path).row_group(0).column(0).data_page_offset
    data = bytearray(path.read_bytes())
    data[offset : offset + PAGE_BYTES_SPOILED] = bytes([GARBAGE_BYTE]) * PAGE_BYTES_SPOILED
    path.write_bytes(bytes(data))
