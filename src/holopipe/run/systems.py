"""One system of a finished run, in one call, whatever the artifact's layout.

Stages 01 and 02 write one file per system (``sandbox/<name>.nc``,
``predictions/<name>_geometry.npz``); stages 03-09 write one artifact holding every
system (``bulk_equations.json``, the eigenmodes CSV, the dictionary, the atlas...). A
notebook asks for a system the same way in both cases:

.. code-block:: python

    from holopipe.run import open_system

    g = open_system("runs/toy", "predictions", "ads_d2_000")       # a GeometryPrediction
    eq = open_system("runs/toy", "bulk_equations", "ads_d2_000")   # {"systems": [...]}

Files are found through ``run_manifest.json`` (the alias's producer and its recorded
outputs), never by globbing, and read validated.
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.records import FileRecord
from holopipe.artifacts.registry import get_type
from holopipe.run.layout import RunLayout
from holopipe.run.manifest import ManifestStore

__all__ = ["open_system"]

# system_id = "<name>-<12 hex digits>" (holopipe.artifacts.identity.system_id)
_ID = re.compile(r"^(?P<name>.+)-[0-9a-f]{12}$")


def _is(system: str, system_id: str, system_name: str | None = None) -> bool:
    match = _ID.match(system_id)
    return system in (system_id, system_name, match["name"] if match else None)


def _alias_outputs(root: Path, alias: str) -> list[FileRecord]:
    layout = RunLayout.create(root.parent, root.name)
    store = ManifestStore(layout)
    index = store.index()
    if index is None:
        raise FileNotFoundError(f"{root}: no run_manifest.json (not a holopipe run)")
    if alias not in index.aliases:
        known = ", ".join(sorted(index.aliases)) or "none"
        raise KeyError(f"{root.name} has no artifact {alias!r} (its aliases: {known})")
    producer = index.aliases[alias].split("/", 1)[0]
    record = store.load_stages([producer]).stages[producer]
    return [entry for entry in record.outputs if entry.name == alias]


def _own_system(artifact: Any) -> tuple[str, str | None] | None:
    """``(system_id, system_name)`` of an artifact of one system (its ``meta`` names it)."""
    meta = getattr(artifact, "meta", None)
    system_id = getattr(meta, "system_id", None)
    return (system_id, getattr(meta, "system_name", None)) if system_id else None


def _items_of(value: Any, system: str, where: str, found: dict[str, list[Any]]) -> None:
    """Every list of ``value`` (an attrs object, nested ones too) holding per-system items
    (attrs objects with a ``system_id``): the items of ``system``, by field path."""
    for field in attrs.fields(type(value)):
        item = getattr(value, field.name)
        path = f"{where}{field.name}"
        if attrs.has(type(item)):
            _items_of(item, system, f"{path}.", found)
        elif isinstance(item, list) and item and hasattr(item[0], "system_id"):
            found[path] = [i for i in item if _is(system, i.system_id)]


def open_system(run_dir: str | PathLike[str], alias: str, system: str) -> Any:
    """System ``system`` (its ``system_id``, or its name: ``ads_d2_000``) of the artifact
    ``alias`` of the run in ``run_dir``, read and validated.

    Returns
    -------
    For an alias of one file per system (``sandbox``, ``predictions``): that system's
    artifact (a ``SandboxGeometry``, a ``GeometryPrediction``; ``.to_xarray()`` for the
    xarray view). For an artifact holding every system (``bulk_equations`` ... ``atlas``):
    a dict from each of its per-system lists (e.g. ``"systems"``, ``"rows"``,
    ``"meta.systems"``) to that system's items in it.

    Raises
    ------
    KeyError
        The run has no such alias, or the artifact no such system (the message says which).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     try:
    ...         open_system(tmp, "predictions", "ads_d2_000")
    ...     except FileNotFoundError as exc:
    ...         print("not a holopipe run" in str(exc))
    True
    """
    root = Path(run_dir)
    entries = _alias_outputs(root, alias)
    cls = {e.schema: get_type(e.schema) for e in entries}
    primaries = [e for e in entries if cls[e.schema].primary_of(root / e.path) is None]
    match = _ID.match(system)
    name = match["name"] if match else system
    likely = [e for e in primaries if Path(e.path).name.startswith(name)]
    per_system_lists = False
    for entry in likely + [e for e in primaries if e not in likely]:
        artifact = cls[entry.schema].read(root / entry.path)
        own = _own_system(artifact)
        if own is not None:  # an artifact of one system
            if _is(system, *own):
                return artifact
            continue
        found: dict[str, list[Any]] = {}
        _items_of(artifact, system, "", found)
        per_system_lists = per_system_lists or bool(found)
        if any(found.values()):
            return found
    if primaries and not per_system_lists and own is None:
        raise KeyError(f"{alias} of {root.name} holds no per-system entries")
    raise KeyError(f"{alias} of {root.name} has no system {system!r}")
