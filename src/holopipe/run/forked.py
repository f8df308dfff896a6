"""What a process holopipe forks does on its way in and out.

A stage process, a worker of :func:`~holopipe.run.fork_pool.fork_map` and the report's
worker (:mod:`holopipe.report.worker`) are forked from a running interpreter and end with
``os._exit`` (no ``atexit`` hooks, no inherited buffers written twice): they die with the
process that forked them, and flush their own standard streams before they exit.

Examples
--------
>>> import os
>>> pid = os.fork()
>>> if pid == 0:
...     die_with_parent()
...     exit_flushed(3)
>>> os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
3
"""

from __future__ import annotations

import os
import signal
import sys
from typing import NoReturn

__all__ = ["die_with_parent", "exit_flushed"]


def die_with_parent() -> None:
    """Be killed when the parent dies (Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``;
    elsewhere nothing): a forked process must not outlive a SIGKILLed parent, holding
    files open and racing the next run."""
    import ctypes  # here: a command that forks nothing never imports it

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def exit_flushed(code: int) -> NoReturn:
    """Flush what this process buffered on stdout and stderr, then ``os._exit(code)``."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - a closed stream must not stop the exit
            pass
    os._exit(code)
