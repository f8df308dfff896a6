"""Schema versions: comparison and registered migrations from older versions.

A reader accepts its own version, upgrades an older one through the chain of registered
migrations, and refuses a newer one (written by a newer holopipe) with a clear message.

Examples
--------
>>> parse_version("0.10") > parse_version("0.9")
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from holopipe.artifacts.report import ValidationReport

__all__ = ["Migration", "parse_version", "register_migration", "upgrade_document"]

Migration = Callable[[dict[str, Any]], dict[str, Any]]

# (schema_name, from_version) -> (to_version, function)
_MIGRATIONS: dict[tuple[str, str], tuple[str, Migration]] = {}


def parse_version(text: str) -> tuple[int, ...]:
    """``"0.1"`` -> ``(0, 1)``; raises ``ValueError`` on anything else."""
    parts = str(text).split(".")
    if not all(p.isdigit() for p in parts):
        raise ValueError(f"schema version {text!r} is not of the form MAJOR.MINOR")
    return tuple(int(p) for p in parts)


def register_migration(schema_name: str, from_version: str, to_version: str) -> Callable:
    """Decorator registering ``fn(document) -> document`` from one version to the next.

    Examples
    --------
    >>> @register_migration("Example", "0.0", "0.1")
    ... def _rename_zh(doc):
    ...     doc = dict(doc)
    ...     doc["z_h"] = doc.pop("zh")
    ...     return doc
    """

    def decorate(fn: Migration) -> Migration:
        _MIGRATIONS[(schema_name, from_version)] = (to_version, fn)
        return fn

    return decorate


def upgrade_document(
    schema_name: str,
    version: Any,
    current: str,
    document: dict[str, Any],
    report: ValidationReport,
    where: str,
) -> dict[str, Any] | None:
    """Bring ``document`` from ``version`` to ``current``; ``None`` (with a finding) if not."""
    try:
        found = parse_version(version)
    except ValueError as exc:
        report.error("bad_schema_version", where, str(exc))
        return None
    if found == parse_version(current):
        return document
    if found > parse_version(current):
        report.error(
            "newer_schema_version",
            where,
            f"{schema_name} version {version} is newer than this holopipe supports ({current}); "
            "upgrade holopipe to read it",
        )
        return None
    step = str(version)
    while step != current:
        if (schema_name, step) not in _MIGRATIONS:
            report.error(
                "unknown_schema_version",
                where,
                f"{schema_name} version {step} is not known and has no migration to {current}",
            )
            return None
        step, migrate = _MIGRATIONS[(schema_name, step)]
        document = migrate(document)
    report.warning("migrated", where, f"upgraded {schema_name} from version {version} to {current}")
    return document
