"""Where a benchmark's runs happen: one disk, or a new filesystem for every run.

On ext4 without a journal, as on this machine's disk, a file created within a few minutes
of many files being removed costs several times more: the inode allocator skips, one by
one, every inode freed in the last 60 s (360 s while its inode table block is not written
back yet). A benchmark that removes one run's files before the next run's measures what
ran before it (see ``bench_peers.py``'s docstring for the figures).

- :class:`FreshDisks` (root): every run in a new ext4 filesystem without a journal,
  mounted with ``discard`` like this machine's (a sparse image on a loop device, made
  before and removed after, untimed).
- :class:`Disk`: folders below one directory, none removed before the end, and a wait of
  ``settle`` seconds before a command that creates files after one that removed some.

Example (any user; a fresh filesystem only as root)::

    disk = choose_disk(None, Path(scratch), settle=75.0, systems=1000)
    folder = disk.folder("holopipe")
    ...
    disk.release(folder)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["Disk", "FreshDisks", "add_disk_options", "choose_disk"]


class Disk:
    """Where the benchmark's runs happen (see the module docstring): :meth:`folder` gives a
    run its folder, :meth:`release` is called when the run is over; :meth:`settle` before a
    timed command that creates files, :meth:`removed` after one that may have removed some.
    This one: folders below ``root``, all kept until the end, and the ``--settle`` wait."""

    def __init__(self, root: Path, settle: float) -> None:
        self.root, self.settle_s = root, settle
        self.last_removal = -float("inf")
        self.waited = 0.0
        self._folders = 0

    def folder(self, prefix: str) -> Path:
        self._folders += 1
        path = self.root / f"{self._folders:03d}-{prefix}"
        path.mkdir()
        return path

    def release(self, folder: Path) -> None:
        """Nothing: a folder removed now would slow the next command down."""

    def removed(self) -> None:
        self.last_removal = time.monotonic()

    def settle(self) -> None:
        wait = self.last_removal + self.settle_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
            self.waited += wait

    def describe(self) -> str:
        return f"shared disk, waited {self.waited:.0f} s in all (--settle {self.settle_s:g})"


class FreshDisks(Disk):
    """A new ext4 filesystem (no journal, mounted ``discard``) for every run: a sparse image
    of ``size_gib`` on a loop device, below ``root``; no wait is needed."""

    def __init__(self, root: Path, size_gib: int) -> None:
        super().__init__(root, 0.0)
        self.size_gib = size_gib

    @staticmethod
    def available(root: Path) -> str | None:
        """Why fresh filesystems cannot be made here, or ``None``."""
        probe = FreshDisks(root, 1)
        try:
            probe.release(probe.folder("probe"))
        except (OSError, subprocess.CalledProcessError) as exc:
            return str(exc)
        return None

    def folder(self, prefix: str) -> Path:
        self._folders += 1
        image = self.root / f"{self._folders:03d}-{prefix}.img"
        with open(image, "wb") as fh:
            fh.truncate(self.size_gib << 30)
        # one inode per 4 KiB: every file of the 100 000-system chain fits
        quiet = {"check": True, "capture_output": True}
        subprocess.run(
            ["mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-i", "4096", image], **quiet
        )
        mount = image.with_suffix("")
        mount.mkdir()
        subprocess.run(["mount", "-o", "loop,discard", image, mount], **quiet)
        return mount

    def release(self, folder: Path) -> None:
        subprocess.run(["umount", folder], check=True, capture_output=True)
        folder.rmdir()
        folder.with_suffix(".img").unlink()

    def describe(self) -> str:
        return "a new ext4 filesystem (no journal, discard) for every run"


def add_disk_options(parser: argparse.ArgumentParser) -> None:
    """The ``--disk`` and ``--settle`` options that :func:`choose_disk` takes."""
    parser.add_argument(
        "--disk",
        choices=("fresh", "shared"),
        default=None,
        help="fresh: a new filesystem for every run (root; the default where it works); "
        "shared: the temporary directory, with --settle",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=75.0,
        help="--disk shared: seconds a command that creates files waits after the last "
        "command that may have removed files (0: no wait; figures then depend on what ran "
        "before)",
    )


def choose_disk(kind: str | None, scratch: Path, settle: float, systems: int) -> Disk | None:
    """The disk ``kind`` (``"fresh"``, ``"shared"``, or ``None``: fresh where it works)
    below ``scratch``, or ``None`` when a fresh one was asked for and cannot be made (said
    why on stderr). ``systems``: the largest run's size (a fresh image's room)."""
    if kind == "shared":
        return Disk(scratch, settle)
    why = FreshDisks.available(scratch)
    if why is None:
        # sparse: only what is written takes room; room for the 100 000-system chain
        return FreshDisks(scratch, max(4, systems // 5000))
    if kind == "fresh":
        print(f"--disk fresh: cannot make a filesystem here: {why}", file=sys.stderr)
        return None
    print(f"(no fresh filesystem here: {why}; --disk shared)")
    return Disk(scratch, settle)
