"""read_ahead: items in order from another thread, errors after the items before, early stops."""

import threading
import time
from collections.abc import Iterator

import pytest

from quant_assets.hydration.read_ahead import read_ahead


def test_items_arrive_in_order_produced_in_another_thread() -> None:
    producers: set[str] = set()

    def numbers() -> Iterator[int]:
        for number in range(50):
            producers.add(threading.current_thread().name)
            yield number

    assert list(read_ahead(numbers(), depth=3)) == list(range(50))
    assert producers == {"read-ahead"}


def test_the_producer_runs_at_most_depth_items_ahead() -> None:
    produced: list[int] = []

    def numbers() -> Iterator[int]:
        for number in range(10):
            produced.append(number)
            yield number

    items = read_ahead(numbers(), depth=2)
    assert next(items) == 0
    time.sleep(0.3)  # time enough to run ahead if nothing held it back
    # 1 and 2 wait in the queue, 3 is made and waits for room; 4 is not made yet
    assert produced == [0, 1, 2, 3]
    assert list(items) == list(range(1, 10))


def test_an_error_comes_after_the_items_produced_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("source down")

    received = []
    with pytest.raises(ConnectionError, match="source down"):
        for item in read_ahead(failing()):
            received.append(item)
    assert received == [1, 2]


def test_a_consumer_that_stops_early_stops_and_closes_the_producer() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def endless() -> Iterator[int]:
        try:
            number = 0
            while True:
                produced.append(number)
                yield number
                number += 1
        finally:
            closed.set()

    items = read_ahead(endless(), depth=1)
    with pytest.raises(RuntimeError, match="recording failed"):
        for item in items:
            if item == 3:
                raise RuntimeError("recording failed")
    items.close()
    assert closed.is_set()
    assert len(produced) <= 6  # stopped within a couple of items, not run to exhaustion
    assert not any(t.name == "read-ahead" for t in threading.enumerate())


def test_depth_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(read_ahead(iter([1]), depth=0))
