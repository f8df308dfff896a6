"""The physics plots of the last report, reused while what they drew is unchanged.

Drawing the plots is most of a report's cost (matplotlib, scipy's Bessel zeros, reading every
plotted artifact), and a no-op ``holopipe run`` rewrites the report only for its new verdict
and times. The physics section is therefore written between two markers in ``report.html``,
the first holding a key: a sha256 over the plot code, the installed matplotlib, every file the
plots read (its recorded sha256 and its current stat signature: size, mtime_ns, ctime_ns,
inode, as the up-to-date check trusts them) and the stage metrics they show. The next report
with the same key copies the section instead of drawing it again; any change draws anew.

Examples
--------
>>> block = physics_block("ab12", "<p>plots</p>", ["a -- note"])
>>> cached_physics(block, "ab12")
('<p>plots</p>', ['a -- note'])
>>> cached_physics(block, "other") is None
True
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from holopipe.artifacts.records import stat_signature

__all__ = ["cached_physics", "physics_block", "plots_key", "read_previous"]

_START = "<!-- holopipe:physics "
_END = "<!-- /holopipe:physics -->"
#: The sources whose code decides what the plots look like.
_PLOT_CODE = ("collect.py", "plots.py", "plot_cache.py")


def plots_key(view: Any, schemas: tuple[str, ...]) -> str:
    """The key of the plots ``view`` would draw from the artifacts of ``schemas``."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _PLOT_CODE:
        digest.update((here / name).read_bytes())
    # Which matplotlib draws: its package file's place and stat signature (a reinstall or an
    # upgrade rewrites it), found without importing matplotlib or reading its metadata.
    spec = importlib.util.find_spec("matplotlib")
    origin = spec.origin if spec is not None else None
    facts: list[Any] = [origin, stat_signature(Path(origin)) if origin else None]
    for schema in schemas:
        chosen, total = view.plotted(schema)
        facts.append([schema, total])
        facts += [
            [key, record.path, record.sha256, stat_signature(path)] for key, path, record in chosen
        ]
    facts += [[key, summary.metrics] for key, summary in sorted(view.summaries.items())]
    digest.update(json.dumps(facts, sort_keys=True, default=repr).encode())
    return digest.hexdigest()


def physics_block(key: str, html: str, left_out: list[str]) -> str:
    """The physics section's HTML between the markers, ``left_out`` kept in the first."""
    head = json.dumps({"key": key, "left_out": left_out}, ensure_ascii=True)
    # An HTML comment may not hold "--" or ">": both are written as JSON escapes.
    head = head.replace("-", "\\u002d").replace(">", "\\u003e")
    return f"{_START}{head} -->{html}{_END}"


def cached_physics(page: str, key: str) -> tuple[str, list[str]] | None:
    """The physics HTML and left-out notes of ``page`` when its key is ``key``, else ``None``."""
    start = page.find(_START)
    if start < 0:
        return None
    head_end = page.find(" -->", start + len(_START))
    end = page.find(_END, head_end)
    if head_end < 0 or end < 0:
        return None
    try:
        head = json.loads(page[start + len(_START) : head_end])
    except ValueError:
        return None
    if not isinstance(head, dict) or head.get("key") != key:
        return None
    left_out = head.get("left_out")
    if not (isinstance(left_out, list) and all(isinstance(n, str) for n in left_out)):
        return None
    return page[head_end + len(" -->") : end], left_out


def read_previous(path: Path) -> str:
    """The report at ``path`` as text, or ``""`` when there is none to reuse."""
    from holopipe.artifacts.safety import read_text_bounded

    try:
        return read_text_bounded(path)
    except (OSError, ValueError):  # missing, not a regular file, too large, not UTF-8
        return ""
