"""EigenmodesDataset: scalar eigenmodes of the bulk geometries (output of stage 06).

Two files: ``<stem>.csv`` with one row per mode and ``<stem>.meta.json`` beside it (the
schema header and :class:`EigenmodesMeta`). The CSV has a fixed column order (the fields of
:class:`EigenmodeRow`), ``"\\n"`` line endings, floats written with ``repr`` (they read back
exactly) and rows sorted by ``(system_id, m2, mode_id, branch)`` (ties broken by the other
columns), so the same dataset always gives the same bytes.

``m2`` is the bulk mass squared, an *input* of the bulk problem; ``M2`` are the boundary
masses squared found by the solver (units L = 1). Every row carries its system's family, d and
``z_h`` (nan at T = 0), and the meta lists them once per system (``systems``), so the geometry
metadata reach the consumers of the dataset (schema 0.2; a 0.1 file, without ``z_h``, is
migrated on reading with ``z_h`` unknown). A dataset converted from another source (a
legacy import) says where it comes from and what the conversion assumed in the meta's
``provenance`` (:class:`ConversionProvenance`; schema 0.3, null for datasets computed by
stage 06; a 0.2 file is migrated with ``provenance`` null). A negative ``Delta`` in a row
whose quality is ``"ok"`` is a solver bug (PHYSICS.md), never data: the validator rejects
it, while rows flagged with another quality are kept and counted in a warning.

Examples
--------
>>> import tempfile, pathlib
>>> ds = EigenmodesDataset.example()
>>> path = ds.write(pathlib.Path(tempfile.mkdtemp()) / "bulk_modes.csv")
>>> [p.name for p in EigenmodesDataset.files(path)]
['bulk_modes.csv', 'bulk_modes.meta.json']
>>> EigenmodesDataset.read(path) == ds
True
"""

from __future__ import annotations

import csv
import io
import math
import operator
import re
import typing
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import attrs

from holopipe.artifacts.base import Artifact, structure_versioned
from holopipe.artifacts.checks import check_d_against_name, check_family
from holopipe.artifacts.io import JSONDecodeIssue, atomic_write_bytes, dumps_json, loads_json
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.safety import UnsafeFile, read_text_bounded
from holopipe.artifacts.structure import check_structure, converter
from holopipe.artifacts.versions import register_migration

if TYPE_CHECKING:
    from holopipe.artifacts.sniff import Sniffed


__all__ = [
    "COLUMNS",
    "QUALITIES",
    "ConversionProvenance",
    "UNITS",
    "EigenmodeBlock",
    "EigenmodeRow",
    "EigenmodeSystem",
    "EigenmodesDataset",
    "EigenmodesMeta",
]

UNITS = "M2 are boundary masses squared in units L=1; m2 is the bulk mass squared input"

#: The quality flags a row may carry; only ``ok`` rows are data (stage 07 fits only those and
#: counts the others). ``unstable``: solved, but M2 < 0 (the geometry is unstable for that
#: scalar); ``inaccurate``: solved beyond the error tolerances; ``not_applicable``: outside the
#: solver's domain; ``error``: not solved.
QUALITIES: tuple[str, ...] = ("ok", "inaccurate", "unstable", "not_applicable", "error")

#: Findings of one code beyond this many are summarised in one more finding.
MAX_FINDINGS_PER_CODE = 20

_INT = re.compile(r"^[+-]?[0-9]+$")


def _nan_equal_key(value: Any) -> Any:
    # z_h is nan for every T = 0 row: two such rows are equal, and a dataset equals its re-read.
    return "nan" if isinstance(value, float) and math.isnan(value) else value


