"""Progress of a Dagster run launched by the SDK, told by our own loggers in our own words.

:class:`RunProgress` listens to a run's events on the Dagster instance and logs, on the
``quant_sdk.progress`` logger: each asset as it is first stored (``production: stored features
(4/14 assets)``), each failed asset check as a warning, and, when Dagster's own console logger
is quieter than INFO (the command line sets it so), the messages our assets log through
``context.log`` (``market_data: hydrated 50/1000 symbols from synthetic``). Dagster's event
lines themselves are never repeated.
"""

import logging
import time

import dagster as dg

logger = logging.getLogger(__name__)

RELAYED_LEVELS = range(logging.INFO, logging.ERROR)
"""Levels of asset messages relayed: INFO and WARNING. ERROR lines are Dagster's own failure
reports (a step failure, its skipped dependants); the SDK raises one error for them instead."""


class RunProgress:
    """A listener for ``instance.add_event_listener(run_id, progress)`` on one run.

    Parameters
    ----------
    job_name : str
        Name of the job, the prefix of every line.
    total_assets : int
        Assets the job materializes (the denominator of the progress count).
    relay_messages : bool
        Also log the messages assets send to ``context.log`` (set when Dagster's console
        logger does not print them itself).
    """

    def __init__(self, job_name: str, total_assets: int, relay_messages: bool) -> None:
        self.job_name = job_name
        self.total_assets = total_assets
        self.relay_messages = relay_messages
        self.stored: list[str] = []
        self.failed_checks: list[str] = []
        self.started = time.monotonic()

    def __call__(self, entry: dg.EventLogEntry) -> None:
        """Log what ``entry`` means for the user, if anything."""
        event = entry.dagster_event
        if event is None:
            level = int(entry.level)  # Dagster stores the number
            if self.relay_messages and entry.step_key and level in RELAYED_LEVELS:
                logger.log(level, "%s: %s", entry.step_key, entry.user_message)
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self._stored(event)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self._checked(event)

    def elapsed(self) -> float:
        """Seconds since the listener was made (just before the run started)."""
        return time.monotonic() - self.started

    def _stored(self, event: dg.DagsterEvent) -> None:
        key = event.asset_key
        name = key.to_user_string() if key is not None else "?"
        if name in self.stored:  # one line per asset, not per partition
            return
        self.stored.append(name)
        if self.total_assets > 1:
            logger.info(
                "%s: stored %s (%d/%d assets)",
                self.job_name,
                name,
                len(self.stored),
                self.total_assets,
            )

    def _checked(self, event: dg.DagsterEvent) -> None:
        evaluation = event.asset_check_evaluation_data
        if evaluation.passed:
            return
        name = f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
        self.failed_checks.append(name)
        logger.warning(
            "%s: check %s failed (%s%s)",
            self.job_name,
            name,
            evaluation.severity.value,
            ", blocking" if evaluation.blocking else "",
        )
