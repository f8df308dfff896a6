"""Items of work run in forked worker processes, with almost nothing for the parent to do.

:func:`fork_map` forks ``workers`` processes that inherit the work (a function of an item's
index, and whatever it closes over: nothing is pickled on the way in). Work is handed out
through one pipe holding an index token per item (or per few items), written before the
first fork: each worker reads the next token itself (a read of 4 bytes from a pipe is
atomic), so the parent neither schedules nor feeds anyone. Each worker sends back, on a pipe
of its own, one length-prefixed pickle per item; the parent sleeps in ``select`` and only
unpickles what its own workers send (never a file).

The parent looks at its pipes at most every :data:`MAX_PAUSE` seconds while many items are
left, and ever more often towards the end (a quarter of the time the rest should take, at
the rate so far; not at all once every item left may be in a worker's hands): each wake-up
takes a core from a worker on a machine with as many cores as workers, and one per item
was ~200 wake-ups for a 200-system stage. The pipes are widened (1 MiB on Linux) so a
worker does not block on a full pipe meanwhile; a read that comes back half full ends the
pauses until the next one. A dead worker's frames stay in its pipe: nothing is lost by
looking later.

Why not :class:`multiprocessing.pool.Pool`: per item it pickles a task, wakes three parent
threads and a result queue; at a few milliseconds of work per item that is a fifth of the
parent's CPU spent beside two busy workers on two cores. And a Pool whose worker is killed
waits for ever; here the items a dead worker held come back as :class:`Lost`.

The parent keeps the frames as bytes and unpickles a worker's once that worker has exited
(up to :data:`DEFERRED_BYTES`; beyond, as they come): while a worker lives, every page of
memory the parent writes is copied first (it is shared with the worker), about 2 us a page
on this hardware, and unpickling results writes many pages; after the exit a write costs a
third of that. The frames of the workers that exit first are unpickled while the last one
still works (the parent has a core of its own by then), so only the last one's frames wait
for its exit. Progress is counted from the frames' headers (each carries its item's index),
not from unpickled values.

Each worker freezes the garbage collector's view of what it inherited (``gc.freeze()``):
the objects it was forked with are never traversed, so a collection does not touch (and
copy) their memory pages; what the worker allocates itself is collected as usual.

Examples
--------
>>> squares = [n * n for n in range(5)]
>>> fork_map(lambda i: squares[i] + 1, len(squares), workers=2)
[1, 2, 5, 10, 17]
"""

from __future__ import annotations

import fcntl
import gc
import math
import os
import pickle
import selectors
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import attrs

from holopipe.run.forked import exit_flushed, write_all

__all__ = ["DEFERRED_BYTES", "MAX_PAUSE", "MAX_TOKENS", "Lost", "Unsent", "fork_map"]

#: Index tokens written before the first fork: 4 bytes each, within the one page any pipe
#: holds (more items than this share a token: consecutive indices, still handed out whole).
MAX_TOKENS = 1024
_TOKEN = 4
_SIZE = 4
_HEADER = 8  # the payload's size, then the item's index
#: Result bytes the parent holds back until its workers have exited (then unpickles them);
#: beyond this much, frames are unpickled as they come (memory stays bounded).
DEFERRED_BYTES = 64 << 20
#: Longest pause (seconds) of the parent between two looks at its workers' pipes.
MAX_PAUSE = 0.05
_PIPE_SIZE = 1 << 20


@attrs.frozen
class Lost:
    """An item whose worker died before sending it back (rerunning it may succeed)."""

    why: str


@attrs.frozen
class Unsent:
    """An item whose value could not be pickled back to the parent."""

    why: str


def _send(fd: int, index: int, payload: bytes) -> None:
    header = len(payload).to_bytes(_SIZE, "little") + index.to_bytes(_SIZE, "little")
    write_all(fd, header + payload)


def _serve(task: Callable[[int], Any], n: int, span: int, tasks_fd: int, out_fd: int) -> None:
    """A worker's loop: take the next token, run its items, send each value back."""
    while token := os.read(tasks_fd, _TOKEN):
        start = int.from_bytes(token, "little") * span
        for index in range(start, min(start + span, n)):
            value = task(index)
            try:
                payload = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - reported as this item's outcome
                why = f"the result cannot be sent back: {type(exc).__name__}: {exc}"
                payload = pickle.dumps(Unsent(why), pickle.HIGHEST_PROTOCOL)
            _send(out_fd, index, payload)


def _worker(task: Callable[[int], Any], n: int, span: int, tasks_fd: int, out_fd: int) -> None:
    """The forked process: never returns into the caller's code."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        gc.freeze()
        _serve(task, n, span, tasks_fd, out_fd)
        code = 0
    except BaseException:  # noqa: BLE001 - said on stderr; the parent marks its items Lost
        traceback.print_exc()
    finally:
        exit_flushed(code)


def _exit_reason(pid: int, status: int) -> str | None:
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        return None
    if code < 0:
        return f"worker process {pid} killed by signal {signal.Signals(-code).name}"
    return f"worker process {pid} exited with status {code}"


def _widened(fd: int) -> int:
    """Widen the pipe of ``fd`` to :data:`_PIPE_SIZE` where the system allows; its capacity."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
    except (AttributeError, OSError):  # not Linux, or beyond the system's pipe-max-size
        return 1 << 16