@attrs.define
class EigenmodeRow:
    """One eigenmode: the field (m2, Delta, branch), the mode, and how it was computed."""

    system_id: str = attrs.field(metadata={"doc": "stable id of the geometry"})
    family: str = attrs.field(metadata={"doc": "ads | lifshitz | hvlf | deformed | unknown"})
    d: int = attrs.field(metadata={"doc": "boundary spacetime dimension (CFT_d)"})
    z_h: float = attrs.field(
        default=math.nan,
        kw_only=True,
        eq=_nan_equal_key,
        metadata={
            "doc": "horizon of the system's geometry; nan for T = 0 (or unknown: version 0.1)"
        },
    )
    m2: float = attrs.field(metadata={"doc": "bulk mass squared (input), units L = 1"})
    Delta: float = attrs.field(metadata={"doc": "scaling dimension read off the UV falloff"})
    branch: Literal["+", "-"] = attrs.field(
        metadata={"doc": "Delta_+ = d/2 + nu or Delta_- = d/2 - nu"}
    )
    mode_id: int = attrs.field(metadata={"doc": "mode number, 0 = lowest"})
    M2: float = attrs.field(metadata={"doc": "boundary mass squared (eigenvalue), units L = 1"})
    quality: str = attrs.field(metadata={"doc": " | ".join(QUALITIES) + "; only ok rows are data"})
    bc_uv: str = attrs.field(metadata={"doc": "boundary condition at the UV end"})
    bc_ir: str = attrs.field(metadata={"doc": "boundary condition at the IR end (or horizon)"})
    z_uv: float = attrs.field(metadata={"doc": "UV end of the interval (0: the boundary)"})
    z_ir: float = attrs.field(metadata={"doc": "IR end of the interval (hard wall or horizon)"})
    n_grid: int = attrs.field(metadata={"doc": "grid points of the discretisation"})
    method: str = attrs.field(metadata={"doc": "solver, e.g. fd_eigh_tridiagonal"})

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickled as its cells and rebuilt by the generated ``__init__``: a stage's workers
        send thousands of rows back to the stage process, and attrs' ``__setstate__`` (one
        Python-level ``setattr`` per field) took twice as long to unpickle them."""
        if type(self) is not EigenmodeRow:  # a subclass may hold more: pickled as attrs does
            return super().__reduce_ex__(protocol)
        return _row_of_cells, _CELLS(self)


def _row_of_cells(system_id: str, family: str, d: int, z_h: float, *rest: Any) -> EigenmodeRow:
    """The row of its cells in column order (``z_h`` is keyword-only in ``__init__``)."""
    return EigenmodeRow(system_id, family, d, *rest, z_h=z_h)


#: The CSV columns, in file order.
COLUMNS: tuple[str, ...] = tuple(f.name for f in attrs.fields(EigenmodeRow))
_TYPES: dict[str, Any] = typing.get_type_hints(EigenmodeRow)


_ORDER = ("system_id", "m2", "mode_id", "branch")
#: Qualities that are physics outcomes, not failures: the solver does not apply to that
#: geometry (``not_applicable``, outputs NaN) or the mode is below zero (``unstable``).
#: Such rows are not data and not problems either: no finding.
_OUTCOMES = ("not_applicable", "unstable")
_ORDER_ALL = _ORDER + tuple(c for c in COLUMNS if c not in _ORDER)


def _cell_order(value: Any) -> tuple:
    # Total over every value a cell can hold: NaN after the numbers, -0.0 before 0.0,
    # and no TypeError on a badly typed cell (validation reports it later).
    if isinstance(value, str):
        return (2, 0.0, value)
    if isinstance(value, (int, float)) and not math.isnan(value):
        return (0, value, repr(value))
    return (1, 0.0, repr(value))


def _row_order(row: EigenmodeRow) -> tuple:
    """``(system_id, m2, mode_id, branch)``, then the other columns: the order is total."""
    return tuple(_cell_order(getattr(row, c)) for c in _ORDER_ALL)


_FIRST = operator.itemgetter(0)


def _primary_order(row: EigenmodeRow) -> tuple | None:
    """``(system_id, m2, repr(m2), mode_id, branch)`` when those four cells have their
    plain types (``m2`` not NaN), else ``None``: on such rows it orders them as the first
    four cells of :func:`_row_order` do, at a fraction of its cost."""
    m2 = row.m2
    if (
        type(row.system_id) is str
        and type(m2) is float
        and m2 == m2
        and type(row.mode_id) is int
        and type(row.branch) is str
    ):
        return (row.system_id, m2, repr(m2), row.mode_id, row.branch)
    return None


def _sorted_rows(rows: Iterable[EigenmodeRow]) -> list[EigenmodeRow]:
    """``rows`` in :func:`_row_order`. Where every row has a plain primary key and no two
    share it (a stage's output), the primary key alone gives that very order."""
    rows = list(rows)
    keys = [_primary_order(row) for row in rows]
    if None not in keys and len(set(keys)) == len(keys):
        return [row for _, row in sorted(zip(keys, rows, strict=True), key=_FIRST)]
    return sorted(rows, key=_row_order)


#: The last version whose CSV has no ``z_h`` column and whose meta has no ``systems``.
_BEFORE_Z_H = "0.1"


@register_migration("EigenmodesDataset", _BEFORE_Z_H, "0.2")
def _add_z_h(doc: dict[str, Any]) -> dict[str, Any]:
    """0.1 -> 0.2: the CSV gains ``z_h`` (read as nan: unknown) and the meta ``systems``
    (filled in from the rows on reading)."""
    doc = dict(doc)
    columns = doc.get("columns")
    if isinstance(columns, list) and "d" in columns:
        at = columns.index("d") + 1
        doc["columns"] = [*columns[:at], "z_h", *columns[at:]]
    doc.setdefault("systems", [])
    return doc


@attrs.define
class EigenmodeSystem:
    """What the dataset knows of one system, whatever its rows say (meta ``systems``)."""

    system_id: str = attrs.field(metadata={"doc": "stable id of the geometry"})
    family: str = attrs.field(metadata={"doc": "ads | lifshitz | hvlf | deformed | unknown"})
    d: int = attrs.field(metadata={"doc": "boundary spacetime dimension (CFT_d)"})
    z_h: float | None = attrs.field(
        default=None, metadata={"doc": "horizon; null for T = 0 (or unknown: version 0.1)"}
    )

    @classmethod
    def of_row(cls, row: EigenmodeRow) -> EigenmodeSystem:
        z_h = None if math.isnan(row.z_h) else row.z_h
        return cls(system_id=row.system_id, family=row.family, d=row.d, z_h=z_h)


def _systems_of(rows: Iterable[EigenmodeRow]) -> list[EigenmodeSystem]:
    """One entry per system id of ``rows`` (the first row of each), sorted by id."""
    first: dict[str, EigenmodeRow] = {}
    for row in rows:
        first.setdefault(row.system_id, row)
    return [EigenmodeSystem.of_row(first[sid]) for sid in sorted(first)]


@attrs.frozen
class EigenmodeBlock:
    """The rows of one system, checked and formatted where they were computed.

    Each system's rows are one contiguous block of a dataset's sorted CSV: a stage builds
    the block of each system in its worker (sorting, the row checks of
    :meth:`EigenmodesDataset.validate` and the CSV lines), and
    :meth:`EigenmodesDataset.from_blocks` joins them, so the stage process neither checks
    nor formats a row again. A block whose rows raise any finding is not ``clean``: the
    dataset then checks every row itself, with the findings' row numbers of the whole file.
    The block is a snapshot: rows changed after it was built are noticed (their objects
    are compared with the block's) only if replaced, so build it from finished rows.

    Examples
    --------
    >>> rows = EigenmodesDataset.example().rows
    >>> block = EigenmodeBlock.of_rows(rows)
    >>> block.clean, block.system_id, block.csv.count("\\n")
    (True, 'ads_d3_hardwall-000000000000', 4)
    >>> EigenmodesDataset.from_blocks([block], "example", "0000000").to_csv() == (
    ...     EigenmodesDataset.from_rows(rows, "example", "0000000").to_csv())
    True
    """

    system_id: str
    rows: tuple[EigenmodeRow, ...] = attrs.field(
        metadata={"doc": "in the dataset's order (system_id, m2, mode_id, branch)"}
    )
    csv: str = attrs.field(metadata={"doc": "the rows' CSV lines, each ending with a newline"})
    clean: bool = attrs.field(
        metadata={"doc": "every row well typed and without any finding of the row checks"}
    )

    @classmethod
    def of_rows(cls, rows: Iterable[EigenmodeRow]) -> Self:
        """The block of ``rows``, which must all belong to one system (a ValueError if not)."""
        rows = tuple(_sorted_rows(rows))
        ids = {row.system_id for row in rows}
        if len(ids) != 1:
            raise ValueError(f"a block holds the rows of one system, got {len(ids)}: {ids}")
        return cls(rows[0].system_id, rows, _csv_lines(rows), _rows_clean(rows))


def _rows_clean(rows: tuple[EigenmodeRow, ...]) -> bool:
    """Whether the row checks of :meth:`EigenmodesDataset.validate` find nothing in the rows
    of one system: each row well typed and passing :func:`_check_row`, one ``z_h`` for all."""
    if not all(_well_typed(row) for row in rows):
        return False
    report = ValidationReport()
    capped = _CappedFindings(report)
    for i, row in enumerate(rows):
        _check_row(row, f"rows[{i}]", capped)
    z_h = EigenmodeSystem.of_row(rows[0]).z_h
    same_z_h = all(EigenmodeSystem.of_row(row).z_h == z_h for row in rows)
    return same_z_h and not report.findings


#: The last version without the meta's ``provenance``.
_BEFORE_PROVENANCE = "0.2"


@register_migration("EigenmodesDataset", _BEFORE_PROVENANCE, "0.3")
def _add_provenance(doc: dict[str, Any]) -> dict[str, Any]:
    """0.2 -> 0.3: the meta gains ``provenance``, null (computed, not converted)."""
    return {**doc, "provenance": doc.get("provenance")}


_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def _nonempty_text(instance: object, attribute: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name}: expected a non-empty string, got {value!r}")


def _sha256_hex(instance: object, attribute: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str) or not _SHA256_HEX.match(value):
        raise ValueError(
            f"{attribute.name}: expected a sha256 (64 lowercase hex digits), got {value!r:.80}"
        )


def _text_list(instance: object, attribute: attrs.Attribute, value: list[str]) -> None:
    if not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
        raise ValueError(f"{attribute.name}: expected a list of non-empty strings")


def _text_map(instance: object, attribute: attrs.Attribute, value: dict[str, str]) -> None:
    if not (
        isinstance(value, dict)
        and all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items())
    ):
        raise ValueError(f"{attribute.name}: expected an object of non-empty strings")


