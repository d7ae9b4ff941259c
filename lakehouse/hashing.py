"""Content hashes: of frames (surviving a Parquet round trip) and of stored files' bytes."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

FILE_HASH_CHUNK = 1 << 20
"""Bytes read at a time when hashing a file."""
HASH_FLOAT_DECIMALS = 10
"""Floats are rounded to this many decimals before hashing, so storage noise does not matter."""


def get_df_hash(df: pd.DataFrame) -> str:
    """Return a SHA-256 hex digest of ``df``'s content.

    The hash ignores column order (columns are sorted by name) and the index type details that a
    Parquet round trip may change: the index is reset into columns, floats are rounded to
    :data:`HASH_FLOAT_DECIMALS` decimals (``-0.0`` becomes ``0.0``, every NaN is the same),
    datetimes are hashed as UTC nanoseconds, and everything else by its string form.
    """
    frame = df.reset_index() if _has_named_or_meaningful_index(df) else df
    digest = hashlib.sha256()
    digest.update(f"rows={len(frame)}".encode())
    for name in sorted(frame.columns, key=str):
        column = frame[name]
        digest.update(f"|{name}|".encode())
        digest.update(_column_bytes(column))
    return digest.hexdigest()


def _has_named_or_meaningful_index(df: pd.DataFrame) -> bool:
    index = df.index
    is_default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    return not is_default or any(name is not None for name in index.names)


def _column_bytes(column: pd.Series) -> bytes:
    if pd.api.types.is_bool_dtype(column.dtype):
        return bytes(column.to_numpy(dtype=np.uint8, na_value=2).tobytes())
    if pd.api.types.is_float_dtype(column.dtype):
        values = np.round(column.to_numpy(dtype=np.float64, na_value=np.nan), HASH_FLOAT_DECIMALS)
        values = np.where(np.isnan(values), np.nan, values + 0.0)
        return bytes(values.tobytes())
    if pd.api.types.is_integer_dtype(column.dtype):
        return bytes(column.to_numpy(dtype=np.int64).tobytes())
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        stamps = column.dt.tz_convert("UTC") if column.dt.tz is not None else column
        return bytes(stamps.astype("datetime64[ns]").to_numpy().view(np.int64).tobytes())
    return "\x1f".join("<NA>" if pd.isna(v) else str(v) for v in column).encode()


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes (what ``sha256sum`` prints)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(FILE_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
