"""Commits: how a file becomes visible in the lakehouse, whole or not at all, and never lost.

**One commit publishes one whole file.** :func:`publish` writes the file under a temporary
name, lets an audit look at it, then makes it visible in one step: :func:`os.replace` on a
local folder, one ``PUT`` of the whole object on S3 (an object appears when its upload
completes, never half-written; a writer killed before that leaves nothing). A Parquet file
carries its checksum in its footer (:mod:`lakehouse.sealing`), so data and checksum are one
commit.

**Optimistic concurrency.** A writer that read a file before rewriting it (hydration merges new
bars into a stored symbol) passes the :func:`stored_version` it read as ``expected``; the commit
succeeds only if the file is still that version, else it raises :class:`CommitConflict` and the
writer re-reads, merges again and retries. So two writers of one symbol (a manual hydration
racing ``auto_sync``) both keep their dates: the last one merged the first one's. On S3 the
check is the store's own (``If-Match`` on the object's ETag, ``If-None-Match: *`` for a new
object); on a local folder the check and the replace run under an exclusive lock of the
partition (``fcntl.flock`` on a hidden lock file beside its folder, :data:`COMMIT_LOCK_SUFFIX`,
so the folder holds only data and disappears when its data goes), and a version is the file's
inode and modification time (every replace makes a new inode).
"""

import contextlib
import errno
import fcntl
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fsspec.asyn import sync

from lakehouse.location import is_remote, object_key

TEMP_FILE_PREFIX = "."
TEMP_FILE_SUFFIX = ".tmp"
"""An atomic write's temporary file is ``.<final name>.<random>.tmp`` beside its destination."""
COMMIT_LOCK_SUFFIX = ".commit.lock"
"""``.<partition folder>.commit.lock`` beside a partition's folder: held (``flock``) while a
conditional commit checks and replaces a file of that folder."""
UNCONDITIONAL = "unconditional"
"""``expected`` of a commit that replaces whatever is there (a run's own asset, a document)."""
ABSENT: str | None = None
"""``expected`` (and :func:`stored_version`) of a file that does not exist yet."""
Audit = Callable[[Path], None]
"""Called with a written, not yet published file; raises to keep it from being published."""
NO_WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EIO}
)
"""Errors of the platform's own storage (full, read-only, not permitted, failing disk)."""
ETAG = "ETag"
PRECONDITION_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
"""S3's refusals of a conditional write: the object changed (412), or a concurrent conditional
write of it is in flight (409): both mean another writer committed first."""


