"""Iterating in a background thread, a bounded number of items ahead of the consumer.

A hydration run stores symbols a batch at a time and records each stored symbol in Dagster's
event log (a database write per symbol). :func:`read_ahead` lets the next batch be fetched,
validated and written while the last one is recorded: the database's round trips and the
Parquet writers' native code leave the interpreter free for each other.
"""

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar, cast

T = TypeVar("T")

POLL_SECONDS = 0.1
"""How often a producer waiting for room checks whether the consumer has stopped."""


def read_ahead(items: Iterable[T], depth: int = 1) -> Generator[T, None, None]:
    """Yield ``items``, produced in a background thread at most ``depth`` items ahead.

    An error raised while producing is raised here, after the items produced before it. When
    the consumer stops early (an error, ``close()``), the producer stops at its next item and
    the generator it runs is closed; this waits for it.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    ready: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def offer(last: bool, value: object) -> bool:
        while not stopped.is_set():
            try:
                ready.put((last, value), timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not offer(False, item):
                    return
            offer(True, None)
        except BaseException as error:  # raised again in the consumer's thread
            offer(True, error)
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()

    producer = threading.Thread(target=produce, name="read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            last, value = ready.get()
            if last:
                if isinstance(value, BaseException):
                    raise value
                return
            yield cast(T, value)
    finally:
        stopped.set()
        producer.join()
