"""References from legacy JSON documents to other files, and which of them are dangling.

Legacy manifests and summaries name other files (``geometries[].file``, ``output_file``,
``geometry_dir``, ...) with relative paths whose base varies: the document's own folder,
the legacy root, or the repository the pipeline ran in (taken as the root's parent). A
reference is dangling when it exists under none of these bases.

Examples
--------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "a.h5").write_bytes(b"")
>>> doc = {"geometries": [{"file": "a.h5"}, {"file": "gone.h5"}]}
>>> [f.location for f in dangling_references(doc, "manifest.json", root, {})]
['gone.h5']
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from holopipe.artifacts.report import Finding

__all__ = ["MAX_REFERENCES", "dangling_references", "references_in"]

#: References checked per document (bounded work on huge documents).
MAX_REFERENCES = 10_000
_FILE_LIKE = re.compile(
    r"^[^\s<>|*?\"]{1,512}\.(h5|hdf5|nc|npz|npy|json|jsonl|csv|pt|pth|pkl|pickle|png|pdf|txt|log)$",
    re.IGNORECASE,
)
_PATH_KEY = re.compile(r"(^|_)(file|path|dir|folder)s?$")


def references_in(doc: Any) -> Iterator[str]:
    """Strings of ``doc`` that name a file (by extension) or a folder (by their key)."""
    stack: list[tuple[str | None, Any]] = [(None, doc)]
    found = 0
    while stack and found < MAX_REFERENCES:
        key, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((str(k), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((key, v) for v in reversed(node))
        elif isinstance(node, str) and node and "://" not in node:
            if _FILE_LIKE.match(node) or (
                key
                and _PATH_KEY.search(key)
                and "/" in node
                or key
                and _PATH_KEY.search(key)
                and node.endswith("_dir")
            ):
                found += 1
                yield node


def dangling_references(
    doc: Any, rel: str, root: Path, known: dict[bytes, Any]
) -> Iterator[Finding]:
    """A ``dangling_reference`` finding per reference found under no base."""
    folder = os.path.dirname(rel)
    bases = [
        os.path.join(os.fspath(root), folder),
        os.fspath(root),
        os.path.dirname(os.path.abspath(root)),
    ]
    seen: set[str] = set()
    for ref in references_in(doc):
        if ref in seen:
            continue
        seen.add(ref)
        inside = os.path.normpath(os.path.join(folder, ref))
        if os.fsencode(inside) in known:
            continue
        if os.path.isabs(ref):
            candidates = [ref]
        else:
            candidates = [os.path.join(base, ref) for base in bases]
        if not any(os.path.lexists(c) for c in candidates):
            yield Finding(
                "dangling_reference",
                ref,
                "referenced but missing (looked in the document's folder, the legacy root "
                "and its parent)",
                "warning",
            )
