"""One writer per experiment: an advisory lock on ``runs/<experiment>/.lock``.

The lock is an ``flock`` held for the life of the process, so the kernel releases it when
the holder dies (even by SIGKILL): a stale lock can always be taken over. Who holds it is
written to ``.lock.holder`` by an atomic rename, for the refusal message: a reader sees
the previous holder's record or the new one, never an empty file. Whoever takes the lock
of a run first removes what an interrupted command left in it
(:meth:`~holopipe.run.layout.RunLayout.remove_leftovers`), and removes the run's trash in
the background while it holds the lock (:class:`~holopipe.run.trash.TrashCollector`),
waiting for it before it lets the lock go.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path

from holopipe.artifacts.io import atomic_write_bytes
from holopipe.run.layout import RunLayout
from holopipe.run.trash import TrashCollector

__all__ = ["ExperimentLock", "LockHeldError"]

# How long a refused process waits for the holder to name itself (it writes its record
# just after taking the lock).
_HOLDER_WAIT_S = 1.0


class LockHeldError(RuntimeError):
    """Another live process holds the experiment's lock."""


class ExperimentLock:
    """Context manager taking the experiment lock without waiting.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / ".lock"
    >>> with ExperimentLock(path, "demo") as lock:
    ...     json.loads(lock.holder_path.read_text())["pid"] == os.getpid()
    True
    """

    def __init__(self, path: Path, experiment: str, layout: RunLayout | None = None):
        self.path = Path(path)
        self.experiment = experiment
        self.layout = layout
        #: What :meth:`~holopipe.run.layout.RunLayout.remove_leftovers` repaired on taking it.
        self.repairs: list[str] = []
        #: Removes the run's trash while the lock is held (a run's lock only).
        self.trash: TrashCollector | None = None
        self._fd: int | None = None

    @classmethod
    def of_run(cls, layout: RunLayout) -> ExperimentLock:
        """The lock of a run; taking it also removes an interrupted command's leftovers."""
        return cls(layout.lock_path, layout.experiment, layout)

    @property
    def holder_path(self) -> Path:
        return self.path.with_name(self.path.name + ".holder")

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = _read_holder(self.holder_path)
            raise LockHeldError(
                f"experiment {self.experiment!r} is locked by pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')} ({holder.get('command', '?')}); wait for it to finish"
            ) from None
        self._fd = fd
        try:
            record = {
                "pid": os.getpid(),
                "host": _host(),
                "command": " ".join(sys.argv),
            }
            # Not durable: after a crash the kernel has released the lock and the record names
            # a dead process (two fsyncs less on every command).
            atomic_write_bytes(self.holder_path, json.dumps(record).encode(), durable=False)
            if self.layout is not None:
                self.repairs = self.layout.remove_leftovers()
                self.trash = TrashCollector(self.layout.root)
                self.trash.collect()
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self._fd is not None:
            try:
                if self.trash is not None:
                    self.trash.wait()
            finally:
                with contextlib.suppress(OSError):
                    self.holder_path.unlink()
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


def _host() -> str:
    """This machine's host name, the value of ``socket.gethostname()`` on POSIX (without
    importing ``socket``, which a no-op rerun would import for this name alone)."""
    return os.uname().nodename


def _alive(holder: dict) -> bool:
    """Whether the recorded holder may still hold the lock (another host: assume so)."""
    if holder.get("host") != _host():
        return bool(holder)
    try:
        os.kill(int(holder.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, TypeError, OverflowError):
        return True
    return True


def _read_holder(path: Path) -> dict:
    """The holder's record; a missing or stale one (the new holder has not written its
    own yet) is read again for a moment."""
    deadline = time.monotonic() + _HOLDER_WAIT_S
    while True:
        try:
            holder = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            holder = {}
        if not isinstance(holder, dict):
            holder = {}
        if _alive(holder) or time.monotonic() > deadline:
            return holder
        time.sleep(0.01)
