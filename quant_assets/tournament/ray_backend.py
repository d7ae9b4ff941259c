"""The ``ray`` backend: tasks on a local Ray (loopback only) or an existing Ray cluster.

The prices go to Ray's object store once (``ray.put``) and tasks receive the reference. Without
``ray_address`` a local Ray starts on 127.0.0.1 only, with no dashboard and its temporary files
under ``<data folder>/ray``, and stops afterwards. A Ray already connected in this process
(dagster-ray's ``LocalRay``, or the caller's ``ray.init``) is used as it is and left running.
The feature build (:mod:`quant_assets.feature_build`) uses the same connection.
"""

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import numba
import numpy as np

from lakehouse.location import local_work_folder
from quant_assets.settings import Settings
from quant_assets.tournament.decision import Records
from quant_assets.tournament.tasks import Task, run_task_json

RAY_CONNECT_TIMEOUT_SECONDS = 30.0
"""How long a Ray cluster address may take to answer before the run fails (Ray itself retries
for minutes)."""


class RayUnreachableError(RuntimeError):
    """The configured Ray cluster does not answer."""


def check_ray_address(address: str, timeout: float = RAY_CONNECT_TIMEOUT_SECONDS) -> None:
    """Raise :class:`RayUnreachableError` unless ``address`` accepts a connection in time.

    ``address`` is what ``ray.init(address=...)`` takes: ``host:port`` (the GCS) or
    ``ray://host:port`` (Ray Client); ``auto`` and ``local`` are left to Ray.
    """
    if address in {"auto", "local"}:
        return
    parts = urlsplit(address if "://" in address else f"//{address}")
    if parts.hostname is None or parts.port is None:
        raise RayUnreachableError(
            f"ray_address {address!r} is not host:port or ray://host:port; fix the setting"
        )
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=timeout).close()
    except OSError as error:
        raise RayUnreachableError(
            f"the Ray cluster at ray_address={address!r} does not answer within {timeout:.0f} s "
            f"({error}); start it, or check the address (the head's `ray start` prints it), or "
            "unset ray_address to run on a local Ray"
        ) from None


def ray_init_options(settings: Settings, workers: int | None = None) -> dict[str, Any]:
    """Arguments of ``ray.init`` for a local Ray: loopback only, no dashboard, temp in data.

    ``workers`` defaults to ``settings.workers``, then to every core.
    """
    temp = local_work_folder(settings.data_root) / "ray"
    return {
        "num_cpus": workers or settings.workers or os.cpu_count() or 1,
        "include_dashboard": False,
        "_temp_dir": str(temp),
        "_node_ip_address": "127.0.0.1",
        "log_to_driver": False,
        "configure_logging": False,
    }


def prepare_local_ray(settings: Settings) -> None:
    """Keep a local Ray on loopback and its temp files in the data folder (before ``ray.init``).

    Ray binds the machine's network address unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``
    when it is imported; the setting is also applied here in case Ray was imported earlier.
    Used by :func:`start_local_ray` and before dagster-ray's ``LocalRay`` resource connects.
    """
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False
    (local_work_folder(settings.data_root) / "ray").mkdir(parents=True, exist_ok=True)


def start_local_ray(settings: Settings, workers: int) -> None:
    """Start a local Ray on 127.0.0.1 only, with no dashboard and temp files in the data folder."""
    import ray

    prepare_local_ray(settings)
    ray.init(**ray_init_options(settings, workers))


@contextlib.contextmanager
def ray_connection(settings: Settings, workers: int) -> Iterator[None]:
    """Ray connected for the block: the running one, the cluster at ``ray_address``, or local.

    What this starts (a connection to ``ray_address``, or a local Ray) it stops on exit.
    """
    import ray

    started = not ray.is_initialized()
    if started and settings.ray_address:
        check_ray_address(settings.ray_address)
        ray.init(address=settings.ray_address, log_to_driver=False)
    elif started:
        start_local_ray(settings, workers)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def _ray_task(panel: np.ndarray, dates: list[str], symbols: list[str], task: str) -> str:
    numba.set_num_threads(1)  # one Ray task per CPU already
    return run_task_json(panel, dates, symbols, task)


def run_ray(
    panel: np.ndarray,
    dates: list[str],
    symbols: list[str],
    tasks: list[Task],
    settings: Settings,
    workers: int,
) -> Iterator[Records]:
    """Run ``tasks`` as Ray tasks; yield results in task order."""
    import ray

    with ray_connection(settings, workers):
        panel_ref = ray.put(panel)
        remote = ray.remote(_ray_task)
        refs = [remote.remote(panel_ref, dates, symbols, task.to_json()) for task in tasks]
        for ref in refs:
            yield json.loads(ray.get(ref))
