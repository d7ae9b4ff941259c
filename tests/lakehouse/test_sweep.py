import os
import time
from pathlib import Path

import pandas as pd
import pytest

import lakehouse.commits
from lakehouse import LakehouseStore
from lakehouse.sweep import is_temp_file_name, sweep_scratch, sweep_stale_temp_files

NOW = time.time()
"""Ages are set back from the real time: a folder made by the test is new."""
HOUR = 3600.0
RUN_ID = "20260101-000000-aaaa"


def _age(path: Path, seconds: float) -> Path:
    os.utime(path, (NOW - seconds, NOW - seconds))
    return path


def _touch(path: Path, seconds_old: float, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return _age(path, seconds_old)


def test_atomic_writes_name_their_temp_files_as_the_sweeper_expects(tmp_path, monkeypatch):
    published: list[tuple[str, str]] = []
    real_replace = os.replace

    def recording_replace(source: str, destination: str) -> None:
        published.append((str(source), str(destination)))
        real_replace(source, destination)

    monkeypatch.setattr(lakehouse.commits.os, "replace", recording_replace)
    store = LakehouseStore(tmp_path)
    store.write_frame(pd.DataFrame({"x": [1]}), store.run_dir("features", RUN_ID))
    store.write_document({"a": 1}, store.run_dir("run_manifest", RUN_ID))
    assert len(published) == 3  # a Parquet file (checksum inside), a sidecar, then its document
    for temp, final in published:
        assert is_temp_file_name(Path(temp).name)
        assert not is_temp_file_name(Path(final).name)


def test_only_old_temp_files_are_swept(tmp_path: Path):
    store = LakehouseStore(tmp_path)
    folder = store.run_dir("features", RUN_ID)
    store.write_frame(pd.DataFrame({"x": [1]}), folder)
    published = _age(folder / "part-0.parquet", 10 * HOUR)
    document = store.write_document({"a": 1}, store.symbol_dir("AAPL"))
    _age(document, 10 * HOUR)
    old_part = _touch(folder / ".part-0.parquet.k2j3h4.tmp", 2 * HOUR)
    old_document = _touch(document.parent / ".document.json.x9y8.tmp", 2 * HOUR)
    fresh = _touch(folder / ".part-0.parquet.zz11.tmp", 60.0)
    hidden_other = _touch(folder / ".keep", 10 * HOUR)
    visible_tmp = _touch(folder / "notes.tmp", 10 * HOUR)
    removed = sweep_stale_temp_files(tmp_path, older_than_seconds=HOUR, now=NOW)
    assert removed == sorted([old_part, old_document])
    assert not old_part.exists() and not old_document.exists()
    for kept in (published, document, fresh, hidden_other, visible_tmp):
        assert kept.exists()
    assert store.read_frame(folder)["x"].tolist() == [1]
    assert sweep_stale_temp_files(tmp_path / "absent", now=NOW) == []


def test_scratch_folders_are_swept_by_their_newest_file(tmp_path: Path):
    scratch = tmp_path / "tmp"
    old = scratch / "tournament-0a1b2c3d"
    _touch(old / "prices.parquet", 30 * HOUR)
    _age(old, 30 * HOUR)
    busy = scratch / "tournament-55667788"
    _touch(busy / "prices.parquet", 60.0)
    _age(busy, 30 * HOUR)
    recent = scratch / "tournament-99aabbcc"
    recent.mkdir()
    other = _touch(scratch / "notes-old" / "a.txt", 30 * HOUR)
    target = tmp_path / "elsewhere"
    _touch(target / "precious.parquet", 30 * HOUR)
    link = scratch / "tournament-link"
    link.symlink_to(target)
    removed = sweep_scratch(scratch, "tournament-*", older_than_seconds=24 * HOUR, now=NOW)
    assert removed == [old]
    assert not old.exists()
    assert busy.exists() and recent.exists() and other.exists() and link.exists()
    assert (target / "precious.parquet").exists()
    assert sweep_scratch(tmp_path / "absent", "tournament-*", HOUR, now=NOW) == []


@pytest.mark.parametrize("pattern", ["", "*/prices.parquet", "../*"])
def test_scratch_pattern_names_direct_entries_only(tmp_path: Path, pattern: str):
    with pytest.raises(ValueError, match="directly in"):
        sweep_scratch(tmp_path, pattern, HOUR)
