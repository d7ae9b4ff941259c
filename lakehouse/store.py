"""The lakehouse store: a folder of hive-partitioned Parquet files and JSON documents.

Layout (``root`` is the caller's ``settings.data_root``)::

    <root>/<asset>/run_id=<id>/part-0.parquet     run-scoped frames
    <root>/<asset>/run_id=<id>/document.json      run-scoped documents
    <root>/market_data/symbol=<SYM>/part-0.parquet hydrated symbols

Every write goes to a temporary file in the destination folder and is published with
:func:`os.replace`, so a reader never sees a half-written file. Run ids and symbols are validated
before any path is built from them.

**Checksums travel with the data.** A Parquet file carries, in its footer's key-value metadata,
the SHA-256 of every byte before its footer (the magic and every column chunk: all the data),
hashed as the bytes are written (:data:`CONTENT_CHECKSUM_KEY`), and the asset and partition it
was written for (:data:`ASSET_KEY`, :data:`PARTITION_KEY`). One :func:`os.replace` publishes data
and checksum together, so neither can exist without the other; :func:`parquet_seal` recomputes
the hash and compares the recorded identity with the file's path, so a file copied over another
partition's is told apart. Files written before this carry a ``<name>.sha256`` sidecar
(``sha256sum`` format) instead: they are still verified by it, and re-hydration rewrites them
with the checksum inside. A JSON document keeps a sidecar, written BEFORE the document, so a
document never exists without its record (a write cut between the two leaves a record that does
not match: a finding, never a pass).

A write that fails (a full disk, a read-only file system) raises :class:`LakehouseWriteError`
naming the file and the operating system's reason.
"""

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

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
"""``document.json.sha256`` (and ``part-0.parquet.sha256`` of files written before checksums
moved into the footer) records the SHA-256 of the bytes the store wrote."""
CONTENT_CHECKSUM_KEY = "lakehouse.content_sha256"
"""Footer key: SHA-256 of the Parquet file's bytes before its footer (all its data pages)."""
ASSET_KEY = "lakehouse.asset"
PARTITION_KEY = "lakehouse.partition"
"""Footer keys: the asset folder and partition folder (``symbol=KO``; empty if unpartitioned)
the file was written for."""
FOOTER_TAIL_BYTES = 8
"""A Parquet file ends with its footer's length (4 bytes, little-endian) and ``PAR1``."""
HASH_CHUNK_BYTES = 1 << 20
READ_ERRORS = (OSError, ValueError, ArrowException)
"""What reading a damaged Parquet file (or its footer) raises."""
SEALED, LEGACY, UNSEALED, TAMPERED, MISPLACED = (
    "sealed",
    "legacy",
    "unsealed",
    "tampered",
    "misplaced",
)
""":func:`parquet_seal` states: checksum inside and matching; sidecar (older file) matching; no
checksum at all; data not matching its checksum; written for another asset or partition."""
PLAIN_DTYPES = frozenset(np.dtype(name) for name in ("float64", "int64", "bool", "datetime64[ns]"))
"""Column dtypes a frame may have to be written without pandas metadata (:func:`is_plain_frame`)."""
REJECTED_FOLDER = "_rejected"
"""Where frames that broke their structural contract are kept for inspection (not an asset)."""
Audit = Callable[[Path], None]
"""Called with a written, not yet published file; raises to keep it from being published."""
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

    def rejected_dir(self, asset: str, run_id: str) -> Path:
        """Where a run's frame of ``asset`` that broke its contract is kept (never a view)."""
        return (
            self.root
            / REJECTED_FOLDER
            / validate_asset_name(asset)
            / (f"run_id={validate_run_id(run_id)}")
        )

    def symbol_dir(self, symbol: str, asset: str = MARKET_DATA) -> Path:
        """Folder of one symbol's partition of ``asset`` (``market_data`` by default)."""
        return self.asset_dir(asset) / f"symbol={validate_symbol(symbol)}"

    def symbol_path(self, symbol: str) -> Path:
        """Parquet file of one hydrated symbol."""
        return self.symbol_dir(symbol) / PARQUET_FILE

    # Frames and documents -------------------------------------------------------------------

    def write_frame(
        self,
        df: pd.DataFrame,
        folder: Path,
        metadata: Mapping[str, str] | None = None,
        audit: Audit | None = None,
    ) -> Path:
        """Atomically write ``df`` as ``folder/part-0.parquet`` and return the path.

        ``metadata`` goes into the footer beside the checksum and identity (e.g. where the data
        came from). Float columns are not dictionary-encoded (prices rarely repeat: the
        dictionary only costs time and bytes: :func:`dictionary_columns`). ``audit`` sees the
        written file before it is published (:func:`publish`).
        """
        path = folder / PARQUET_FILE
        publish_parquet(path, [frame_to_arrow(df)], metadata, audit=audit)
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
        text = json.dumps(document, indent=2, sort_keys=True, default=_json_default) + "\n"
        data = text.encode("utf-8")
        record = f"{hashlib.sha256(data).hexdigest()}  {path.name}\n"
        with _naming_the_file(path):
            publish(checksum_path(path), lambda tmp: _write_text(tmp, record, "utf-8"))
            publish(path, lambda tmp: Path(tmp).write_bytes(data))
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


