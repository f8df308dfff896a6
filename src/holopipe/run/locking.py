"""One writer per experiment: an advisory lock on ``runs/<experiment>/.lock``.

The lock is an ``flock`` held for the life of the process, so the kernel releases it when
the holder dies (even by SIGKILL): a stale lock can always be taken over. The file also
records who holds it, for the refusal message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from pathlib import Path

__all__ = ["ExperimentLock", "LockHeldError"]


class LockHeldError(RuntimeError):
    """Another live process holds the experiment's lock."""


class ExperimentLock:
    """Context manager taking the experiment lock without waiting.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / ".lock"
    >>> with ExperimentLock(path, "demo"):
    ...     pass
    """

    def __init__(self, path: Path, experiment: str):
        self.path = Path(path)
        self.experiment = experiment
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockHeldError(
                f"experiment {self.experiment!r} is locked by pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')} ({holder.get('command', '?')}); wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv)}
        os.write(fd, json.dumps(record).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def fd(self) -> int | None:
        """The open lock descriptor (a forked child closes its copy)."""
        return self._fd

    def __enter__(self) -> ExperimentLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return json.loads(os.read(fd, 4096).decode() or "{}")
    except (OSError, ValueError):
        return {}
