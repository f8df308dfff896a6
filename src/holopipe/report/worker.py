"""``report.html`` drawn by a process forked when the run's first stage starts.

Drawing the report's plots imports matplotlib (~0.4-0.5 s here), after the last stage, on
the command's critical path, while the machine's other core sat idle during every stage.
:class:`ReportWorker` is forked by the orchestrator just before its first stage process: it
imports the plotting modules while the stages work, then waits. When the run ends, the
orchestrator sends it what the page shows (the run's layout, its stage plans, the report
key); the worker reads the run's records from disk (they are final by then), writes
``report.html`` exactly as :func:`~holopipe.report.write_report` in the orchestrator would,
and answers with the report's path, what it left out and each stage's failed-checks line.

Nothing depends on it: where it would not help (one CPU, no ``fork``, no matplotlib) it is
not started, and a worker that died or answered nothing leaves the orchestrator to write
the report itself; one never asked (the run stopped, nothing to draw) is killed. It never
outlives the orchestrator (``PR_SET_PDEATHSIG`` on Linux; elsewhere it ends at end-of-file
of its request pipe) and ignores Ctrl-C, which is the orchestrator's.
Messages are pickled between a process and the one it forked (the same code, nothing
from outside), as frames (:func:`~holopipe.run.forked.send_frame`).

Examples
--------
>>> worker = ReportWorker.start()
>>> worker is None or worker.close() is None
True
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import signal
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from holopipe.run.forked import die_with_parent, exit_flushed, read_frame, send_frame

__all__ = ["ReportWorker"]


def _send(fd: int, value: Any) -> None:
    send_frame(fd, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _receive(fd: int) -> Any:
    """The value sent, or ``None`` at end-of-file (the other side is gone)."""
    data = read_frame(fd)
    return None if data is None else pickle.loads(data)  # noqa: S301 - our own fork's bytes


def _prefetch() -> None:
    """Import what drawing the plots imports (an error is the report's to say, later)."""
    try:
        from holopipe.report import plots

        plots._matplotlib()
        import matplotlib.backends.backend_svg  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except Exception:  # noqa: BLE001, S110 - the report draws without plots and says why
        pass


def _serve(requests: int, answers: int) -> None:
    """The forked process: never returns into the caller's code."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the orchestrator's
        die_with_parent()
        _prefetch()
        request = _receive(requests)
        if request is not None:
            from holopipe.report import write_report
            from holopipe.report.collect import RunView

            layout, plans, key, ran = request
            view = RunView.load(layout)
            path, left_out = write_report(layout, plans, key, view)
            lines = {}
            for stage in ran:
                summary = view.summaries.get(stage)
                lines[stage] = summary.failed_checks_line() if summary else None
            _send(answers, (path, left_out, lines))
        code = 0
    except BaseException:  # noqa: BLE001 - said on stderr; the orchestrator writes the report
        import traceback

        traceback.print_exc()
    finally:
        exit_flushed(code)


class ReportWorker:
    """A forked process that draws ``report.html`` when asked (see the module docstring)."""

    def __init__(self, pid: int, requests: int, answers: int) -> None:
        self.pid, self._requests, self._answers = pid, requests, answers

    @classmethod
    def start(cls, close: Iterable[int] = ()) -> ReportWorker | None:
        """Fork the worker, or ``None`` where it would not help: fewer than two CPUs for
        this process, no ``fork``, or no matplotlib (then no plots are drawn at all).
        ``close``: descriptors the worker must not hold (the experiment lock's)."""
        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(1)
        if len(cpus) < 2 or not hasattr(os, "fork"):
            return None
        if importlib.util.find_spec("matplotlib") is None:
            return None
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            stream.flush()
        pid = os.fork()
        if pid == 0:
            os.close(requests_w)
            os.close(answers_r)
            for fd in close:
                try:
                    os.close(fd)
                except OSError:
                    pass
            _serve(requests_r, answers_w)
        os.close(requests_r)
        os.close(answers_w)
        return cls(pid, requests_w, answers_r)

    def write(
        self, layout: Any, plans: list[Any], key: str, ran: list[str]
    ) -> tuple[Path, list[str], dict[str, str | None]] | None:
        """Have the worker write the report of ``layout`` (as ``write_report(layout, plans,
        key)``): its path, what it left out, and the failed-checks line of each stage of
        ``ran``; ``None`` when the worker failed (then nothing of it is to be trusted:
        the caller writes the report). The worker is gone afterwards."""
        try:
            _send(self._requests, (layout, plans, key, list(ran)))
            answer = _receive(self._answers)
        except OSError:  # it died before reading the request
            answer = None
        finally:
            self.close(asked=True)
        return answer

    def close(self, asked: bool = False) -> None:
        """Reap the worker: it ends by itself once ``asked`` has been answered, and is
        killed otherwise (its imports would only delay the command's end)."""
        if self.pid and not asked:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for fd in (self._requests, self._answers):
            try:
                os.close(fd)
            except OSError:
                pass
        self._requests = self._answers = -1
        if self.pid:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0