def checksum_path(path: Path) -> Path:
    """Where the recorded checksum of the stored file ``path`` lives."""
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def recorded_checksum(path: Path) -> str | None:
    """The SHA-256 recorded when the store wrote ``path`` (None for files written before)."""
    sidecar = checksum_path(path)
    if not sidecar.exists():
        return None
    return sidecar.read_text(encoding="utf-8").split(maxsplit=1)[0]


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The lakehouse's Parquet policy: every column but floats dictionary-encoded.

    Floats (prices, returns, features) rarely repeat, so a dictionary only costs time and bytes;
    strings, dates and integers (symbols, labels) repeat and shrink with one.
    """
    return [field.name for field in schema if not pa.types.is_floating(field.type)]


def parquet_writer(path: str, schema: pa.Schema) -> pq.ParquetWriter:
    """A plain Parquet writer with the lakehouse's policy (:func:`dictionary_columns`).

    Stored frames go through :func:`publish_parquet` instead (checksum and identity sealed in).
    """
    return pq.ParquetWriter(path, schema, use_dictionary=dictionary_columns(schema))


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """Run ``write(temporary_path)`` beside ``path``; record its checksum; then publish it.

    The sidecar (:func:`checksum_path`) is published BEFORE the file, so the file never exists
    without its record (a write cut between the two leaves a record that does not match: a
    finding). Stored Parquet files carry their checksum inside instead (:func:`publish_parquet`).
    """

    def record_then_write(temporary: str) -> None:
        write(temporary)
        record = f"{file_sha256(Path(temporary))}  {path.name}\n"
        publish(checksum_path(path), lambda sidecar: _write_text(sidecar, record, "utf-8"))

    with _naming_the_file(path):
        publish(path, record_then_write)


class LakehouseWriteError(OSError):
    """A file of the lakehouse could not be written; names the file and the system's reason.

    ``errno`` is the operating system's (``ENOSPC``, ``EROFS``, ``EACCES``...); nothing was
    published (the previous file, if any, is intact).
    """

    def __init__(self, path: Path, error: OSError) -> None:
        code = error.errno
        reason = os.strerror(code) if code else str(error)
        super().__init__(code, f"cannot write {path}: {reason}")
        self.path = path
        self.message = f"cannot write {path}: {reason}"

    def __str__(self) -> str:
        """``cannot write <path>: No space left on device``."""
        return self.message


NO_WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EIO}
)
"""Errors of the platform's own storage (full, read-only, not permitted, failing disk)."""


class _HashingStream:
    """A binary file that hashes every byte written through it (pyarrow writes into it)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()
        self.closed = False

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self._stream.write(data)

    def tell(self) -> int:
        return self._stream.tell()

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self.closed = True  # the caller closes the real file

    def writable(self) -> bool:
        return True


class SealedParquetWriter:
    """Writes one Parquet file whose footer holds the checksum of its data and its identity.

    Every byte before the footer goes through a hash as pyarrow writes it; :meth:`close` puts
    the digest (:data:`CONTENT_CHECKSUM_KEY`) and ``metadata`` into the footer, then writes it.
    """

    def __init__(self, stream: BinaryIO, schema: pa.Schema) -> None:
        self._sink = _HashingStream(stream)
        self._writer = pq.ParquetWriter(
            self._sink, schema, use_dictionary=dictionary_columns(schema)
        )

    def write_table(self, table: pa.Table, row_group_size: int | None = None) -> None:
        """Write ``table`` as one or more row groups."""
        self._writer.write_table(table, row_group_size=row_group_size)

    def close(self, metadata: Mapping[str, str]) -> None:
        """Seal the file: checksum and ``metadata`` into the footer; write the footer."""
        self._writer.add_key_value_metadata(
            {**metadata, CONTENT_CHECKSUM_KEY: self._sink.digest.hexdigest()}
        )
        self._writer.close()

    def abort(self) -> None:
        """Close without sealing (the temporary file is removed by the caller)."""
        with contextlib.suppress(Exception):
            self._writer.close()


def parquet_identity(path: Path) -> dict[str, str]:
    """The asset and partition folder ``path`` (``<root>/<asset>/[<k>=<v>/]<file>``) is for."""
    folder = path.parent
    if "=" in folder.name:
        return {ASSET_KEY: folder.parent.name, PARTITION_KEY: folder.name}
    return {ASSET_KEY: folder.name, PARTITION_KEY: ""}


def publish_parquet(
    path: Path,
    tables: Iterable[pa.Table],
    metadata: Mapping[str, str] | None = None,
    *,
    row_group_per_table: bool = False,
    audit: Audit | None = None,
) -> None:
    """Write ``tables`` (the schema of the first) as the sealed Parquet file ``path``, atomically.

    ``audit`` sees the sealed file under its temporary name before it is published
    (:func:`publish`).

    Empty tables add no row group. The footer holds the data's checksum, the identity of
    ``path`` (:func:`parquet_identity`) and ``metadata``; one :func:`os.replace` publishes it,
    then an older file's sidecar is removed (the checksum is inside now).

    Raises
    ------
    ValueError
        ``tables`` is empty (give at least one, possibly empty, table).
    LakehouseWriteError
        The file could not be written (nothing is published).
    """
    sealed = {**(metadata or {}), **parquet_identity(path)}

    def write(temporary: str) -> None:
        with open(temporary, "wb") as stream:
            writer: SealedParquetWriter | None = None
            try:
                for table in tables:
                    if writer is None:
                        writer = SealedParquetWriter(stream, table.schema)
                    if table.num_rows:
                        size = table.num_rows if row_group_per_table else None
                        writer.write_table(table, row_group_size=size)
                if writer is None:
                    raise ValueError(f"no table to write at {path}: give at least one")
                writer.close(sealed)
            except BaseException:
                if writer is not None:
                    writer.abort()
                raise

    with _naming_the_file(path):
        publish(path, write, audit=audit)
        checksum_path(path).unlink(missing_ok=True)


@dataclass(frozen=True)
class Seal:
    """Whether a stored Parquet file is the data the store wrote for its place (see states)."""

    state: str
    detail: str = ""

    @property
    def sound(self) -> bool:
        """Data matches its checksum (inside, or a legacy sidecar) and belongs where it is."""
        return self.state in (SEALED, LEGACY)


def footer_metadata(path: Path) -> dict[str, str]:
    """The key-value metadata of a Parquet file's footer (raises if the footer is unreadable)."""
    raw = pq.read_metadata(path).metadata or {}
    return {key.decode(): value.decode(errors="replace") for key, value in raw.items()}


