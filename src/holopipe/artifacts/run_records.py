"""holopipe's own run records that are not artifact types, as ``holopipe validate`` knows them.

A run folder holds, beside its artifacts, records written by the run machinery: the frozen
configuration, each stage's command line, environment and logs, lock files, and the
``.alias_of`` marker of an alias copied where symbolic links are not allowed. They are
recognised by name (and checked for what they must be: a JSON object, UTF-8 text), so
that validating a good run reports them as valid instead of ``unknown_schema``. The names
are those of :mod:`holopipe.run.layout` (a test keeps the two lists in step).

Examples
--------
>>> from pathlib import Path
>>> record_kind(Path("runs/toy/02_emergent_geometry_engine/cmd.txt"))
'command line'
>>> record_kind(Path("runs/toy/predictions/ads_geometry.npz")) is None
True
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from holopipe.artifacts.base import DocumentUnreadable, read_json_document
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.safety import UnsafeFile, read_text_bounded

__all__ = [
    "JSON_RECORDS",
    "LOCK_SUFFIX",
    "MANIFEST_RECORDS_DIR",
    "TEXT_RECORDS",
    "hidden_entry",
    "record_kind",
    "validate_record",
]

#: Records that must be one JSON object, by file name.
JSON_RECORDS = {
    "config.resolved.json": "run configuration",
    "meta_env.json": "stage environment",
    ".lock.holder": "lock holder (the command at work on the experiment)",
}
#: Records that must be UTF-8 text, by file name.
TEXT_RECORDS = {
    "cmd.txt": "command line",
    ".alias_of": "alias marker",
    "report.html": "run report",
}
#: Lock files (content irrelevant): ``.lock`` and ``<file>.lock``.
LOCK_SUFFIX = ".lock"
#: The folder beside ``run_manifest.json`` holding one JSON file per stage record.
MANIFEST_RECORDS_DIR = "run_manifest.d"
_STAGE_RECORD = "run manifest stage record"


def record_kind(path: str | os.PathLike) -> str | None:
    """What holopipe record ``path`` is by its name, or ``None`` if it is not one."""
    path = path if isinstance(path, Path) else Path(path)  # asked of every file: no copy
    name = path.name
    if name in JSON_RECORDS:
        return JSON_RECORDS[name]
    if name in TEXT_RECORDS:
        return TEXT_RECORDS[name]
    if name.endswith(LOCK_SUFFIX):
        return "lock file"
    if path.parent.name == "logs" and name.endswith(".log"):
        return "stage log"
    if path.parent.name == MANIFEST_RECORDS_DIR and name.endswith(".json"):
        return _STAGE_RECORD
    return None


#: What holopipe leaves in a run folder while it works, or after an interruption, under a
#: hidden name: never an artifact, never searched (the next command of the experiment that
#: takes its lock removes or restores it). Names as :mod:`holopipe.run.layout` writes them.
_WORK_ENTRIES = (
    (
        re.compile(r"^\.(\d{2}[a-z]?_[a-z0-9_]+(?:\.failed)?)\.partial$"),
        "work folder of stage {} (running, or interrupted)",
    ),
    (
        re.compile(r"^\.(\d{2}[a-z]?_[a-z0-9_]+(?:\.failed)?)\.old$"),
        "previous folder of stage {} (being replaced, or interrupted)",
    ),
    (re.compile(r"^\.(.+)\.[A-Za-z0-9_]{8}\.tmp$"), "temporary file of a write of {} (atomic)"),
    (re.compile(r"^\.(.+)\.alias-tmp$"), "staging link of the alias {}"),
    (
        re.compile(r"^\.(trash)$"),
        "{}: replaced stage folders being removed (while a command runs, or interrupted)",
    ),
)


def hidden_entry(name: str) -> str:
    """Why a hidden entry (a name starting with a dot, not a record) is not searched.

    Examples
    --------
    >>> hidden_entry(".02_emergent_geometry_engine.partial")
    "holopipe's work folder of stage 02_emergent_geometry_engine (running, or interrupted): \
not searched"
    >>> hidden_entry(".trash")
    "holopipe's trash: replaced stage folders being removed (while a command runs, or \
interrupted): not searched"
    >>> hidden_entry(".DS_Store")
    'a hidden entry: not searched (name it on the command line to validate it)'
    """
    for pattern, words in _WORK_ENTRIES:
        match = pattern.match(name)
        if match:
            return f"holopipe's {words.format(match.group(1))}: not searched"
    return "a hidden entry: not searched (name it on the command line to validate it)"


def validate_record(path: str | os.PathLike) -> ValidationReport:
    """Check a record for what it must be; ``schema`` names the kind (``holopipe record: ...``)."""
    path = Path(path)
    kind = record_kind(path)
    report = ValidationReport(str(path), f"holopipe record: {kind}")
    is_json = path.name in JSON_RECORDS or kind == _STAGE_RECORD
    if not (is_json or path.name in TEXT_RECORDS):
        return report
    try:  # a text record is read by the same reader, its document its text
        document = read_json_document(path, report, None if is_json else read_text_bounded)
    except UnsafeFile as exc:
        exc.record(report)
    except OSError as exc:
        report.error("unreadable", "<file>", f"cannot read: {exc}")
    except DocumentUnreadable:
        pass  # the finding is in the report
    else:
        if is_json and not isinstance(document, dict):
            report.error("wrong_type", "<root>", "expected a JSON object")
    return report
