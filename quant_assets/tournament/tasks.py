"""Tournament tasks: batches of windows as JSON text, and the function every backend runs.

A task is the window rows and the profile's settings snapshot; the worker validates the
snapshot into :class:`~quant_assets.settings.Settings` and passes it down explicitly (workers
never read the caller's environment or context). Results are JSON text too: JSON keeps floats
exact (``repr`` round trip), so every backend returns the same numbers, and nothing is pickled
by our code on the way.
"""

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from quant_assets.allocation.portfolio import AllocationKeys
from quant_assets.plugins import PluginError
from quant_assets.settings import Settings
from quant_assets.sweep import WINDOW_FIELDS, stage_key
from quant_assets.tournament.decision import Records, decide_window, no_records


@dataclass(frozen=True)
class Task:
    """One batch of windows, for the profiles that share them (every point of a sweep).

    ``settings`` maps each profile to its settings snapshot; each window row carries
    ``choices``: each profile's ``eligible`` and ``selected`` symbols.
    """

    settings: dict[str, dict[str, Any]]
    windows: list[dict[str, Any]]

    def to_json(self) -> str:
        """The task as JSON text: all that crosses a process boundary (no pickled objects)."""
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> "Task":
        """Rebuild a task from :meth:`to_json`."""
        return cls(**json.loads(text))


WINDOW_KEYS = ("window", "train_start", "train_end", "test_start", "test_end")
"""What a task's window row keeps of the windows table (besides ``choices``)."""


def make_tasks(windows: pd.DataFrame, profiles: Mapping[str, Settings], batches: int) -> list[Task]:
    """Split the windows into about ``batches`` tasks in all, in window order.

    Profiles with the same windows (:data:`~quant_assets.sweep.WINDOW_FIELDS`) share tasks, so
    a window's training data is sliced, and what its profiles compute alike is computed, once.
    ``windows`` holds one row per profile and window, with ``eligible`` and ``selected``.
    """
    groups: dict[str, list[str]] = {}
    for profile, settings in profiles.items():
        groups.setdefault(stage_key(settings, WINDOW_FIELDS), []).append(profile)
    tasks = []
    per_group = max(1, batches // max(len(groups), 1))
    for members in groups.values():
        mine = windows[windows["profile"].isin(members)]
        rows: dict[int, dict[str, Any]] = {}
        for record in mine.to_dict(orient="records"):
            row = rows.setdefault(
                int(record["window"]), {**{k: record[k] for k in WINDOW_KEYS}, "choices": {}}
            )
            row["choices"][record["profile"]] = {
                "eligible": list(record["eligible"]),
                "selected": list(record["selected"]),
            }
        ordered = [rows[number] for number in sorted(rows)]
        size = max(1, -(-len(ordered) // per_group))
        snapshots = {profile: profiles[profile].snapshot() for profile in members}
        tasks += [Task(snapshots, ordered[i : i + size]) for i in range(0, len(ordered), size)]
    return tasks


def merged(parts: Iterable[Records]) -> Records:
    """Concatenate record tables, in order."""
    result = no_records()
    for records in parts:
        for name, rows in records.items():
            result[name] += rows
    return result


def run_task(panel: np.ndarray, dates: list[str], symbols: list[str], task: Task) -> Records:
    """Run one task on a prices panel given as plain arrays (the unit every backend runs)."""
    prices = pd.DataFrame(panel, index=pd.DatetimeIndex(dates, name="date"), columns=symbols)
    profiles = {name: task_settings(name, snapshot) for name, snapshot in task.settings.items()}
    keys = {name: AllocationKeys.of(settings) for name, settings in profiles.items()}
    return merged(decide_window(prices, w, profiles, keys) for w in task.windows)


def task_settings(profile: str, snapshot: dict[str, Any]) -> Settings:
    """A task's settings, validated where the task runs; its plug-ins are imported here by path.

    Raises
    ------
    PluginError
        When a plug-in of the settings cannot be imported where the task runs (one line, naming
        it): every worker needs the packages the run's plug-ins come from.
    """
    try:
        return Settings.model_validate(snapshot)
    except ValidationError as error:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise PluginError(
            f"profile {profile!r}: a worker (pid {os.getpid()}) cannot use its settings: {problems}"
        ) from None


def run_task_json(panel: np.ndarray, dates: list[str], symbols: list[str], task: str) -> str:
    """:func:`run_task` with JSON text in and out, as pool workers and Ray tasks run it."""
    return json.dumps(run_task(panel, dates, symbols, Task.from_json(task)))