def _known_columns(instance: object, attribute: attrs.Attribute, value: dict[str, str]) -> None:
    _text_map(instance, attribute, value)
    unknown = sorted(set(value) - set(COLUMNS))
    if unknown:
        raise ValueError(f"{attribute.name}: not columns of the dataset: {unknown}")


@attrs.define
class ConversionProvenance:
    """Where a converted dataset comes from and what the conversion had to assume.

    Examples
    --------
    >>> p = ConversionProvenance(
    ...     source_path="fase11/bulk_modes_dataset.json", source_sha256="0" * 64,
    ...     source_kind="eigenmodes_json", converter="holopipe.legacy.convert_eigenmodes v2",
    ...     solver="bulk_sl_solver_v2", inferred={"m2": "Delta (Delta - d), branch +"})
    >>> p.inferred["m2"]
    'Delta (Delta - d), branch +'
    >>> ConversionProvenance("x.json", "abc", "eigenmodes_json", "c", "s")
    Traceback (most recent call last):
    ...
    ValueError: source_sha256: expected a sha256 (64 lowercase hex digits), got 'abc'
    """

    source_path: str = attrs.field(
        validator=_nonempty_text,
        metadata={"doc": "the converted file, relative to the legacy root it was imported from"},
    )
    source_sha256: str = attrs.field(
        validator=_sha256_hex, metadata={"doc": "sha256 of that file's bytes"}
    )
    source_kind: str = attrs.field(
        validator=_nonempty_text, metadata={"doc": "what the file is, e.g. eigenmodes_json"}
    )
    converter: str = attrs.field(
        validator=_nonempty_text, metadata={"doc": "the conversion and its version"}
    )
    solver: str = attrs.field(
        validator=_nonempty_text,
        metadata={"doc": "the solver that computed the source's numbers ('unknown' if unrecorded)"},
    )
    inferred: dict[str, str] = attrs.field(
        factory=dict,
        validator=_known_columns,
        metadata={"doc": "column -> how its values were inferred (not stored in the source)"},
    )
    assumptions: list[str] = attrs.field(
        factory=list, validator=_text_list, metadata={"doc": "every other assumption, in words"}
    )
    bound_sandboxes: dict[str, str] = attrs.field(
        factory=dict,
        validator=_text_map,
        metadata={"doc": "system_id -> the sandbox file its family, d and z_h were taken from"},
    )
    findings: list[str] = attrs.field(
        factory=list,
        validator=_text_list,
        metadata={"doc": "codes of the conversion's findings (details: the import report)"},
    )


