"""On a terminal, progress lines become bars; other lines still print."""

import io
import logging

import pytest

from quant_sdk.console import ShortFormatter, platform_logging
from quant_sdk.progress_bars import ProgressBarHandler, progress_of


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("tournament: 3/8 tasks done", ("tournament", 3, 8)),
        ("hydrated 1,000/5,000 symbols from synthetic", ("hydrated", 1000, 5000)),
        ("production: stored features (4/15 assets)", ("production", 4, 15)),
        ("run 20261126-030702-8fff: canary profile, job production", None),
        ("tournament: 9/8 tasks done", None),
    ],
)
def test_progress_lines_are_recognised(message, expected):
    assert progress_of(message) == expected


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_bars_and_the_other_lines():
    screen = Terminal()
    handler = ProgressBarHandler(screen, ShortFormatter())
    log = logging.getLogger("quant_assets.test_progress_bars")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        for done in range(1, 5):
            log.info("tournament: %d/4 tasks done", done)
        log.info("run 20261126-030702-8fff: canary profile")
    finally:
        log.removeHandler(handler)
        handler.close()
    (task,) = handler.progress.tasks
    assert (task.description, task.completed, task.total) == ("tournament", 4, 4)
    text = screen.getvalue()
    assert "canary profile" in text and "4/4" in text
    assert "tasks done" not in text  # the progress line became the bar


def test_off_a_terminal_progress_stays_plain_lines():
    stream = io.StringIO()
    with platform_logging(stream=stream):
        logging.getLogger("quant_assets").info("tournament: 1/2 tasks done")
    assert stream.getvalue().endswith("tournament: 1/2 tasks done\n")