class CommitConflict(RuntimeError):
    """Another writer committed the file since it was read: re-read, merge and retry."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} changed since it was read (another writer committed it)")
        self.path = path


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


def stored_version(path: Path) -> str | None:
    """The version of the file at ``path`` now (:data:`ABSENT` if there is none).

    Take it BEFORE reading the file: a commit expecting it then fails if anyone committed in
    between, even between this call and the read.
    """
    if is_remote(path):
        try:
            info = path.fs.info(object_key(path))  # type: ignore[attr-defined]
        except FileNotFoundError:
            return ABSENT
        return str(info[ETAG])
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return ABSENT
    return f"{status.st_ino}-{status.st_mtime_ns}-{status.st_size}"


def read_with_version(path: Path) -> tuple[str | None, bytes | None]:
    """The version of the file at ``path`` and its bytes, read together.

    ``(ABSENT, None)`` if there is none. On object storage both come from one ``GET`` (the
    ETag of the object whose bytes it returned); on a local folder the version is taken before
    the read, so a commit in between makes the version older than the bytes, never newer: a
    commit expecting it fails and the writer reads again.
    """
    if is_remote(path):
        bucket, key = object_key(path).split("/", 1)
        filesystem = path.fs  # type: ignore[attr-defined]
        try:
            return sync(filesystem.loop, _get_object, filesystem, bucket, key)  # type: ignore[no-any-return]
        except FileNotFoundError:
            return ABSENT, None
    version = stored_version(path)
    if version is ABSENT:
        return ABSENT, None
    try:
        return version, path.read_bytes()
    except FileNotFoundError:
        return ABSENT, None


async def _get_object(filesystem: Any, bucket: str, key: str) -> tuple[str, bytes]:
    response = await filesystem._call_s3("get_object", Bucket=bucket, Key=key)
    body = response["Body"]
    try:
        contents: bytes = await body.read()
    finally:
        body.close()
    return str(response[ETAG]), contents


def publish(
    path: Path,
    write: Callable[[str], object],
    private: bool = True,
    audit: Audit | None = None,
    expected: str | None = UNCONDITIONAL,
) -> None:
    """The one commit: ``write(temporary_path)``, ``audit(temporary_path)``, then publish.

    A local temporary file is ``.<name>.<random>.tmp`` in ``path``'s folder (created if
    missing), so the replace never crosses a file system; a remote file is staged in the
    system's temporary folder and uploaded in one ``PUT``. The temporary file is removed if
    anything raises. A ``private`` temporary file is created owner-only; otherwise it gets the
    permissions the umask allows. If ``audit`` raises, nothing is published and the previous
    file at ``path`` is untouched (the audit may move the temporary file aside first).
    ``expected`` other than :data:`UNCONDITIONAL` makes the commit conditional (see the module
    docstring).

    Raises
    ------
    CommitConflict
        ``path`` is no longer the ``expected`` version.
    """
    if is_remote(path):
        _publish_object(path, write, audit, expected)
        return
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
        if expected == UNCONDITIONAL:
            os.replace(temporary, path)
        else:
            with _folder_lock(path.parent):
                if stored_version(path) != expected:
                    raise CommitConflict(path)
                os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _publish_object(
    path: Path, write: Callable[[str], object], audit: Audit | None, expected: str | None
) -> None:
    descriptor, staged = tempfile.mkstemp(prefix=TEMP_FILE_PREFIX, suffix=TEMP_FILE_SUFFIX)
    os.close(descriptor)
    temporary = Path(staged)
    try:
        write(staged)
        if audit is not None:
            audit(temporary)
        conditions: dict[str, str] = {}
        if expected is ABSENT:
            conditions = {"mode": "create"}
        elif expected is not None and expected != UNCONDITIONAL:
            conditions = {"IfMatch": expected}
        try:
            path.fs.pipe_file(object_key(path), temporary.read_bytes(), **conditions)  # type: ignore[attr-defined]
        except OSError as error:
            if _precondition_failed(error):
                raise CommitConflict(path) from error
            raise
    finally:
        temporary.unlink(missing_ok=True)


def _precondition_failed(error: BaseException | None) -> bool:
    """Whether S3 refused a conditional write (s3fs turns the refusal into an ``OSError``)."""
    while error is not None:
        if isinstance(error, FileExistsError):  # s3fs: If-None-Match refused
            return True
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        if code in PRECONDITION_CODES:
            return True
        error = error.__cause__ or error.__context__
    return False


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    with open(folder.parent / f"{TEMP_FILE_PREFIX}{folder.name}{COMMIT_LOCK_SUFFIX}", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def naming_the_file(path: Path) -> Iterator[None]:
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
    target = Path(path) if isinstance(path, str) else path
    publish(target, lambda temporary: write_text(temporary, text, encoding), private=False)
    return target


def write_text(path: str, text: str, encoding: str) -> None:
    """Write ``text`` to the file ``path`` (no atomicity: the caller's temporary file)."""
    with open(path, "w", encoding=encoding) as stream:
        stream.write(text)


def move_aside(staged: Path, destination: Path) -> None:
    """Move the local file ``staged`` to ``destination`` (a local or remote path), replacing it.

    For files kept for inspection (a frame that broke its contract): the move is one rename
    on a local folder, one upload then a delete of ``staged`` on object storage.
    """
    if is_remote(destination):
        destination.fs.put_file(str(staged), object_key(destination))  # type: ignore[attr-defined]
        staged.unlink()
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, destination)