@attrs.define
class EigenmodesMeta:
    """The sidecar ``<stem>.meta.json`` (besides the schema header)."""

    source_stage: str = attrs.field(
        metadata={"doc": "stage that produced it, e.g. 06_bulk_eigenmodes"}
    )
    git_sha: str = attrs.field(metadata={"doc": "code version that produced it"})
    n_rows: int = attrs.field(metadata={"doc": "number of CSV data rows"})
    columns: list[str] = attrs.field(
        factory=lambda: list(COLUMNS), metadata={"doc": "CSV header, in order"}
    )
    units: str = attrs.field(default=UNITS, metadata={"doc": "units note"})
    systems: list[EigenmodeSystem] = attrs.field(
        factory=list,
        metadata={"doc": "family, d and z_h of every system in the rows, sorted by system_id"},
    )
    provenance: ConversionProvenance | None = attrs.field(
        default=None,
        metadata={"doc": "origin and assumptions of a converted dataset; null when computed"},
    )


class _CappedFindings:
    """Records findings, at most ``MAX_FINDINGS_PER_CODE`` per code, then one summary each."""

    def __init__(self, report: ValidationReport):
        self.report = report
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, severity: str, code: str, where: str, message: str) -> None:
        self.counts[(severity, code)] += 1
        if self.counts[(severity, code)] <= MAX_FINDINGS_PER_CODE:
            getattr(self.report, severity)(code, where, message)

    def close(self) -> None:
        for (severity, code), n in sorted(self.counts.items()):
            if n > MAX_FINDINGS_PER_CODE:
                more = n - MAX_FINDINGS_PER_CODE
                getattr(self.report, severity)(
                    code, "rows", f"... and {more} more rows with this problem"
                )


