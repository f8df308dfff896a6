"""File-descriptor level capture of a stage's output, and its progress display.

``os.dup2`` onto fds 1 and 2 catches everything: Python prints, C extensions, and
subprocesses that inherit the descriptors. Progress goes to the terminal saved before the
capture (only when it is a TTY), or to a pipe given by the orchestrator in
``HOLOPIPE_PROGRESS_FD``; logs and CI stay quiet.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["PROGRESS_FD_ENV", "Progress", "capture_output"]

PROGRESS_FD_ENV = "HOLOPIPE_PROGRESS_FD"


@contextlib.contextmanager
def capture_output(stdout_path: Path, stderr_path: Path) -> Iterator[int]:
    """Redirect fds 1 and 2 to the two files; yields a duplicate of the original stderr.

    ``sys.stdout``/``sys.stderr`` are pointed at fds 1 and 2 for the duration too: where the
    host replaced them (a notebook, pytest's capture), Python-level output and tracebacks
    would otherwise bypass the descriptors and miss the logs.
    """
    stdout_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    out = os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.stderr = open(
            2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1
        )  # noqa: SIM115
        yield saved_err
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for stream in (sys.stdout, sys.stderr):
            if stream not in saved_streams:
                with contextlib.suppress(Exception):
                    stream.close()
        sys.stdout, sys.stderr = saved_streams
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        for fd in (out, err, saved_out, saved_err):
            os.close(fd)


class Progress:
    """Reports ``done/total`` of a stage's systems without flooding logs.

    Parameters
    ----------
    label : str
        Shown before the counts, e.g. the stage key.
    terminal_fd : int, optional
        Where to draw a live line, used only if it is a TTY.
    """

    def __init__(self, label: str, terminal_fd: int | None = None):
        self.label = label
        pipe = os.environ.get(PROGRESS_FD_ENV)
        self._pipe_fd = int(pipe) if pipe else None
        on_terminal = terminal_fd is not None and os.isatty(terminal_fd)
        # CI consoles are often pseudo-terminals that keep every redraw: stay quiet there.
        self._tty_fd = terminal_fd if on_terminal and not os.environ.get("CI") else None
        self._last = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done != total and now - self._last < 0.1:
            return
        self._last = now
        with contextlib.suppress(OSError):
            if self._pipe_fd is not None:
                os.write(self._pipe_fd, f"{self.label} {done} {total}\n".encode())
            elif self._tty_fd is not None:
                end = "\n" if done == total else ""
                os.write(self._tty_fd, f"\r{self.label}: {done}/{total} systems{end}".encode())
