"""One Dask LocalCluster for a whole run, in a process of its own.

With ``executor.name = "dask"`` and no ``address``, :class:`RunCluster` starts one
LocalCluster as the run's first stage begins and stops it as the run ends; every stage
connects to it. A LocalCluster per stage costs about 2.6 s a stage (0.9 s to import
``distributed``, 1.3-1.5 s to start, 0.3 s to close): 26 s of a ten-stage run.

The cluster lives in a subprocess, not in the orchestrator: the stages are forked from the
orchestrator, and a fork must not inherit a running event loop and its threads. The
subprocess (``python -m holopipe.run.dask_cluster``) prints the scheduler's address on its
first line, then closes the cluster when its standard input closes (the orchestrator
ended, however it ended) or on SIGTERM. It runs in a session of its own, so that Ctrl-C in
the terminal reaches the orchestrator, which then stops it in order.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import attrs

#: How long the subprocess may take to print the scheduler's address (a loaded machine).
START_TIMEOUT_S = 120.0
#: How long it may take to close the cluster once asked.
CLOSE_TIMEOUT_S = 30.0


class ClusterUnavailable(RuntimeError):
    """The run's LocalCluster did not start (the stages then start their own)."""


@attrs.define
class RunCluster:
    """The run's LocalCluster subprocess: its scheduler ``address`` and scratch ``folder``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     cluster = RunCluster.start(2, Path(tmp) / "cluster")
    ...     cluster.address.startswith("tcp://")
    ...     cluster.close()
    True
    """

    process: subprocess.Popen[str]
    address: str
    folder: Path

    @classmethod
    def start(cls, workers: int, folder: Path, timeout: float = START_TIMEOUT_S) -> RunCluster:
        """Start ``workers`` single-threaded worker processes, their scratch in ``folder``.

        Raises
        ------
        ClusterUnavailable
            The subprocess ended, or printed no address within ``timeout`` seconds.
        """
        command = [
            sys.executable, "-m", "holopipe.run.dask_cluster",
            "--workers", str(workers), "--folder", os.fspath(folder),
            # The workers unpickle the stages' functions: they need the modules this
            # process can import (multiprocessing's spawn passes sys.path the same way).
            "--sys-path", json.dumps(sys.path),
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline().strip() if ready else ""
        if not line.startswith(("tcp://", "tls://")):
            _stop(process)
            if not ready:
                why = f"no address within {timeout:.0f} s"
            else:
                why = f"it printed {line!r}" if line else f"it ended (exit {process.returncode})"
            shutil.rmtree(folder, ignore_errors=True)
            raise ClusterUnavailable(f"the run's Dask LocalCluster did not start: {why}")
        return cls(process, line, folder)

    def close(self) -> None:
        """Close the cluster, wait for its subprocess and remove its scratch folder."""
        _stop(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)
        try:
            self.folder.parent.rmdir()  # the run's .executor/, once no stage left files
        except OSError:
            pass


def _stop(process: subprocess.Popen[str]) -> None:
    # Closing stdin is enough, but a forked stage may still hold its write end: SIGTERM too.
    if process.stdin is not None:
        process.stdin.close()
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(CLOSE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)  # unwinds to the ``finally`` that closes the cluster


def main(argv: list[str] | None = None) -> int:
    """The subprocess: start the cluster, print its address, serve until stdin closes."""
    parser = argparse.ArgumentParser(prog="python -m holopipe.run.dask_cluster")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--sys-path", default="[]")
    args = parser.parse_args(argv)
    sys.path[:] = json.loads(args.sys_path) or sys.path
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    from distributed import LocalCluster

    args.folder.mkdir(parents=True, exist_ok=True)
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        local_directory=os.fspath(args.folder),
        silence_logs=40,  # logging.ERROR: worker chatter is not the run's output
    )
    try:
        print(cluster.scheduler_address, flush=True)
        sys.stdin.read()  # returns at end of file: the orchestrator closed its end
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one close, even if asked twice
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
