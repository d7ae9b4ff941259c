"""Progress bars on a terminal, from the platform's own progress log lines.

Long work logs lines such as ``tournament: 3/8 tasks done``, ``hydrated 50/1000 symbols from
synthetic`` or ``production: stored features (4/15 assets)``. On a terminal,
:class:`ProgressBarHandler` turns each such line into a rich progress bar (one bar per kind of
work, named by the text before the count) and prints every other line above the bars; off a
terminal the command line keeps plain log lines (:mod:`quant_sdk.console`).
"""

import logging
import re
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

PROGRESS_PATTERN = re.compile(r"(?P<done>\d[\d,]*)/(?P<total>\d[\d,]*)")
"""A ``done/total`` count in a log line makes it a progress update."""


def progress_of(message: str) -> tuple[str, int, int] | None:
    """``(label, done, total)`` of a progress line, or None for any other line."""
    found = PROGRESS_PATTERN.search(message)
    if found is None:
        return None
    done, total = (int(found[name].replace(",", "")) for name in ("done", "total"))
    if total <= 0 or done > total:
        return None
    head = message[: found.start()]
    label = head.split(":", 1)[0] if ":" in head else (head.split() or ["work"])[0]
    return label.strip() or "work", done, total


class ProgressBarHandler(logging.Handler):
    """Show progress lines as bars on ``stream`` (a terminal); print the others above them."""

    def __init__(self, stream: TextIO, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(file=stream, force_terminal=True),
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.progress.start()

    def emit(self, record: logging.LogRecord) -> None:
        """Advance a bar, or print the line."""
        try:
            update = progress_of(record.getMessage()) if record.levelno < logging.WARNING else None
            if update is None:
                self.progress.console.print(self.format(record), markup=False, highlight=False)
                return
            label, done, total = update
            if label not in self.tasks:
                self.tasks[label] = self.progress.add_task(label, total=total)
            self.progress.update(self.tasks[label], completed=done, total=total)
        except Exception:  # a log line must never break the work it reports
            self.handleError(record)

    def close(self) -> None:
        """Stop drawing the bars (they stay on screen as they ended)."""
        self.progress.stop()
        super().close()
