"""Reference CFT data: scaling dimensions of real theories, shipped as package data files.

One JSON file per theory in ``holopipe/data/cft/<theory>.json``, never constants in code. A
file holds the theory name, d, and per operator its dimension with a one-sigma uncertainty,
the branch a bulk scalar dual to it needs (``quantisation``: ``-`` below d/2, ``+`` above),
a citation (arXiv id, authors, title, year, the table or equation), a ``verification``
note saying how the value was checked, and ``confirmed``: true only where the value was read
at its source (the paper, or its own abstract); a value found only in secondary texts is
``false`` (the default when the field is absent) and stage 09 says so in a note.
:func:`reference_table` reads and checks a file; a bad file is one :class:`CFTDataError`
naming the file, the field and the problem.

Examples
--------
>>> table = reference_table("ising3d")
>>> table.d, [op.name for op in table.operators]
(3, ['sigma', 'epsilon', 'epsilon_prime'])
>>> table.operator("sigma").Delta, table.operator("sigma").citation.arxiv
(0.5181489, '1603.04436')
>>> table.operator("sigma").confirmed, table.operator("epsilon_prime").confirmed
(True, False)
>>> "ising3d" in available_theories()
True
"""

from __future__ import annotations

import json
import math
import re
import stat
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = [
    "CFTDataError",
    "CFTTable",
    "Citation",
    "MAX_TABLE_BYTES",
    "ReferenceOperator",
    "available_theories",
    "load_table",
    "reference_table",
]

#: Largest reference table read (the shipped ones are a few kB).
MAX_TABLE_BYTES = 1024 * 1024

_THEORY_NAME = re.compile(r"^[a-z0-9_]+$")
_ARXIV = re.compile(r"^\d{4}\.\d{4,5}$")


class CFTDataError(ValueError):
    """A reference table is missing or malformed (the message names file and field)."""


@attrs.frozen
class Citation:
    arxiv: str
    authors: str
    title: str
    year: int
    location: str

    def __str__(self) -> str:
        return f"{self.authors} ({self.year}), arXiv:{self.arxiv}, {self.location}"


@attrs.frozen
class ReferenceOperator:
    name: str
    spin: int
    charge: str
    Delta: float
    Delta_err: float
    quantisation: Literal["+", "-"]
    citation: Citation
    verification: str
    confirmed: bool = False


@attrs.frozen
class CFTTable:
    theory: str
    title: str
    d: int
    operators: tuple[ReferenceOperator, ...]
    notes: str
    source: str

    def operator(self, name: str) -> ReferenceOperator | None:
        """The operator called ``name``, or None."""
        return next((op for op in self.operators if op.name == name), None)


def _files() -> Any:
    return resources.files("holopipe.data").joinpath("cft")


def available_theories() -> list[str]:
    """Names of the shipped tables (file stems), sorted."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in _files().iterdir()
        if entry.name.endswith(".json")
    )


def reference_table(theory: str) -> CFTTable:
    """The shipped table of ``theory`` (raises CFTDataError if there is none or it is bad)."""
    if not isinstance(theory, str) or not _THEORY_NAME.match(theory):
        raise CFTDataError(f"theory name {theory!r} must match [a-z0-9_]+")
    entry = _files().joinpath(f"{theory}.json")
    if not entry.is_file():
        known = ", ".join(available_theories()) or "none"
        raise CFTDataError(f"no reference table for theory {theory!r} (shipped: {known})")
    return _parse(entry.read_text(encoding="utf-8"), f"holopipe/data/cft/{theory}.json", theory)


def load_table(path: str | Path) -> CFTTable:
    """A table from any file (same format and checks as the shipped ones).

    Only a regular file of at most :data:`MAX_TABLE_BYTES` is opened (a FIFO or a device
    would block, a huge file would fill memory); either is a CFTDataError.
    """
    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise CFTDataError(f"{path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CFTDataError(f"{path}: not a regular file")
    if info.st_size > MAX_TABLE_BYTES:
        raise CFTDataError(
            f"{path}: {info.st_size} bytes, more than the {MAX_TABLE_BYTES} of a reference table"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CFTDataError(f"{path}: cannot read: {exc}") from None
    return _parse(text, str(path), path.name.removesuffix(".json"))


def _field(doc: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in doc:
        raise CFTDataError(f"{where}.{key}: required field is missing")
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise CFTDataError(f"{where}.{key}: expected {kind}, got {value!r}")
    return value


def _confirmed(raw: dict, where: str) -> bool:
    """``confirmed`` (optional, false when absent: a value is unconfirmed until checked)."""
    value = raw.get("confirmed", False)
    if not isinstance(value, bool):
        raise CFTDataError(f"{where}.confirmed: expected true or false, got {value!r}")
    return value


def _parse(text: str, source: str, stem: str) -> CFTTable:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CFTDataError(f"{source}: not JSON: {exc}") from None
    except RecursionError:
        raise CFTDataError(f"{source}: nested too deeply to be a reference table") from None
    if not isinstance(doc, dict):
        raise CFTDataError(f"{source}: expected a JSON object")
    theory = _field(doc, "theory", str, source)
    if theory != stem:
        raise CFTDataError(f"{source}.theory: {theory!r} differs from the file name {stem!r}")
    d = _field(doc, "d", int, source)
    if d < 2:
        raise CFTDataError(f"{source}.d: must be >= 2, got {d}")
    raw_ops = _field(doc, "operators", list, source)
    if not raw_ops:
        raise CFTDataError(f"{source}.operators: empty")
    operators = []
    for i, raw in enumerate(raw_ops):
        where = f"{source}.operators[{i}]"
        if not isinstance(raw, dict):
            raise CFTDataError(f"{where}: expected an object")
        delta = float(_field(raw, "Delta", (int, float), where))
        err = float(_field(raw, "Delta_err", (int, float), where))
        if not (math.isfinite(delta) and delta > 0):
            raise CFTDataError(f"{where}.Delta: must be positive and finite, got {delta!r}")
        if not (math.isfinite(err) and err > 0):
            raise CFTDataError(f"{where}.Delta_err: every value needs an uncertainty > 0")
        quantisation = _field(raw, "quantisation", str, where)
        if quantisation not in ("+", "-"):
            raise CFTDataError(f"{where}.quantisation: '+' or '-', got {quantisation!r}")
        cite = _field(raw, "citation", dict, where)
        arxiv = _field(cite, "arxiv", str, f"{where}.citation")
        if not _ARXIV.match(arxiv):
            raise CFTDataError(f"{where}.citation.arxiv: not an arXiv id: {arxiv!r}")
        citation = Citation(
            arxiv=arxiv,
            authors=_field(cite, "authors", str, f"{where}.citation"),
            title=_field(cite, "title", str, f"{where}.citation"),
            year=_field(cite, "year", int, f"{where}.citation"),
            location=_field(cite, "location", str, f"{where}.citation"),
        )
        operators.append(
            ReferenceOperator(
                name=_field(raw, "name", str, where),
                spin=_field(raw, "spin", int, where),
                charge=_field(raw, "charge", str, where),
                Delta=delta,
                Delta_err=err,
                quantisation=quantisation,
                citation=citation,
                verification=_field(raw, "verification", str, where),
                confirmed=_confirmed(raw, where),
            )
        )
    names = [op.name for op in operators]
    if len(set(names)) != len(names):
        raise CFTDataError(f"{source}.operators: repeated names {names}")
    return CFTTable(
        theory=theory,
        title=_field(doc, "title", str, source),
        d=d,
        operators=tuple(operators),
        notes=_field(doc, "notes", str, source),
        source=source,
    )