def _pause(done: int, n: int, workers: int, elapsed: float) -> float:
    """Seconds to wait before the next look at the pipes, ``done`` of ``n`` items back after
    ``elapsed`` seconds: a quarter of what the rest should take, at most :data:`MAX_PAUSE`;
    none before the first item or once each item left may be the one a worker is on."""
    left = n - done
    if not done or left <= workers:
        return 0.0
    return min(MAX_PAUSE, elapsed * left / done / 4)


def _frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """``(index, payload)`` of the complete frames at the start of ``buffer``, removed."""
    frames, at = [], 0
    while len(buffer) - at >= _HEADER:
        size = int.from_bytes(buffer[at : at + _SIZE], "little")
        if len(buffer) - at - _HEADER < size:
            break
        index = int.from_bytes(buffer[at + _SIZE : at + _HEADER], "little")
        frames.append((index, bytes(buffer[at + _HEADER : at + _HEADER + size])))
        at += _HEADER + size
    del buffer[:at]
    return frames


def _unpickle(kept: dict[int, bytes], results: list[Any]) -> None:
    """The values of the frames a worker sent, into ``results`` (it has been reaped)."""
    for index, payload in kept.items():
        results[index] = pickle.loads(payload)  # our own worker's bytes, never a file


def fork_map(
    task: Callable[[int], Any],
    n: int,
    workers: int,
    on_done: Callable[[int], None] | None = None,
) -> list[Any]:
    """``[task(0), ..., task(n - 1)]`` computed by ``workers`` forked processes.

    An item whose worker died comes back as :class:`Lost`, one whose value cannot be
    pickled as :class:`Unsent`; ``task`` should catch its own exceptions (one that escapes
    kills its worker, whose remaining items go to the others). ``on_done(k)`` is called in
    this process after each of the ``k`` items that came back. On any exception here
    (Ctrl-C included) the workers are terminated and reaped before it propagates.
    """
    if n == 0:
        return []
    workers = max(1, min(workers, n))
    span = math.ceil(n / MAX_TOKENS)
    tasks_r, tasks_w = os.pipe()
    tokens = b"".join(t.to_bytes(_TOKEN, "little") for t in range(math.ceil(n / span)))
    os.write(tasks_w, tokens)  # at most one page: never blocks
    os.close(tasks_w)  # the workers see end-of-file once every token is taken
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        stream.flush()
    pids: dict[int, int] = {}  # result pipe's read end -> worker pid
    results: list[Any] = [None] * n
    received = [False] * n
    held: list[dict[int, bytes]] = []  # per exited worker: index -> payload, to unpickle
    held_bytes = 0
    reasons: list[str] = []
    selector = selectors.DefaultSelector()
    try:
        for _ in range(workers):
            read_fd, write_fd = os.pipe()
            capacity = _widened(read_fd)  # each pipe's own: widening one may fail alone
            pid = os.fork()
            if pid == 0:  # the worker
                os.close(read_fd)
                for fd in pids:
                    os.close(fd)
                _worker(task, n, span, tasks_r, write_fd)
            os.close(write_fd)
            pids[read_fd] = pid
            selector.register(read_fd, selectors.EVENT_READ, (bytearray(), {}, capacity))
        os.close(tasks_r)
        tasks_r = -1
        done, hurry, start = 0, False, time.monotonic()
        while selector.get_map():
            pause = 0.0 if hurry else _pause(done, n, workers, time.monotonic() - start)
            if pause:
                time.sleep(pause)
            hurry = False
            for key, _ in selector.select():
                buffer, kept, capacity = key.data
                chunk = os.read(key.fd, _PIPE_SIZE)
                hurry = hurry or len(chunk) >= capacity // 2  # a worker may be blocked
                if not chunk:  # the worker closed its pipe: it has finished or died
                    selector.unregister(key.fd)
                    os.close(key.fd)
                    pid = pids.pop(key.fd)
                    reason = _exit_reason(pid, os.waitpid(pid, 0)[1])
                    reasons += [reason] if reason else []
                    if selector.get_map():  # the others still work: the parent has a core
                        _unpickle(kept, results)
                    else:
                        held.append(kept)
                    continue
                buffer.extend(chunk)
                for index, payload in _frames(buffer):
                    if held_bytes + len(payload) <= DEFERRED_BYTES:
                        kept[index] = payload
                        held_bytes += len(payload)
                    else:
                        results[index] = pickle.loads(payload)  # our own worker's bytes
                    received[index] = True
                    done += 1
                    if on_done:
                        on_done(done)
    finally:
        if tasks_r >= 0:
            os.close(tasks_r)
        for fd, pid in pids.items():  # interrupted: no worker outlives the call
            os.close(fd)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
        selector.close()
    for kept in held:  # every worker has exited: no page is shared now
        _unpickle(kept, results)
    if not all(received):
        why = "; ".join(reasons) or "worker process ended without sending it back"
        results = [r if got else Lost(why) for r, got in zip(results, received, strict=True)]
    return results
