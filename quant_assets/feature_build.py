"""The feature build: chunks of symbols computed in this process, or as Ray tasks on a cluster.

The ``executor`` setting picks where (:func:`build_features`):

- ``serial`` and ``local``: in this process, one chunk after another
  (:func:`quant_assets.features.feature_chunks`); the numba kernels already use every core.
- ``ray``: each chunk of :data:`~quant_assets.features.FEATURE_CHUNK_SYMBOLS` symbols is a Ray
  task, on a local Ray (loopback only) or the cluster at ``ray_address``
  (:func:`~quant_assets.tournament.ray_backend.ray_connection`). The closes panel goes to Ray's
  object store once (``ray.put``); each task reads its chunk's columns, runs the same function
  as the serial build (:func:`~quant_assets.features.chunk_features`) with the settings given
  as JSON, and returns its rows as Arrow IPC bytes (no pickled objects). The caller receives
  the chunks in order, with at most :data:`IN_FLIGHT_PER_CPU` tasks per CPU outstanding, so a
  writer can store each one and let it go.

Both give the same frames, bit for bit (tested on a two-node Ray cluster).
"""

import json
import os
from collections import deque
from collections.abc import Iterator
from typing import Any

import numba
import numpy as np
import pandas as pd
import pyarrow as pa

from quant_assets.features import (
    FEATURE_CHUNK_SYMBOLS,
    chunk_features,
    chunk_starts,
    feature_chunks,
    sorted_symbols,
    with_signals,
)
from quant_assets.settings import Settings
from quant_assets.signals import signal_panels
from quant_assets.tournament.ray_backend import ray_connection

IN_FLIGHT_PER_CPU = 2
"""Ray feature tasks submitted ahead of the one being received, per CPU of the cluster."""


def build_features(
    closes: pd.DataFrame, settings: Settings, chunk_symbols: int = FEATURE_CHUNK_SYMBOLS
) -> Iterator[pd.DataFrame]:
    """The features of ``closes`` chunk by chunk, in order, where ``settings.executor`` says.

    Concatenated, the chunks equal :func:`quant_assets.features.compute_features`.
    """
    if settings.executor != "ray":
        yield from feature_chunks(closes, settings, chunk_symbols)
        return
    yield from _ray_chunks(closes, settings, chunk_symbols)


def _ray_chunks(
    closes: pd.DataFrame, settings: Settings, chunk_symbols: int
) -> Iterator[pd.DataFrame]:
    import ray

    ordered = sorted_symbols(closes)
    signals = signal_panels(ordered, settings)  # in this process: checked before any task
    symbols = [str(s) for s in ordered.columns]
    dates = ordered.index.to_numpy()
    values = np.ascontiguousarray(ordered.to_numpy(dtype=np.float64))
    workers = settings.workers or os.cpu_count() or 1
    with ray_connection(settings, workers):
        panel = ray.put(values)
        remote = ray.remote(_feature_task)
        snapshot = json.dumps(settings.snapshot())
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        starts = deque(chunk_starts(len(symbols), chunk_symbols))
        pending: deque[tuple[int, Any]] = deque()
        while starts or pending:
            while starts and len(pending) < IN_FLIGHT_PER_CPU * max(cpus, 1):
                start = starts.popleft()
                stop = start + chunk_symbols
                task = remote.remote(panel, dates, symbols[start:stop], start, snapshot)
                pending.append((start, task))
            start, task = pending.popleft()
            chunk = _from_arrow(ray.get(task))
            yield with_signals(chunk, values[:, start : start + chunk_symbols], signals, start)


def _feature_task(
    panel: np.ndarray, dates: np.ndarray, symbols: list[str], start: int, settings: str
) -> bytes:
    """One chunk's features as Arrow IPC bytes (what a Ray task runs)."""
    numba.set_num_threads(1)  # one Ray task per CPU already
    chosen = Settings.model_validate(json.loads(settings))
    frame = chunk_features(panel[:, start : start + len(symbols)], dates, symbols, chosen)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _from_arrow(payload: bytes) -> pd.DataFrame:
    frame: pd.DataFrame = pa.ipc.open_stream(payload).read_all().to_pandas()
    return frame
