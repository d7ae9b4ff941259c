"""The lakehouse store: a folder of hive-partitioned Parquet files and JSON documents.

Layout (``root`` is the caller's ``settings.data_root``)::

    <root>/<asset>/run_id=<id>/part-0.parquet     run-scoped frames
    <root>/<asset>/run_id=<id>/document.json      run-scoped documents
    <root>/market_data/symbol=<SYM>/part-0.parquet hydrated symbols

Every write goes to a temporary file in the destination folder and is published with
:func:`os.replace`, so a reader never sees a half-written file. Each published file gets a
``<name>.sha256`` beside it (``sha256sum`` format), so damage or a change made outside the
platform can be told from the data the platform wrote (``quant doctor``). Run ids and symbols
are validated before any path is built from them.
"""

import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import ArrowException

from lakehouse.hashing import file_sha256
from lakehouse.identifiers import validate_run_id, validate_symbol

PARQUET_FILE = "part-0.parquet"
JSON_FILE = "document.json"
MARKET_DATA = "market_data"
RUN_MANIFEST = "run_manifest"
"""The run-scoped document of what a run used: settings, inputs, code (the provenance)."""
ASSET_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
RUN_ID_PARTITIONS = "run_id"
"""Name of the Dagster partitions of run-scoped assets (one per run id); also their folder key."""
SYMBOL_PARTITIONS = "symbols"
"""Name of the Dagster partitions of ``market_data`` (one per symbol)."""
RUN_ID_FOLDER_KEY = "run_id"
PARTITION_FOLDER_KEYS = {RUN_ID_PARTITIONS: RUN_ID_FOLDER_KEY, SYMBOL_PARTITIONS: "symbol"}
"""Partitions name -> hive key of its folders (``run_id=<id>``, ``symbol=<SYM>``)."""
CHECKSUM_SUFFIX = ".sha256"
"""``part-0.parquet.sha256`` records the SHA-256 of the bytes the store wrote."""
PLAIN_DTYPES = frozenset(np.dtype(name) for name in ("float64", "int64", "bool", "datetime64[ns]"))
"""Column dtypes a frame may have to be written without pandas metadata (:func:`is_plain_frame`)."""
TEMP_FILE_PREFIX = "."
TEMP_FILE_SUFFIX = ".tmp"
"""An atomic write's temporary file is ``.<final name>.<random>.tmp`` beside its destination."""


def validate_asset_name(name: str) -> str:
    """Return ``name`` if it is a safe lowercase asset folder name, else raise ``ValueError``."""
    if not ASSET_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"invalid asset name {name!r}: use lowercase letters, digits and _")
    return name


