"""Publishing a stage run: what becomes visible, and what a failed attempt leaves.

A stage is built in ``.<NN>_<slug>.partial/``. Only a run that ended OK or WARNING is
*published*: the folder replaces ``<NN>_<slug>/`` (:func:`swap_into_place`), its aliases
are pointed at it (:func:`publish_aliases`) and the manifest records it. A run that ended
INCOMPLETE or ERROR is *kept aside* in ``<NN>_<slug>.failed/`` (:func:`keep_failed_attempt`:
its summary, logs, ``cmd.txt`` and whatever it wrote), and the previous successful outputs,
their aliases and their manifest record stay exactly as they were. A later successful run
removes the ``.failed`` folder. A folder replaced (the previous outputs, once the new ones
are recorded) is not removed on the spot: it is renamed into the run's trash and removed
in the background (:mod:`holopipe.run.trash`).

Examples
--------
>>> from holopipe.run.layout import RunLayout
>>> failed_attempt_dir(RunLayout.create("runs", "toy"), "03_discover_bulk_equations").as_posix()
'runs/toy/03_discover_bulk_equations.failed'
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from holopipe.run.layout import ALIAS_MARKER, RunLayout, make_alias
from holopipe.run.trash import discard

__all__ = [
    "FAILED_SUFFIX",
    "broken_aliases",
    "failed_attempt_dir",
    "forget_failed_attempt",
    "keep_failed_attempt",
    "last_attempt_dir",
    "partial_dir",
    "publish_aliases",
    "repair_aliases",
    "swap_back",
    "swap_into_place",
]

#: Suffix of the folder holding a stage's last failed attempt.
FAILED_SUFFIX = ".failed"


def partial_dir(layout: RunLayout, key: str) -> Path:
    """Where a stage run is built before it is published or kept aside."""
    return layout.root / f".{key}.partial"


def failed_attempt_dir(layout: RunLayout, key: str) -> Path:
    """Where the last failed attempt of stage ``key`` is kept."""
    return layout.root / f"{key}{FAILED_SUFFIX}"


def last_attempt_dir(layout: RunLayout, key: str) -> Path:
    """The folder of the stage's last attempt: its ``.failed`` folder when the last attempt
    failed (a successful run removes it), else the published stage folder."""
    failed = failed_attempt_dir(layout, key)
    return failed if failed.is_dir() else layout.root / key


def swap_into_place(work: Path, final: Path, keep_old: bool = False) -> Path | None:
    """Replace ``final`` by ``work``: the old dir is renamed away first, then discarded
    (:func:`holopipe.run.trash.discard`: removed in the background), or, with ``keep_old``,
    returned (kept until the new one is recorded, see :func:`swap_back`).

    A kill between the two renames leaves ``.<name>.old`` and no ``final``: the next holder
    of the experiment lock puts it back (``RunLayout.remove_leftovers``).
    """
    old = final.with_name(f".{final.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(work, final)
    if keep_old:
        return old if old.exists() else None
    if old.exists():
        discard(old)
    return None


def swap_back(work: Path, final: Path, previous: Path | None) -> None:
    """Undo :func:`swap_into_place` (``keep_old``) when the new folder cannot be recorded."""
    os.replace(final, work)
    if previous is not None:
        os.replace(previous, final)


def keep_failed_attempt(work: Path, failed: Path) -> None:
    """Move a failed run's folder to ``failed`` (replacing an older failed attempt)."""
    swap_into_place(work, failed)


def forget_failed_attempt(failed: Path) -> None:
    """A successful run supersedes the last failed attempt (discarded into the trash)."""
    if failed.exists():
        discard(failed)


def publish_aliases(
    layout: RunLayout, key: str, final: Path, aliases: Iterable[str]
) -> dict[str, str]:
    """Point each of ``aliases`` that the stage wrote at its folder; alias -> manifest target."""
    published = {}
    for alias in aliases:
        if (final / alias).is_dir():
            make_alias(layout.root, alias, final / alias)
            published[alias] = f"{key}/{alias}"
    return published


def broken_aliases(layout: RunLayout, aliases: dict[str, str], key: str) -> list[str]:
    """The aliases the manifest points at stage ``key`` whose link is deleted or points
    elsewhere (a real-folder alias must carry the ``.alias_of`` marker naming its target)."""
    broken = []
    for alias, target in sorted(aliases.items()):
        if target.split("/", 1)[0] != key:
            continue
        link = layout.root / alias
        expected = os.path.relpath(layout.root / target, layout.root)
        if link.is_symlink():
            intact = os.readlink(link) == expected and link.is_dir()
        elif link.is_dir():
            marker = link / ALIAS_MARKER
            intact = marker.is_file() and marker.read_text(encoding="utf-8").strip() == expected
        else:
            intact = False
        if not intact:
            broken.append(alias)
    return broken


def repair_aliases(layout: RunLayout, aliases: dict[str, str], key: str) -> list[str]:
    """Point the broken aliases of stage ``key`` at their manifest targets again; the
    aliases repaired (a target folder that is gone is left to the stage's rerun)."""
    repaired = []
    for alias in broken_aliases(layout, aliases, key):
        target = layout.root / aliases[alias]
        if target.is_dir():
            make_alias(layout.root, alias, target)
            repaired.append(alias)
    return repaired
