"""Tournament tasks: batches of windows as JSON text, and the function every backend runs.

A task is the window rows and the profile's settings snapshot; the worker validates the
snapshot into :class:`~quant_assets.settings.Settings` and passes it down explicitly (workers
never read the caller's environment or context). Results are JSON text too: JSON keeps floats
exact (``repr`` round trip), so every backend returns the same numbers, and nothing is pickled
by our code on the way.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from quant_assets.settings import Settings
from quant_assets.tournament.decision import Records, decide_window, no_records


@dataclass(frozen=True)
class Task:
    """One batch of windows of one profile."""

    profile: str
    settings: dict[str, Any]
    windows: list[dict[str, Any]]

    def to_json(self) -> str:
        """The task as JSON text: all that crosses a process boundary (no pickled objects)."""
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> "Task":
        """Rebuild a task from :meth:`to_json`."""
        return cls(**json.loads(text))


def make_tasks(windows: pd.DataFrame, profiles: Mapping[str, Settings], batches: int) -> list[Task]:
    """Split every profile's windows into about ``batches`` tasks in all, in window order."""
    tasks = []
    per_profile = max(1, batches // max(len(profiles), 1))
    for profile, settings in profiles.items():
        rows = windows[windows["profile"] == profile].to_dict(orient="records")
        size = max(1, -(-len(rows) // per_profile))
        snapshot = settings.snapshot()
        tasks += [Task(profile, snapshot, rows[i : i + size]) for i in range(0, len(rows), size)]
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
    settings = Settings.model_validate(task.settings)
    return merged(decide_window(prices, w, settings, task.profile) for w in task.windows)


def run_task_json(panel: np.ndarray, dates: list[str], symbols: list[str], task: str) -> str:
    """:func:`run_task` with JSON text in and out, as pool workers and Ray tasks run it."""
    return json.dumps(run_task(panel, dates, symbols, Task.from_json(task)))
