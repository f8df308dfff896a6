"""What a process holopipe forks does on its way in and out.

A stage process, a worker of :func:`~holopipe.run.fork_pool.fork_map` and the report's
worker (:mod:`holopipe.report.worker`) are forked from a running interpreter and end with
``os._exit`` (no ``atexit`` hooks, no inherited buffers written twice): they die with the
process that forked them, and flush their own standard streams before they exit. The
quiet helpers of a command (the folder scanners, the trash removers) are forked by
:func:`fork_helper`. What such a process and its parent tell each other through a pipe
travels as frames (:func:`send_frame`, :func:`read_frame`): the length, then the bytes.

Examples
--------
>>> import os
>>> pid = os.fork()
>>> if pid == 0:
...     die_with_parent()
...     exit_flushed(3)
>>> os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
3
>>> read_end, write_end = os.pipe()
>>> send_frame(write_end, b"hand-over")
>>> read_frame(read_end)
b'hand-over'
>>> os.close(write_end)
>>> read_frame(read_end) is None
True
>>> os.close(read_end)
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn

__all__ = [
    "die_with_parent",
    "exit_flushed",
    "fork_helper",
    "read_frame",
    "send_frame",
    "write_all",
]

_LENGTH_BYTES = 8
_READ_CHUNK = 1 << 20


def die_with_parent() -> None:
    """Be killed when the parent dies (Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``;
    elsewhere nothing): a forked process must not outlive a SIGKILLed parent, holding
    files open and racing the next run."""
    import ctypes  # here: a command that forks nothing never imports it

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def fork_helper(work: Callable[[], object], what: str) -> int:
    """Fork a process that runs ``work`` and ends, and return its pid: exit 0, or 1 after
    ``holopipe: <what> failed: <the exception>`` on stderr. It ignores Ctrl-C (the command
    that forked it handles it and reaps it), never traverses what it inherited
    (``gc.freeze``: nor copies the pages of it), and never returns into the caller's code.

    Examples
    --------
    >>> pid = fork_helper(lambda: None, "nothing")
    >>> os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    0
    """
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            gc.freeze()
            work()
            code = 0
        except BaseException as exc:  # noqa: BLE001 - the parent sees exit 1
            os.write(2, f"holopipe: {what} failed: {exc!r}\n".encode())
        finally:
            os._exit(code)
    return pid


def exit_flushed(code: int) -> NoReturn:
    """Flush what this process buffered on stdout and stderr, then ``os._exit(code)``."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - a closed stream must not stop the exit
            pass
    os._exit(code)


def send_frame(fd: int, data: bytes) -> None:
    """Write ``data`` to ``fd``, its length first (8 bytes, big-endian), all of it: a frame
    larger than the pipe holds waits for the reader. ``OSError`` when the reader is gone."""
    write_all(fd, len(data).to_bytes(_LENGTH_BYTES, "big") + data)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the blocking descriptor ``fd`` (a pipe takes part of a large
    write at a time)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_frame(fd: int) -> bytes | None:
    """The next frame's bytes from ``fd``, or ``None`` at end-of-file or when the frame is
    cut short (the writer died while sending). It reads no further than the frame: a
    process that still holds the pipe's other end open (a worker the writer forked)
    delays nothing."""
    head = _read_exactly(fd, _LENGTH_BYTES)
    return None if head is None else _read_exactly(fd, int.from_bytes(head, "big"))


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, _READ_CHUNK))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
