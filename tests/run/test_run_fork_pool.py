"""The forked worker pool behind the ``processes`` executor (holopipe.run.fork_pool).

Values in index order whatever worker ran them; a worker killed mid-item loses that item
only (the others finish the rest); a value that cannot be pickled, or an exception that
escapes, is reported for its item; Ctrl-C in the parent leaves no worker behind; what a
worker prints reaches the parent's file descriptors; a worker's garbage collector ignores
what it inherited and still collects what it makes.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest

from holopipe.run.context import RunContext, StageContext
from holopipe.run.fork_pool import MAX_TOKENS, Lost, Unsent, fork_map
from holopipe.run.layout import RunLayout


def test_values_come_back_in_index_order_from_every_worker():
    done: list[int] = []
    values = fork_map(lambda i: (i * i, os.getpid()), 40, workers=2, on_done=done.append)
    assert [v for v, _ in values] == [i * i for i in range(40)]
    assert os.getpid() not in {pid for _, pid in values}
    assert done == list(range(1, 41))


def test_more_items_than_tokens_share_tokens_and_all_come_back():
    n = 2 * MAX_TOKENS + 7
    assert fork_map(lambda i: i + 1, n, workers=2) == [i + 1 for i in range(n)]


def test_one_worker_is_enough_and_no_items_is_no_fork():
    assert fork_map(lambda i: -i, 3, workers=1) == [0, -1, -2]
    assert fork_map(lambda i: 1 / 0, 0, workers=2) == []


def test_a_worker_killed_mid_item_loses_that_item_only():
    def task(i: int) -> int:
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return i

    values = fork_map(task, 12, workers=2)
    assert [v for v in values if not isinstance(v, Lost)] == [i for i in range(12) if i != 3]
    assert isinstance(values[3], Lost) and "killed by signal SIGKILL" in values[3].why


def test_an_escaping_exception_ends_its_worker_and_the_other_finishes(capfd):
    def task(i: int) -> int:
        if i == 0:
            raise SystemExit("escaped")  # not an Exception: nothing caught it in the task
        time.sleep(0.01)
        return i

    values = fork_map(task, 6, workers=2)
    assert values[1:] == [1, 2, 3, 4, 5]
    assert isinstance(values[0], Lost) and "exited with status 1" in values[0].why
    assert "SystemExit: escaped" in capfd.readouterr().err  # the worker's traceback


def test_a_value_that_cannot_be_pickled_is_reported_for_its_item():
    values = fork_map(lambda i: threading.Lock() if i == 1 else i, 3, workers=2)
    assert values[0] == 0 and values[2] == 2
    assert isinstance(values[1], Unsent) and "cannot be sent back" in values[1].why


def test_what_workers_print_reaches_the_parents_file_descriptors(capfd, monkeypatch):
    # sys.stdout buffered on fd 1, as a stage process has it (holopipe.run.capture): what a
    # worker prints stays in its buffer until it flushes before exiting. (capfd's own
    # sys.stdout writes through, "item i" and "\n" apart: two workers interleaved them.)
    stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - closed below
    monkeypatch.setattr(sys, "stdout", stdout)

    def task(i: int) -> int:
        print(f"item {i}")
        return i

    fork_map(task, 5, workers=2)
    stdout.close()
    assert sorted(capfd.readouterr().out.split("\n")[:-1]) == [f"item {i}" for i in range(5)]


def test_ctrl_c_in_the_parent_leaves_no_worker_behind(tmp_path: Path):
    def task(i: int) -> int:
        (tmp_path / f"{os.getpid()}.pid").touch()
        time.sleep(0.05 if i == 0 else 30)
        return i

    def interrupt(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fork_map(task, 4, workers=2, on_done=interrupt)
    pids = [int(p.stem) for p in tmp_path.glob("*.pid")]
    assert len(pids) == 2
    for pid in pids:  # terminated and reaped: no such process any more
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_a_worker_freezes_what_it_inherited_and_still_collects_its_own_cycles():
    inherited = [Node() for _ in range(100)]  # tracked objects the workers are forked with

    def task(i: int) -> tuple[int, bool]:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle only the cyclic collector frees
        alive = weakref.ref(a)
        del a, b
        gc.collect()
        return gc.get_freeze_count(), alive() is None

    frozen, collected = fork_map(task, 1, workers=1)[0]
    assert frozen >= len(inherited)  # never traversed by the worker's collections
    assert collected  # the worker's own garbage is collected as usual
    assert gc.get_freeze_count() == 0  # the parent's collector is untouched


def test_the_processes_executor_records_a_killed_worker_as_lost(tmp_path: Path):
    run = RunContext(RunLayout.create(tmp_path / "runs", "k"), {"seed": 1}, jobs=2)
    ctx = StageContext(run, "01", "01_k", tmp_path, None)

    def work(item: int) -> int:
        if item == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return item

    results = ctx.map(work, [3, 2, 1], key=lambda i: f"s{i}")
    assert [(r.key, r.value, r.lost) for r in results] == [
        ("s1", 1, False),
        ("s2", None, True),
        ("s3", 3, False),
    ]
    assert ctx.lost == ["s2"] and ctx.systems["s2"][0] == "ERROR"
    assert "killed by signal SIGKILL" in ctx.systems["s2"][1]


def _worker_alive(pid: int) -> bool:
    """Whether process ``pid`` still exists (reaped workers do not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class AliveAtUnpickling:
    """A value that notes, as it is unpickled in the parent, whether its worker lives."""

    def __init__(self, index: int, worker: int, worker_alive: bool | None = None):
        self.index, self.worker, self.worker_alive = index, worker, worker_alive

    def __reduce__(self):
        return (_unpickled, (self.index, self.worker))


def _unpickled(index: int, worker: int) -> AliveAtUnpickling:
    return AliveAtUnpickling(index, worker, _worker_alive(worker))


def test_results_are_unpickled_once_the_workers_are_gone_progress_counted_before():
    done: list[int] = []
    values = fork_map(
        lambda i: AliveAtUnpickling(i, os.getpid()), 30, workers=2, on_done=done.append
    )
    assert [v.index for v in values] == list(range(30))
    assert len({v.worker for v in values}) <= 2 and os.getpid() not in {v.worker for v in values}
    assert not any(v.worker_alive for v in values)  # no page shared with a live worker
    assert done == list(range(1, 31))  # progress from the frames, before any unpickling


def test_beyond_the_held_bytes_results_are_unpickled_as_they_come(monkeypatch):
    from holopipe.run import fork_pool

    monkeypatch.setattr(fork_pool, "DEFERRED_BYTES", 0)

    def task(i: int) -> AliveAtUnpickling:
        if i == 0:
            time.sleep(0.5)  # this worker is still busy when the other's results arrive
        return AliveAtUnpickling(i, os.getpid())

    values = fork_map(task, 6, workers=2)
    assert [v.index for v in values] == list(range(6))
    assert any(v.worker_alive for v in values)  # unpickled while a worker was still running


def test_results_larger_than_a_pipe_all_come_back():
    size = 3 << 20  # each value fills the widened pipe three times over
    values = fork_map(lambda i: bytes([i]) * size, 6, workers=2)
    assert [(len(v), v[:1], v[-1:]) for v in values] == [
        (size, bytes([i]), bytes([i])) for i in range(6)
    ]


def test_the_parent_wakes_far_fewer_times_than_items_come_back(monkeypatch):
    import selectors

    from holopipe.run import fork_pool

    looks: list[int] = []

    class Counting(selectors.DefaultSelector):
        def select(self, timeout=None):
            looks.append(1)
            return super().select(timeout)

    monkeypatch.setattr(fork_pool.selectors, "DefaultSelector", Counting)
    done: list[int] = []

    def task(i: int) -> int:
        time.sleep(0.01)
        return i

    assert fork_map(task, 80, workers=2, on_done=done.append) == list(range(80))
    assert done == list(range(1, 81))  # every item still counted, in order
    assert len(looks) < 40  # one wake-up per item would be ~80


def test_a_read_half_filling_a_narrow_pipe_ends_the_pause_whatever_the_other_pipes_are(
    monkeypatch,
):
    """Widening may fail for one pipe (the per-user pipe-buffer limit) and not another: a
    read that half fills a 64 KiB pipe means its worker may be blocked, so the next look
    comes without a pause, even when the other pipe holds 1 MiB."""
    import selectors

    from holopipe.run import fork_pool

    capacities = iter([1 << 16, 1 << 20])  # the first worker's pipe stayed narrow
    monkeypatch.setattr(fork_pool, "_widened", lambda fd: next(capacities))
    monkeypatch.setattr(fork_pool, "_pause", lambda *args: 0.001)  # else: a pause each look
    events: list[str] = []
    real_sleep = time.sleep

    def noted_sleep(seconds):
        events.append("pause")
        real_sleep(seconds)

    class Noting(selectors.DefaultSelector):
        def select(self, timeout=None):
            events.append("look")
            return super().select(timeout)

    monkeypatch.setattr(fork_pool.time, "sleep", noted_sleep)
    monkeypatch.setattr(fork_pool.selectors, "DefaultSelector", Noting)
    size = 48 << 10  # half of 64 KiB or more, far from half of 1 MiB
    assert fork_map(lambda i: bytes(size), 20, workers=2) == [bytes(size)] * 20
    looks_without_pause = [
        i for i, e in enumerate(events) if e == "look" and events[i - 1] != "pause"
    ]
    assert looks_without_pause  # one capacity (the last pipe's) for both: always a pause


class UnpickledAt:
    """A value that notes when it is unpickled in the parent."""

    def __init__(self, index: int, at: float | None = None):
        self.index, self.at = index, at

    def __reduce__(self):
        return (_unpickled_now, (self.index,))


def _unpickled_now(index: int) -> UnpickledAt:
    return UnpickledAt(index, time.monotonic())


def test_a_workers_results_are_unpickled_once_it_exits_while_another_still_works():
    def task(i: int) -> UnpickledAt:
        time.sleep(0.6 if i == 0 else 0.001)  # item 0's worker ends last, long after
        return UnpickledAt(i)

    values = fork_map(task, 8, workers=2)
    assert [v.index for v in values] == list(range(8))
    assert min(v.at for v in values[1:]) < values[0].at - 0.3