@attrs.define
class EigenmodesDataset(Artifact):
    """Eigenmodes of many systems: CSV rows plus a meta JSON sidecar."""

    SCHEMA_NAME: ClassVar[str] = "EigenmodesDataset"
    SCHEMA_VERSION: ClassVar[str] = "0.3"
    FORMAT: ClassVar[str] = "csv"
    CONTAINERS: ClassVar[tuple[str, ...]] = ("csv",)
    SUFFIXES: ClassVar[tuple[str, ...]] = (".csv",)
    HAS_SIDECARS: ClassVar[bool] = True

    rows: list[EigenmodeRow] = attrs.field(
        converter=_sorted_rows, metadata={"doc": "sorted by (system_id, m2, mode_id, branch)"}
    )
    meta: EigenmodesMeta = attrs.field(metadata={"doc": "stored as <stem>.meta.json"})

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[EigenmodeRow],
        source_stage: str,
        git_sha: str,
        provenance: ConversionProvenance | None = None,
    ) -> Self:
        """A dataset whose meta (row count, columns, units) is filled in from ``rows``."""
        rows = list(rows)
        meta = EigenmodesMeta(
            source_stage=source_stage,
            git_sha=git_sha,
            n_rows=len(rows),
            systems=_systems_of(rows),
            provenance=provenance,
        )
        return cls(rows=rows, meta=meta)

    @classmethod
    def from_blocks(
        cls,
        blocks: Iterable[EigenmodeBlock],
        source_stage: str,
        git_sha: str,
        provenance: ConversionProvenance | None = None,
    ) -> Self:
        """The dataset of the systems' :class:`EigenmodeBlock` s: the same dataset as
        :meth:`from_rows` of all their rows, whose validation and CSV reuse the blocks'
        checks and lines (when every block is ``clean`` and no two share a system)."""
        blocks = sorted(blocks, key=operator.attrgetter("system_id"))
        dataset = cls.from_rows(
            [row for block in blocks for row in block.rows], source_stage, git_sha, provenance
        )
        ids = [block.system_id for block in blocks]
        if all(block.clean for block in blocks) and len(set(ids)) == len(ids):
            # Not a field: how this object was built, not content (no copy, pickle or
            # evolve carries it, equality ignores it).
            dataset._joined_blocks = tuple(blocks)
        return dataset

    def _clean_blocks(self) -> tuple[EigenmodeBlock, ...] | None:
        """The blocks this dataset was built from while its rows are still theirs, or None."""
        blocks = getattr(self, "_joined_blocks", None)
        if blocks is None:
            return None
        rows = self.rows
        if len(rows) != sum(len(block.rows) for block in blocks):
            return None
        theirs = (row for block in blocks for row in block.rows)
        return blocks if all(a is b for a, b in zip(rows, theirs, strict=True)) else None

    @staticmethod
    def meta_path(path: str | Path) -> Path:
        """``<stem>.meta.json`` beside ``<stem>.csv``."""
        path = Path(path)
        return path.with_name(path.name.removesuffix(".csv") + ".meta.json")

    @classmethod
    def files(cls, path: str | Path) -> list[Path]:
        return [Path(path), cls.meta_path(path)]

    @classmethod
    def primary_of(cls, sidecar: str | Path) -> Path | None:
        if not str(sidecar).endswith(".meta.json"):  # asked of every file: cheap first
            return None
        sidecar = Path(sidecar)
        return sidecar.with_name(sidecar.name.removesuffix(".meta.json") + ".csv")

    # -- reading ------------------------------------------------------------------------
    @classmethod
    def _declared_schema(cls, path: Path, found: Sniffed) -> str | None:
        """A CSV declares nothing: its meta sidecar does."""
        from holopipe.artifacts.sniff import sniff

        meta = cls.meta_path(path)
        if meta.is_file():
            return sniff(meta).declared_schema
        return None

    @classmethod
    def matches_content(cls, found: Sniffed) -> bool:
        """A CSV without its meta sidecar is ours if at least half of its columns are ours."""
        header = set(found.signature)
        return len(header & set(COLUMNS)) * 2 >= len(COLUMNS)

    @classmethod
    def _load(cls, path: Path, report: ValidationReport) -> Self | None:
        meta, declared = cls._load_meta(cls.meta_path(path), report)
        if meta is None:
            return None
        before_z_h = declared == _BEFORE_Z_H  # a migrated file: its CSV has no z_h column
        rows = _read_rows(path, report, optional={"z_h"} if before_z_h else set())
        if rows is None:
            return None
        if before_z_h:
            meta.systems = _systems_of(rows)
        if rows != _sorted_rows(rows):
            report.warning(
                "unsorted_rows",
                "rows",
                "rows are not in (system_id, m2, mode_id, branch) order; "
                "row numbers in content findings refer to the sorted order",
            )
        return cls(rows=rows, meta=meta)

    @classmethod
    def _load_meta(
        cls, meta_path: Path, report: ValidationReport
    ) -> tuple[EigenmodesMeta | None, Any]:
        """The structured meta (or None, with the reason) and the version the file declared."""
        if not meta_path.is_file():
            report.error("missing_file", "<meta>", f"meta sidecar {meta_path.name} does not exist")
            return None, None
        try:
            doc = loads_json(read_text_bounded(meta_path))
        except UnsafeFile as exc:
            exc.record(report, "<meta>")
            return None, None
        except UnicodeDecodeError:
            report.error("unreadable", "<meta>", f"{meta_path.name} is not UTF-8 text")
            return None, None
        except JSONDecodeIssue as exc:
            report.error("malformed_json", "<meta>", f"{meta_path.name}: {exc}")
            return None, None
        declared = doc.get("schema_version") if isinstance(doc, dict) else None
        meta = structure_versioned(
            doc, cls.SCHEMA_NAME, cls.SCHEMA_VERSION, EigenmodesMeta, report, "meta", "<meta>"
        )
        return meta, declared

    # -- checking -----------------------------------------------------------------------
    def _check_fields(self, report: ValidationReport) -> None:
        check_structure(EigenmodesMeta, converter.unstructure(self.meta), report, "meta")
        if self._clean_blocks() is not None:  # every row well typed: checked in its block
            return
        capped = _CappedFindings(report)
        for i, row in enumerate(self.rows):
            if _well_typed(row):
                continue
            sub = ValidationReport()
            check_structure(EigenmodeRow, converter.unstructure(row), sub, f"rows[{i}]")
            for f in sub.findings:
                # Finiteness depends on the row's quality flag: _check_row decides it.
                if f.code != "nonfinite":
                    capped.add(f.severity, f.code, f.location, f.message)
        capped.close()

    def _check(self, report: ValidationReport) -> None:
        structural = ValidationReport()
        check_structure(EigenmodesMeta, converter.unstructure(self.meta), structural)
        blocks = self._clean_blocks()
        if not structural.ok or (blocks is None and not all(_well_typed(row) for row in self.rows)):
            return  # _check_fields has recorded why; the rules below need typed values
        meta = self.meta
        if meta.n_rows != len(self.rows):
            report.error(
                "n_rows_mismatch",
                "meta.n_rows",
                f"meta says {meta.n_rows} rows, the CSV has {len(self.rows)}",
            )
        if meta.columns != list(COLUMNS):
            report.error(
                "columns_mismatch", "meta.columns", f"expected {list(COLUMNS)}, got {meta.columns}"
            )
        if blocks is None:
            capped = _CappedFindings(report)
            for i, row in enumerate(self.rows):
                _check_row(row, f"rows[{i}]", capped)
            capped.close()
            _check_systems(self.meta.systems, self.rows, report)
        else:  # the row checks found nothing in any block: one system per block
            _check_systems(self.meta.systems, [block.rows[0] for block in blocks], report)
        flagged = Counter(row.quality for row in self.rows if row.quality not in ("ok", *_OUTCOMES))
        if flagged:
            detail = ", ".join(f"{n} {q!r}" for q, n in sorted(flagged.items()))
            report.warning(
                "flagged_rows",
                "rows",
                f"{sum(flagged.values())} rows are not 'ok' ({detail}); they are not data",
            )

    # -- writing ------------------------------------------------------------------------
    def to_csv(self) -> str:
        """The CSV text: header, then one line per row, ``"\\n"`` endings, ``repr`` floats."""
        blocks = self._clean_blocks()
        if blocks is not None:
            return _HEADER_LINE + "".join(block.csv for block in blocks)
        return _HEADER_LINE + _csv_lines(self.rows)

    def _dump(self, path: Path) -> None:
        header = {"schema_name": self.SCHEMA_NAME, "schema_version": self.SCHEMA_VERSION}
        # The meta goes last: a reader that finds it finds the CSV it describes.
        atomic_write_bytes(path, self.to_csv().encode("utf-8"))
        atomic_write_bytes(
            self.meta_path(path),
            dumps_json({**header, **converter.unstructure(self.meta)}).encode("utf-8"),
        )

    # -- views --------------------------------------------------------------------------
    def to_xarray(self):
        """An ``xarray.Dataset`` with one variable per column on the ``row`` dimension, CF
        ``long_name`` on each (and ``units`` on the numeric ones)."""
        import numpy as np
        import xarray as xr

        data = {
            c: (
                "row",
                np.array([getattr(r, c) for r in self.rows], dtype=_NUMPY_DTYPES.get(c, str)),
            )
            for c in COLUMNS
        }
        meta = converter.unstructure(self.meta)
        meta["columns"] = ",".join(meta["columns"])
        meta["systems"] = dumps_json(meta["systems"])  # attributes hold scalars and strings
        if meta["provenance"] is None:
            del meta["provenance"]
        else:
            meta["provenance"] = dumps_json(meta["provenance"])
        attrs_ = {"schema_name": self.SCHEMA_NAME, "schema_version": self.SCHEMA_VERSION, **meta}
        from holopipe.artifacts.cf import field_docs, with_cf_attributes

        ds = xr.Dataset(data, coords={"row": np.arange(len(self.rows))}, attrs=attrs_)
        return with_cf_attributes(ds, field_docs(EigenmodeRow))

    @classmethod
    def example(cls) -> Self:
        """Hard-wall AdS_4 (d = 3, z_IR = 1) modes for m2 = -2 (both branches) and m2 = 0."""
        common = {
            "system_id": "ads_d3_hardwall-000000000000",
            "family": "ads",
            "d": 3,
            "quality": "ok",
            "bc_uv": "normalisable",
            "bc_ir": "dirichlet",
            "z_uv": 1e-4,
            "z_ir": 1.0,
            "n_grid": 2000,
            "method": "fd_eigh_tridiagonal",
        }
        # M_n z_IR = j_{nu,n}: Bessel zeros for nu = 1/2 and nu = 3/2.
        rows = [
            EigenmodeRow(m2=-2.0, Delta=2.0, branch="+", mode_id=0, M2=9.869604401089358, **common),
            EigenmodeRow(m2=-2.0, Delta=2.0, branch="+", mode_id=1, M2=39.47841760435743, **common),
            EigenmodeRow(
                m2=-2.0, Delta=1.0, branch="-", mode_id=0, M2=2.4674011002723395, **common
            ),
            EigenmodeRow(m2=0.0, Delta=3.0, branch="+", mode_id=0, M2=20.19072855642663, **common),
        ]
        return cls.from_rows(rows, source_stage="example", git_sha="0000000")


