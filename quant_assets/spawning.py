"""Spawned worker processes that neither outlive their parent nor re-run its script.

The tournament's local pool (:mod:`quant_assets.tournament.local_pool`) and hydration's worker
(:mod:`quant_assets.hydration.worker`) spawn Python processes: :func:`main_script_hidden` while
they start, :func:`exit_with_parent` first thing in each.
"""

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator

PARENT_CHECK_SECONDS = 1.0
"""How often a worker checks that the process that started it is still alive."""


def exit_with_parent(parent: int) -> None:
    """End this process as soon as its parent is gone (killed), instead of living on orphaned.

    ``parent`` is the pid the parent passed down, so a parent killed while the worker was still
    starting is noticed too (the worker's ``getppid()`` is then already another process).
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextlib.contextmanager
def main_script_hidden() -> Iterator[None]:
    """Keep spawned workers from re-running the caller's ``__main__`` script.

    ``multiprocessing`` tells a spawned child to run the parent's main module again when that
    module has a ``__file__`` and no ``__spec__`` (a plain ``python script.py``). Our workers
    need nothing from it, so it is hidden while they start.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path
