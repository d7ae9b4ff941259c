"""The local pool's workers: they never outlive a killed parent."""

import subprocess
import sys
import textwrap
import time

import psutil

PARENT = textwrap.dedent(
    """
    import multiprocessing, os, signal, sys, time
    from quant_assets.spawning import exit_with_parent

    def worker(parent):
        exit_with_parent(parent)  # what every pool worker runs at start
        time.sleep(120)

    if __name__ == "__main__":
        context = multiprocessing.get_context("spawn")
        child = context.Process(target=worker, args=(os.getpid(),))
        child.start()
        print(child.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # the parent dies without cleaning up
    """
)


def test_a_worker_exits_when_its_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())  # (the worker keeps the pipe open: read one line)
    assert parent.wait(timeout=60) == -9
    deadline = time.monotonic() + 10
    while psutil.pid_exists(worker) and time.monotonic() < deadline:
        if psutil.Process(worker).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.2)
    alive = psutil.pid_exists(worker) and psutil.Process(worker).status() != psutil.STATUS_ZOMBIE
    assert not alive