_TEXT_COLUMNS = tuple(c for c in COLUMNS if _TYPES[c] not in (int, float))
# A bare carriage return is not quoted by the csv writer and would split the row on reading.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMPY_DTYPES = {
    c: {int: "int64", float: "float64"}[t] for c, t in _TYPES.items() if t in (int, float)
}


def _has_type(value: Any, kind: Any) -> bool:
    if kind is int:
        return type(value) is int
    if kind is float:
        return type(value) in (float, int)
    if kind is str:
        return type(value) is str
    return value in typing.get_args(kind)


_COLUMN_TYPES = tuple(_TYPES[c] for c in COLUMNS)


#: The cells of a row, in column order.
_CELLS = operator.attrgetter(*COLUMNS)
#: The type of each cell of a usual row (a float column holding a float, a Literal a str).
_USUAL_TYPES = tuple(k if k in (int, float, str) else str for k in _COLUMN_TYPES)
#: (position, allowed values) of the Literal columns.
_LITERALS = tuple(
    (i, typing.get_args(k)) for i, k in enumerate(_COLUMN_TYPES) if k not in (int, float, str)
)


def _well_typed(row: EigenmodeRow) -> bool:
    """Fast path of the structure check: every cell of the expected Python type.

    ``check_structure`` costs ~25 us a row; datasets have 10^5 rows, nearly always
    well typed, so it only runs on rows that fail this check (to name the problem). A
    usual row (exact types) is told in one comparison; any other goes cell by cell.
    """
    cells = _CELLS(row)
    if tuple(map(type, cells)) == _USUAL_TYPES:
        return all(cells[i] in allowed for i, allowed in _LITERALS)
    return all(_has_type(v, k) for v, k in zip(cells, _COLUMN_TYPES, strict=True))


