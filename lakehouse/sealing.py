"""Checksums that travel with the data: sealed Parquet files, and the records of JSON documents.

A Parquet file the store writes carries, in its footer's key-value metadata, the SHA-256 of every
byte before its footer (the magic and every column chunk: all the data), hashed as the bytes are
written (:data:`CONTENT_CHECKSUM_KEY`), and the asset and partition it was written for
(:data:`ASSET_KEY`, :data:`PARTITION_KEY`): one commit publishes data and checksum together.
:func:`parquet_seal` recomputes the hash and compares the recorded identity with the file's path,
so a file copied over another partition's is told apart. Files written before this carry a
``<name>.sha256`` sidecar (``sha256sum`` format) instead, as JSON documents do
(:func:`recorded_checksums`).
"""

import contextlib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.hashing import file_sha256
from lakehouse.location import arrow_source, is_remote, stored_bytes

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
SEALED, LEGACY, UNSEALED, TAMPERED, MISPLACED = (
    "sealed",
    "legacy",
    "unsealed",
    "tampered",
    "misplaced",
)
""":func:`parquet_seal` states: checksum inside and matching; sidecar (older file) matching; no
checksum at all; data not matching its checksum; written for another asset or partition."""


def checksum_path(path: Path) -> Path:
    """Where the recorded checksum of the stored file ``path`` lives."""
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def recorded_checksum(path: Path) -> str | None:
    """The SHA-256 recorded when the store wrote ``path`` (None for files written before)."""
    recorded = recorded_checksums(path)
    return recorded[0] if recorded else None


def recorded_checksums(path: Path) -> list[str]:
    """Every SHA-256 the record of ``path`` holds: the latest write's first, then the one before.

    A document's record names its previous checksum too (:meth:`LakehouseStore.write_document`),
    so a write cut between the record and the document leaves the previous document whole and
    known: it matches the second checksum.
    """
    sidecar = checksum_path(path)
    if not sidecar.exists():
        return []
    lines = sidecar.read_text(encoding="utf-8").splitlines()
    return [line.split(maxsplit=1)[0] for line in lines if line.strip()]


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The lakehouse's Parquet policy: every column but floats dictionary-encoded.

    Floats (prices, returns, features) rarely repeat, so a dictionary only costs time and bytes;
    strings, dates and integers (symbols, labels) repeat and shrink with one.
    """
    return [field.name for field in schema if not pa.types.is_floating(field.type)]


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


@dataclass(frozen=True)
class Seal:
    """Whether a stored Parquet file is the data the store wrote for its place (see states)."""

    state: str
    detail: str = ""

    @property
    def sound(self) -> bool:
        """Data matches its checksum (inside, or a legacy sidecar) and belongs where it is."""
        return self.state in (SEALED, LEGACY)


def footer_metadata(path: Path, contents: bytes | None = None) -> dict[str, str]:
    """The key-value metadata of a Parquet file's footer (raises if the footer is unreadable).

    Parsed from ``contents`` (the file's bytes) when given.
    """
    if contents is not None:
        raw = pq.read_metadata(pa.BufferReader(contents)).metadata or {}
    else:
        source, filesystem = arrow_source(path)
        raw = pq.read_metadata(source, filesystem=filesystem).metadata or {}
    return {key.decode(): value.decode(errors="replace") for key, value in raw.items()}


def parquet_seal(path: Path, contents: bytes | None = None) -> Seal:
    """Recompute the checksum of a stored Parquet file and check its identity against its path.

    ``contents`` are the file's bytes if the caller read them already (on object storage the
    object is fetched once, whole, when they are not given).

    Raises what reading the footer raises (a damaged file: ``OSError``, ``ArrowException``).
    """
    if contents is None and is_remote(path):
        contents = stored_bytes(path)
    recorded = footer_metadata(path, contents)
    checksum = recorded.get(CONTENT_CHECKSUM_KEY)
    if checksum is None:
        sidecar = recorded_checksum(path)
        if sidecar is None:
            return Seal(UNSEALED, "no checksum recorded with the data")
        if sidecar != file_sha256(path):
            return Seal(TAMPERED, "content differs from its recorded checksum (sidecar)")
        return Seal(LEGACY)
    if checksum != data_sha256(path, contents):
        return Seal(TAMPERED, "content differs from the checksum in its footer")
    expected = parquet_identity(path)
    found = {key: recorded.get(key) for key in expected}
    if found != expected:
        written_for = f"{found[ASSET_KEY]}/{found[PARTITION_KEY] or '(unpartitioned)'}"
        return Seal(MISPLACED, f"holds the data written for {written_for}, not for this place")
    return Seal(SEALED)


def data_sha256(path: Path, contents: bytes | None = None) -> str:
    """SHA-256 of a Parquet file's bytes before its footer (as the sealed writer hashed them).

    From ``contents`` (the file's bytes) when given, else read from ``path`` in chunks.
    """
    if contents is not None:
        footer_start = len(contents) - FOOTER_TAIL_BYTES
        footer_length = int.from_bytes(contents[footer_start : footer_start + 4], "little")
        return hashlib.sha256(memoryview(contents)[: footer_start - footer_length]).hexdigest()
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
