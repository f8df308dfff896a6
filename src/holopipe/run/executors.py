"""Executors behind ``ctx.map``: serial, or local processes.

Results come back in the sorted order of the item keys whatever the executor or number of
workers, and one item's failure is recorded in its result, never fatal to the others.
The process executor forks, so the work function may be any callable (a closure, a
lambda): it is inherited by the workers, not pickled.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import attrs

__all__ = ["ItemResult", "ProcessExecutor", "SerialExecutor", "make_executor"]


@attrs.frozen
class ItemResult:
    """Outcome of one item: its key, the value returned, or the error."""

    key: str
    value: Any = None
    error: str | None = None
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _call(fn: Callable[[Any], Any], key: str, item: Any) -> ItemResult:
    try:
        return ItemResult(key, fn(item))
    except Exception as exc:  # noqa: BLE001 - collected per item by design
        return ItemResult(
            key, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()
        )


class SerialExecutor:
    """Runs items one after another in this process."""

    jobs = 1

    def map(
        self,
        fn: Callable[[Any], Any],
        keyed: Sequence[tuple[str, Any]],
        on_done: Callable[[int], None] | None = None,
    ) -> list[ItemResult]:
        results = []
        for i, (key, item) in enumerate(keyed, 1):
            results.append(_call(fn, key, item))
            if on_done:
                on_done(i)
        return results


# The work of the current map call, inherited by forked workers (see module docstring).
_CURRENT: tuple[Callable[[Any], Any], Sequence[tuple[str, Any]]] | None = None


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_index(index: int) -> ItemResult:
    assert _CURRENT is not None
    fn, keyed = _CURRENT
    key, item = keyed[index]
    return _call(fn, key, item)


class ProcessExecutor:
    """Runs items in ``jobs`` forked worker processes."""

    def __init__(self, jobs: int):
        self.jobs = max(1, int(jobs))

    def map(
        self,
        fn: Callable[[Any], Any],
        keyed: Sequence[tuple[str, Any]],
        on_done: Callable[[int], None] | None = None,
    ) -> list[ItemResult]:
        global _CURRENT
        if not keyed:
            return []
        _CURRENT = (fn, keyed)
        try:
            context = multiprocessing.get_context("fork")
            # Workers ignore Ctrl-C: the stage process handles it and terminates the pool.
            with context.Pool(min(self.jobs, len(keyed)), _ignore_sigint) as pool:
                results = []
                for i, result in enumerate(pool.imap(_run_index, range(len(keyed))), 1):
                    results.append(result)
                    if on_done:
                        on_done(i)
                return results
        finally:
            _CURRENT = None


def make_executor(jobs: int | None) -> SerialExecutor | ProcessExecutor:
    """Serial for one job, processes otherwise; ``None`` or 0 means one per CPU."""
    jobs = jobs if jobs else (os.cpu_count() or 1)
    return SerialExecutor() if jobs == 1 else ProcessExecutor(jobs)