def _csv_lines(rows: Iterable[EigenmodeRow]) -> str:
    """The CSV lines of ``rows`` (no header), ``"\\n"`` endings, ``repr`` floats."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(_format_cell(getattr(row, c)) for c in COLUMNS)
    return buffer.getvalue()


_HEADER_LINE = ",".join(COLUMNS) + "\n"  # plain names: the csv writer quotes none of them


def _format_cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _parse_cell(text: str, column: str) -> tuple[Any, str | None]:
    """``(value, None)`` or ``(None, what was expected)``."""
    kind = _TYPES[column]
    if kind is int:
        return (int(text), None) if _INT.match(text) else (None, "an integer")
    if kind is float:
        # float() also takes "1_0" and padded text; the writer never produces them.
        if "_" in text or text != text.strip():
            return None, "a number"
        try:
            return float(text), None
        except ValueError:
            return None, "a number"
    return text, None


def _read_rows(
    path: Path, report: ValidationReport, optional: set[str] = frozenset()
) -> list[EigenmodeRow] | None:
    """Parse the CSV, recording every structural problem; ``None`` when any row is unusable.

    Columns in ``optional`` (those an older schema version did not have) may be missing: the
    rows then get the field's default.
    """
    try:
        text = read_text_bounded(path)
    except UnicodeDecodeError:
        report.error("unreadable", "<file>", "not UTF-8 text")
        return None
    if text and not text.endswith("\n"):
        # Every line, the last included, ends with "\n": a cut anywhere else shows here.
        report.error("truncated", "<file>", "the file does not end with a newline (cut short?)")
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        report.error("malformed_csv", "<file>", f"not valid CSV (truncated?): {exc}")
        return None
    if not lines:
        report.error("missing_header", "<file>", "empty file: no header row")
        return None
    header, body = lines[0], lines[1:]
    ok = True
    present = tuple(c for c in COLUMNS if c in header or c not in optional)
    for column in present:
        if column not in header:
            report.error("missing_column", column, "required column is missing")
            ok = False
    for column, n in Counter(header).items():
        if n > 1:
            report.error("duplicate_column", column, f"column appears {n} times")
            ok = False
    unknown = [c for c in header if c not in COLUMNS]
    for column in unknown:
        report.warning("unknown_column", column, "column not in the schema (ignored)")
    if ok and [c for c in header if c in COLUMNS] != list(present):
        report.warning("column_order", "<header>", f"columns not in schema order {list(present)}")
    if not ok:
        return None
    index = {c: header.index(c) for c in present}
    errors_before = len(report.errors)
    capped = _CappedFindings(report)
    rows = []
    for i, cells in enumerate(body):
        line = i + 2
        if len(cells) != len(header):
            capped.add(
                "error",
                "wrong_row_length",
                f"rows[{i}]",
                f"CSV line {line} has {len(cells)} cells, the header {len(header)} (truncated?)",
            )
            continue
        values, row_ok = {}, True
        for column in present:
            value, expected = _parse_cell(cells[index[column]], column)
            if expected is not None:
                capped.add(
                    "error",
                    "wrong_dtype",
                    f"rows[{i}].{column}",
                    f"CSV line {line}: expected {expected}, got {cells[index[column]]!r}",
                )
                row_ok = False
            values[column] = value
        if row_ok:
            rows.append(EigenmodeRow(**values))
    capped.close()
    return rows if len(report.errors) == errors_before else None


def _check_systems(
    systems: list[EigenmodeSystem], rows: list[EigenmodeRow], report: ValidationReport
) -> None:
    """meta ``systems`` lists each system of the rows once, as its first row has it, and every
    row of a system carries the same z_h (family and d have their own row checks)."""
    found = _systems_of(rows)
    if systems != found:
        declared = {s.system_id: s for s in systems}
        for system in found:
            if declared.get(system.system_id) != system:
                report.error(
                    "systems_mismatch",
                    "meta.systems",
                    f"the rows say {converter.unstructure(system)}, meta.systems "
                    f"{converter.unstructure(declared.get(system.system_id))}",
                )
        for sid in sorted(set(declared) - {s.system_id for s in found}):
            report.error("systems_mismatch", "meta.systems", f"{sid!r} has no rows")
    first = {s.system_id: s.z_h for s in found}
    capped = _CappedFindings(report)
    for i, row in enumerate(rows):
        if EigenmodeSystem.of_row(row).z_h != first[row.system_id]:
            capped.add(
                "error",
                "systems_mismatch",
                f"rows[{i}].z_h",
                f"z_h = {row.z_h!r}, other rows of {row.system_id!r} say {first[row.system_id]!r}",
            )
    capped.close()


def _check_row(row: EigenmodeRow, where: str, capped: _CappedFindings) -> None:
    ok_row = row.quality == "ok"
    for column in _TEXT_COLUMNS:
        if _CONTROL.search(getattr(row, column)):
            capped.add(
                "error",
                "bad_value",
                f"{where}.{column}",
                "control characters (line breaks, tabs...) are not allowed",
            )
    if not row.system_id:
        capped.add("error", "bad_value", f"{where}.system_id", "system_id is empty")
    if not row.quality:
        capped.add("error", "bad_value", f"{where}.quality", "quality is empty")
    elif row.quality not in QUALITIES:
        capped.add(
            "warning",
            "unknown_quality",
            f"{where}.quality",
            f"quality {row.quality!r} is not one of {list(QUALITIES)}; the row is not data",
        )
    sub = ValidationReport()
    check_family(row.family, f"{where}.family", sub)
    check_d_against_name(row.d, row.system_id, f"{where}.d", sub)
    for f in sub.findings:
        capped.add(f.severity, f.code, f.location, f.message)
    # Inputs are always known; outputs may be missing in a row flagged as failed.
    for column in ("m2", "z_uv", "z_ir"):
        if not math.isfinite(getattr(row, column)):
            capped.add(
                "error", "nonfinite", f"{where}.{column}", f"non-finite {getattr(row, column)!r}"
            )
    for column in ("Delta", "M2"):
        # A row that is a physics outcome may lack outputs: NaN is its value, not a problem.
        if row.quality in _OUTCOMES:
            break
        if not math.isfinite(getattr(row, column)):
            severity = "error" if ok_row else "warning"
            capped.add(
                severity,
                "nonfinite",
                f"{where}.{column}",
                f"non-finite {getattr(row, column)!r} (quality {row.quality!r})",
            )
    if ok_row and row.Delta < 0:
        capped.add(
            "error",
            "negative_delta",
            f"{where}.Delta",
            f"Delta = {row.Delta!r} < 0 in an 'ok' row: a solver bug (flag the row 'error'), "
            "never data",
        )
    if not (math.isnan(row.z_h) or (math.isfinite(row.z_h) and row.z_h > 0)):
        capped.add(
            "error",
            "bad_value",
            f"{where}.z_h",
            f"z_h must be positive and finite (nan: T = 0), got {row.z_h!r}",
        )
    if row.mode_id < 0:
        capped.add(
            "error", "bad_value", f"{where}.mode_id", f"mode_id must be >= 0, got {row.mode_id}"
        )
    if row.n_grid < 2:
        capped.add(
            "error", "bad_value", f"{where}.n_grid", f"n_grid must be >= 2, got {row.n_grid}"
        )
    if not 0 <= row.z_uv < row.z_ir:  # z_uv = 0: the interval starts at the boundary itself
        capped.add(
            "error",
            "bad_value",
            f"{where}.z_ir",
            f"need 0 <= z_uv < z_ir, got z_uv = {row.z_uv!r}, z_ir = {row.z_ir!r}",
        )