class LakehouseStore:
    """Reads and writes the lakehouse's Parquet frames and JSON documents under ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # Paths ----------------------------------------------------------------------------------

    def asset_dir(self, asset: str) -> Path:
        """Folder holding every partition of ``asset``."""
        return self.root / validate_asset_name(asset)

    def run_dir(self, asset: str, run_id: str) -> Path:
        """Folder of one run's partition of ``asset``."""
        return self.asset_dir(asset) / f"run_id={validate_run_id(run_id)}"

    def symbol_dir(self, symbol: str, asset: str = MARKET_DATA) -> Path:
        """Folder of one symbol's partition of ``asset`` (``market_data`` by default)."""
        return self.asset_dir(asset) / f"symbol={validate_symbol(symbol)}"

    def symbol_path(self, symbol: str) -> Path:
        """Parquet file of one hydrated symbol."""
        return self.symbol_dir(symbol) / PARQUET_FILE

    # Frames and documents -------------------------------------------------------------------

    def write_frame(self, df: pd.DataFrame, folder: Path) -> Path:
        """Atomically write ``df`` as ``folder/part-0.parquet`` (:func:`parquet_writer`)."""
        path = folder / PARQUET_FILE
        table = frame_to_arrow(df)

        def write(temporary: str) -> None:
            with parquet_writer(temporary, table.schema) as writer:
                writer.write_table(table)

        atomic_write(path, write)
        return path

    def read_frame(self, folder: Path) -> pd.DataFrame:
        """Read ``folder/part-0.parquet``.

        Raises
        ------
        FileNotFoundError
            Nothing is stored there.
        DamagedFileError
            The file cannot be read (cut short, overwritten with something else).
        """
        path = folder / PARQUET_FILE
        if not path.exists():
            raise FileNotFoundError(f"no Parquet at {path}: has the asset been materialized?")
        try:
            return pd.read_parquet(path, engine="pyarrow")
        except (OSError, ValueError, ArrowException) as error:
            raise DamagedFileError(path, error) from error

    def write_document(self, document: Any, folder: Path) -> Path:
        """Atomically write a JSON-ready ``document`` as ``folder/document.json``."""
        path = folder / JSON_FILE
        text = json.dumps(document, indent=2, sort_keys=True, default=_json_default)
        atomic_write(path, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
        return path

    def has_document(self, folder: Path) -> bool:
        """Whether ``folder/document.json`` exists."""
        return (folder / JSON_FILE).exists()

    def read_document(self, folder: Path) -> Any:
        """Read ``folder/document.json``."""
        path = folder / JSON_FILE
        if not path.exists():
            raise FileNotFoundError(f"no JSON document at {path}")
        return json.loads(path.read_text(encoding="utf-8"))

    # Listing and pruning --------------------------------------------------------------------

    def symbols(self) -> list[str]:
        """Every hydrated symbol, sorted."""
        return sorted(_partition_values(self.asset_dir(MARKET_DATA), "symbol"))

    def run_ids(self) -> list[str]:
        """Every run id with at least one stored asset, sorted oldest first."""
        found: set[str] = set()
        if self.root.exists():
            for asset_dir in self.root.iterdir():
                if asset_dir.is_dir():
                    found.update(
                        _partition_values(asset_dir, PARTITION_FOLDER_KEYS[RUN_ID_PARTITIONS])
                    )
        return sorted(found)

    def delete_run(self, run_id: str) -> list[Path]:
        """Remove every asset partition of ``run_id``; return the folders removed."""
        validate_run_id(run_id)
        removed = []
        for asset_dir in sorted(self.root.iterdir()) if self.root.exists() else []:
            folder = asset_dir / f"run_id={run_id}"
            if folder.is_dir():
                shutil.rmtree(folder)
                removed.append(folder)
        return removed


def _partition_values(asset_dir: Path, key: str) -> Iterator[str]:
    prefix = f"{key}="
    if asset_dir.is_dir():
        for child in asset_dir.iterdir():
            if child.is_dir() and child.name.startswith(prefix):
                yield child.name[len(prefix) :]


class DamagedFileError(OSError):
    """A stored file that cannot be read; the message names it and says how to repair it."""

    def __init__(self, path: Path, error: BaseException) -> None:
        self.path = path
        super().__init__(
            f"stored file {path} is damaged ({type(error).__name__}: {error}); run `quant doctor` "
            "to list and repair damaged files (a market_data symbol is re-hydrated, a run's "
            "asset is re-materialized by `quant run --run-id <id>`)"
        )


def frame_to_arrow(df: pd.DataFrame) -> pa.Table:
    """``df`` as an Arrow table that ``pd.read_parquet`` gives back equal to ``df``.

    A plain frame (see :func:`is_plain_frame`: market data) is converted column by column,
    without the pandas metadata pyarrow would otherwise work out (half the time of writing ten
    years of daily bars); any other frame goes through ``pa.Table.from_pandas``. Missing values
    are nulls either way (NaN and NaT, as pandas writes them).
    """
    if not is_plain_frame(df):
        return pa.Table.from_pandas(df)
    return pa.table(
        {name: pa.array(column.to_numpy(), from_pandas=True) for name, column in df.items()}
    )


def is_plain_frame(df: pd.DataFrame) -> bool:
    """Whether ``df`` reads back from Parquet equal without pandas metadata.

    True for a default index (``RangeIndex`` from 0 by 1, unnamed), unnamed unique string
    column labels and only float64, int64, bool or datetime64[ns] columns.
    """
    index, columns = df.index, df.columns
    return (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
        and columns.name is None
        and columns.is_unique
        and all(isinstance(label, str) for label in columns)
        and all(dtype in PLAIN_DTYPES for dtype in df.dtypes)
    )


def parquet_writer(path: str, schema: pa.Schema) -> pq.ParquetWriter:
    """The one way the lakehouse writes Parquet: every column but floats dictionary-encoded.

    Floats (prices, returns, features) rarely repeat, so a dictionary only costs time and bytes;
    strings, dates and integers (symbols, labels) repeat and shrink with one.
    """
    encoded = [field.name for field in schema if not pa.types.is_floating(field.type)]
    return pq.ParquetWriter(path, schema, use_dictionary=encoded)


def checksum_path(path: Path) -> Path:
    """Where the recorded checksum of the stored file ``path`` lives."""
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def recorded_checksum(path: Path) -> str | None:
    """The SHA-256 recorded when the store wrote ``path`` (None for files written before)."""
    sidecar = checksum_path(path)
    if not sidecar.exists():
        return None
    return sidecar.read_text(encoding="utf-8").split(maxsplit=1)[0]


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """Run ``write(temporary_path)`` beside ``path``, publish it, and record its checksum.

    The temporary file is removed if ``write`` raises, so ``path`` is either the old file or
    the complete new one (:func:`publish`). The published bytes' SHA-256 is then recorded
    beside it (:func:`checksum_path`), published the same way.
    """
    checksum: list[str] = []

    def write_and_hash(temporary: str) -> None:
        write(temporary)
        checksum.append(f"{file_sha256(Path(temporary))}  {path.name}\n")

    publish(path, write_and_hash)
    publish(checksum_path(path), lambda temporary: _write_text(temporary, checksum[0], "utf-8"))


def write_text_atomically(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (:func:`publish`), with no checksum recorded.

    For files handed to people (a report, a symbol list): they get the usual permissions (those
    the umask allows), not a temporary file's owner-only ones.
    """
    target = Path(path)
    publish(target, lambda temporary: _write_text(temporary, text, encoding), private=False)
    return target


def publish(path: Path, write: Callable[[str], object], private: bool = True) -> None:
    """The one atomic write: ``write(temporary_path)`` beside ``path``, then :func:`os.replace`.

    The temporary file is ``.<name>.<random>.tmp`` in ``path``'s folder (created if missing), so
    the replace never crosses a filesystem; it is removed if ``write`` raises. A ``private``
    temporary file is created owner-only (:func:`tempfile.mkstemp`); otherwise it gets the
    permissions the umask allows.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(
        f"{TEMP_FILE_PREFIX}{path.name}.{secrets.token_hex(8)}{TEMP_FILE_SUFFIX}"
    )
    try:
        if private:
            os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        write(str(temporary))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _write_text(path: str, text: str, encoding: str) -> None:
    with open(path, "w", encoding=encoding) as stream:
        stream.write(text)


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
