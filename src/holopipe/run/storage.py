"""What the storage under a run can refuse: a full disk, a read-only folder, a file in the way.

These are the user's to fix (free space, pick another ``--runs-dir``), so they are bad
input (exit 2) with one line naming the path, never an internal error. Writes are atomic
(a temporary file renamed into place), so a refused write leaves nothing half-written
visible, and the same command completes once the cause is gone.

Examples
--------
>>> import errno
>>> exc = OSError(errno.ENOSPC, "No space left on device", "runs/x/run_manifest.json")
>>> str(storage_error(exc)).split(";")[0]
'no space left on device while writing runs/x/run_manifest.json'
>>> storage_error(ValueError("not storage")) is None
True
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["EXIT_STORAGE_REFUSED", "StorageError", "disk_refusal", "storage_error"]

#: Exit code of a forked stage process whose write the storage refused (it printed why);
#: the orchestrator reports the stage INCOMPLETE (exit 2). Internal between the two.
EXIT_STORAGE_REFUSED = 75

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS}
_DENIED = {errno.EACCES, errno.EPERM}
_NOT_A_FOLDER = {errno.ENOTDIR, errno.EEXIST}


class StorageError(Exception):
    """The storage refused a write (full, read-only, not permitted, a file in the way)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.errno = code


def _oserror_in(exc: BaseException | None) -> OSError | StorageError | None:
    """The first :class:`OSError` with a storage errno in ``exc`` or the exceptions behind it."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StorageError):
            return exc
        if isinstance(exc, OSError) and exc.errno in (
            _NO_SPACE | _READ_ONLY | _DENIED | _NOT_A_FOLDER
        ):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def storage_error(
    exc: BaseException, where: str | os.PathLike | None = None
) -> StorageError | None:
    """``exc`` as a :class:`StorageError` naming the path, or ``None`` if it is another error.

    ``where`` names the path when the error does not (a write to an open descriptor).
    """
    found = _oserror_in(exc)
    if found is None:
        return None
    if isinstance(found, StorageError):
        return found
    path = found.filename or (os.fspath(where) if where is not None else "<unknown path>")
    path = os.fspath(path)
    if found.errno in _NO_SPACE:
        message = (
            f"no space left on device while writing {path}; nothing half-written is kept: "
            "free space and run the same command again"
        )
    elif found.errno in _READ_ONLY:
        message = f"read-only file system: cannot write {path}; choose another --runs-dir"
    elif found.errno in _DENIED:
        message = f"permission denied: cannot write {path}; choose another --runs-dir"
    else:
        parent = next((p for p in Path(path).parents if p.is_file()), None)
        culprit = parent if parent is not None else path
        message = f"cannot create {path}: {culprit} is a file, not a folder (check --runs-dir)"
    return StorageError(message, found.errno)


def disk_refusal(exc: BaseException, where: str | os.PathLike | None = None) -> StorageError | None:
    """Like :func:`storage_error`, for a full or read-only disk only.

    Used where a permission error or a file in the way may be a stage's own bug (a stage
    writing where it must not): those stay the stage's ERROR.
    """
    refused = storage_error(exc, where)
    return refused if refused is not None and refused.errno in _NO_SPACE | _READ_ONLY else None