def parquet_seal(path: Path) -> Seal:
    """Recompute the checksum of a stored Parquet file and check its identity against its path.

    Raises what reading the footer raises (a damaged file: ``OSError``, ``ArrowException``).
    """
    recorded = footer_metadata(path)
    checksum = recorded.get(CONTENT_CHECKSUM_KEY)
    if checksum is None:
        sidecar = recorded_checksum(path)
        if sidecar is None:
            return Seal(UNSEALED, "no checksum recorded with the data")
        if sidecar != file_sha256(path):
            return Seal(TAMPERED, "content differs from its recorded checksum (sidecar)")
        return Seal(LEGACY)
    if checksum != data_sha256(path):
        return Seal(TAMPERED, "content differs from the checksum in its footer")
    expected = parquet_identity(path)
    found = {key: recorded.get(key) for key in expected}
    if found != expected:
        written_for = f"{found[ASSET_KEY]}/{found[PARTITION_KEY] or '(unpartitioned)'}"
        return Seal(MISPLACED, f"holds the data written for {written_for}, not for this place")
    return Seal(SEALED)


def data_sha256(path: Path) -> str:
    """SHA-256 of a Parquet file's bytes before its footer (as the sealed writer hashed them)."""
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(size - FOOTER_TAIL_BYTES)
        footer_length = int.from_bytes(handle.read(4), "little")
        remaining = size - FOOTER_TAIL_BYTES - footer_length
        handle.seek(0)
        digest = hashlib.sha256()
        while remaining > 0:
            chunk = handle.read(min(HASH_CHUNK_BYTES, remaining))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _naming_the_file(path: Path) -> Iterator[None]:
    """Turn an operating system error of a write into :class:`LakehouseWriteError` on ``path``."""
    try:
        yield
    except LakehouseWriteError:
        raise
    except OSError as error:
        raise LakehouseWriteError(path, error) from error


def write_text_atomically(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (:func:`publish`), with no checksum recorded.

    For files handed to people (a report, a symbol list): they get the usual permissions (those
    the umask allows), not a temporary file's owner-only ones.
    """
    target = Path(path)
    publish(target, lambda temporary: _write_text(temporary, text, encoding), private=False)
    return target


def publish(
    path: Path, write: Callable[[str], object], private: bool = True, audit: Audit | None = None
) -> None:
    """The one atomic write: ``write(temporary_path)`` beside ``path``, then :func:`os.replace`.

    The temporary file is ``.<name>.<random>.tmp`` in ``path``'s folder (created if missing), so
    the replace never crosses a filesystem; it is removed if ``write`` raises. A ``private``
    temporary file is created owner-only (:func:`tempfile.mkstemp`); otherwise it gets the
    permissions the umask allows. ``audit(temporary_path)`` runs between the write and the
    replace (write, audit, publish): if it raises, nothing is published and the previous file
    at ``path`` is untouched (the audit may move the temporary file aside first).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(
        f"{TEMP_FILE_PREFIX}{path.name}.{secrets.token_hex(8)}{TEMP_FILE_SUFFIX}"
    )
    try:
        if private:
            os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        write(str(temporary))
        if audit is not None:
            audit(temporary)
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
