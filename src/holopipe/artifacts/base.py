"""The Artifact base classes: read, write, validate, validate_file, example.

Subclasses are attrs classes. They declare ``SCHEMA_NAME``, ``SCHEMA_VERSION``,
``SUFFIXES`` and implement ``_load`` (file -> object, recording structural findings),
``_dump`` (object -> bytes on disk) and ``_check`` (content rules). The base class makes
every type behave the same way:

- ``read`` validates and raises :class:`ArtifactError` listing every error;
- ``write`` validates first, then writes atomically and byte-deterministically;
- ``validate`` / ``validate_file`` never raise on bad content; a missing or unreadable
  file is a finding too.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from holopipe.artifacts.io import JSONDecodeIssue, atomic_write_bytes, dumps_json, loads_json
from holopipe.artifacts.json_layout import layout_encoder
from holopipe.artifacts.report import ArtifactError, ValidationReport
from holopipe.artifacts.safety import UnsafeFile, file_problem, read_text_bounded
from holopipe.artifacts.structure import (
    check_structure,
    converter,
    exact_check,
    exact_structurer,
    structure_checked,
)
from holopipe.artifacts.versions import upgrade_document

if TYPE_CHECKING:
    from holopipe.artifacts.sniff import Sniffed

__all__ = [
    "HEADER",
    "Artifact",
    "DocumentUnreadable",
    "JSONArtifact",
    "read_json_document",
    "structure_versioned",
]

#: The keys every versioned document (a JSON artifact, an embedded meta) starts with.
HEADER = ("schema_name", "schema_version")
_HEADER_KEYS = frozenset(HEADER)


def structure_versioned(
    doc: Any,
    schema_name: str,
    version: str,
    body: type,
    report: ValidationReport,
    where: str = "",
    whole: str | None = None,
) -> Any:
    """Check a versioned document's header, upgrade an older version, structure the rest.

    Parameters
    ----------
    doc : object
        The parsed JSON document (a JSON artifact, or the meta embedded in an NPZ/CSV one).
    schema_name, version : str
        The type the document must declare and the version this holopipe writes.
    body : type
        attrs class of the document without its header.
    where : str
        Location prefix of the findings (``"meta_json"``); ``whole`` names the document
        itself when it is not an object (default: ``where`` or ``"<root>"``).

    Returns
    -------
    The structured body, or ``None`` with the reasons in ``report``.
    """
    prefix = f"{where}." if where else ""
    if not isinstance(doc, dict):
        report.error("wrong_type", whole or where or "<root>", "expected a JSON object")
        return None
    for key in HEADER:
        if key not in doc:
            report.error("missing_key", prefix + key, "required key is missing")
            return None
    if report.declared is None:  # the outermost document: what the file says it is
        report.declared = (str(doc["schema_name"]), str(doc["schema_version"]))
    if doc["schema_name"] != schema_name:
        found = doc["schema_name"]
        report.error(
            "wrong_schema", prefix + "schema_name", f"expected {schema_name!r}, got {found!r}"
        )
        return None
    if doc["schema_version"] == version:  # the version this holopipe writes: no upgrade
        exact = exact_structurer(body, _HEADER_KEYS)
        if exact is not None and (obj := exact(doc)) is not None:
            return obj
    else:
        doc = upgrade_document(
            schema_name, doc["schema_version"], version, doc, report, prefix + "schema_version"
        )
        if doc is None:
            return None
    fields = {k: v for k, v in doc.items() if k not in HEADER}
    return structure_checked(body, fields, report, where)


class DocumentUnreadable(Exception):
    """A JSON document could not be read; the finding that says why is in the report."""


def read_json_document(
    path: Path, report: ValidationReport, parse: Callable[[Path], Any] | None = None
) -> Any:
    """The JSON document at ``path``: ``parse(path)``, by default the file's text (bounded)
    parsed as JSON. Text that is not UTF-8 (``unreadable``) or not JSON (``malformed_json``)
    is a finding in ``report`` and raises :class:`DocumentUnreadable`; whatever the document
    is (``null`` too) is the caller's to judge. Unsafe files and OS errors propagate.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.json"
    >>> _ = path.write_text('{"a": 1}')
    >>> read_json_document(path, ValidationReport(str(path)))
    {'a': 1}
    >>> _ = path.write_text("{")
    >>> report = ValidationReport(str(path))
    >>> try:
    ...     read_json_document(path, report)
    ... except DocumentUnreadable:
    ...     print([finding.code for finding in report.errors])
    ['malformed_json']
    """
    try:
        return parse(path) if parse is not None else loads_json(read_text_bounded(path))
    except UnicodeDecodeError:
        report.error("unreadable", "<file>", "not UTF-8 text")
    except JSONDecodeIssue as exc:
        report.error("malformed_json", "<file>", str(exc))
    raise DocumentUnreadable(str(path))


class Artifact:
    """Base of every artifact type (see the module docstring)."""

    SCHEMA_NAME: ClassVar[str]
    SCHEMA_VERSION: ClassVar[str]
    #: Container format, shown by ``holopipe schema list``.
    FORMAT: ClassVar[str]
    #: File name endings this type is written with; the first is the default.
    SUFFIXES: ClassVar[tuple[str, ...]]
    #: Container formats (as :func:`~holopipe.artifacts.sniff.sniff` names them) this type can
    #: hold; :func:`~holopipe.artifacts.registry.detect_type` asks ``guess_can_open`` only
    #: about files in one of them.
    CONTAINERS: ClassVar[tuple[str, ...]]
    #: Whether ``_load`` already ran the structural checks of ``_check_fields`` (then
    #: :meth:`read_with_report` does not walk the object a second time).
    LOAD_CHECKS_FIELDS: ClassVar[bool] = False
    #: Whether an artifact is stored with sidecar files (then :meth:`files` lists them and
    #: :meth:`primary_of` recognises them; it is not asked of a type without sidecars).
    HAS_SIDECARS: ClassVar[bool] = False

    # -- to implement -------------------------------------------------------------------
    @classmethod
    def _load(cls, path: Path, report: ValidationReport) -> Self | None:
        raise NotImplementedError

    def _dump(self, path: Path) -> None:
        raise NotImplementedError

    def _check(self, report: ValidationReport) -> None:
        """Content rules beyond structure; record findings in ``report``."""

    @classmethod
    def example(cls) -> Self:
        """A small valid instance, for docs, tests and exploring the API."""
        raise NotImplementedError

    # -- shared behaviour ---------------------------------------------------------------
    @classmethod
    def guess_can_open(cls, path: str | os.PathLike) -> bool:
        """Whether ``path`` is this type, judged by its content (as sniffed once per file).

        The container format must be one of :attr:`CONTAINERS`; then a declared schema
        decides; without one, the content must match (:meth:`matches_content`). Only a
        damaged file (its structure unreadable) is judged by its name ending.
        """
        from holopipe.artifacts.sniff import sniff

        path = path if isinstance(path, Path) else Path(path)
        found = sniff(path)
        if found.container not in cls.CONTAINERS:
            return False
        declared = cls._declared_schema(path, found)
        if declared is not None:
            return declared == cls.SCHEMA_NAME
        if found.damaged:
            return path.name.endswith(cls.SUFFIXES)
        return cls.matches_content(found)

    @classmethod
    def _declared_schema(cls, path: Path, found: Sniffed) -> str | None:
        """The schema name the file declares (by default, as sniffed from the file itself)."""
        return found.declared_schema

    @classmethod
    def matches_content(cls, found: Sniffed) -> bool:
        """Whether a file that declares no schema has this type's shape (e.g. its columns)."""
        return False

    @classmethod
    def read_with_report(cls, path: str | os.PathLike) -> tuple[ValidationReport, Self | None]:
        """Read ``path`` and validate it: the report, and the object when it could be built.

        The object comes back even when the report has content errors (a caller such as a
        stage's gate may list them and still look at what was read); it is ``None`` when the
        file could not be read or structured. Never raises on bad content.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from holopipe.artifacts import StageSummary
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "stage_summary.json"
        >>> _ = StageSummary.example().write(path)
        >>> report, summary = StageSummary.read_with_report(path)
        >>> report.ok, summary == StageSummary.example()
        (True, True)
        """
        path = path if isinstance(path, Path) else Path(path)
        report = ValidationReport(str(path), cls.SCHEMA_NAME)
        # A load that starts with the bounded read makes this very check (the same finding,
        # as an UnsafeFile recorded below) before it opens anything: not made twice.
        problem = None if _load_checks_file(cls) else file_problem(path)
        if problem is not None:
            report.error(problem[0], "<file>", problem[1])
            return report, None
        try:
            obj = cls._load(path, report)
        except UnsafeFile as exc:
            exc.record(report)
            return report, None
        except RecursionError:
            report.error("too_deep", "<file>", "nested too deeply to be checked")
            return report, None
        except (OSError, ValueError, KeyError, EOFError, RuntimeError) as exc:
            report.error("unreadable", "<file>", f"cannot read: {exc}")
            return report, None
        if obj is not None:
            if not cls.LOAD_CHECKS_FIELDS:
                obj._check_fields(report)
            obj._check(report)
        return report, obj

    @classmethod
    def read(cls, path: str | os.PathLike) -> Self:
        """Read and validate ``path``; raise :class:`ArtifactError` listing every error."""
        report, obj = cls.read_with_report(path)
        if not report.ok or obj is None:
            raise ArtifactError(report)
        return obj

    @classmethod
    def validate_file(cls, path: str | os.PathLike) -> ValidationReport:
        """Validate a file without raising; every problem becomes a finding."""
        return cls.read_with_report(path)[0]

    def _check_fields(self, report: ValidationReport) -> None:
        """Structural checks of the in-memory object (types of the JSON-like parts)."""

    def validate(self) -> ValidationReport:
        """Validate this object (as it would be written); never raises on bad content."""
        report = ValidationReport(schema=self.SCHEMA_NAME)
        self._check_fields(report)
        self._check(report)
        return report

    def write(self, path: str | os.PathLike) -> Path:
        """Validate, then write atomically to ``path``; raise :class:`ArtifactError` if invalid."""
        path = path if isinstance(path, Path) else Path(path)
        self._write_valid(path)
        return path

    def _write_valid(self, path: Path) -> None:
        """:meth:`validate`, then :meth:`_dump` (a type that validates and writes one
        unstructured document overrides it)."""
        report = self.validate()
        report.path = str(path)
        if not report.ok:
            raise ArtifactError(report)
        self._dump(path)

    @classmethod
    def files(cls, path: str | os.PathLike) -> list[Path]:
        """Every file that makes up the artifact stored at ``path`` (sidecars included)."""
        return [path if isinstance(path, Path) else Path(path)]

    @classmethod
    def primary_of(cls, sidecar: str | os.PathLike) -> Path | None:
        """The main file of the artifact that ``sidecar`` belongs to, if it is one of ours."""
        return None


def _check_body(cls: type, body: Any, report: ValidationReport) -> None:
    """:func:`check_structure` of an unstructured body, told in one pass when it certainly
    has no finding (:func:`exact_check`)."""
    exact = exact_check(cls)
    if exact is None or not exact(body):
        check_structure(cls, body, report)


@functools.cache
def _document_encoder(cls: type[JSONArtifact]) -> Callable[..., str]:
    """The indented text of a document of ``cls`` (header and body), by code generated
    for its layout (:func:`~holopipe.artifacts.json_layout.layout_encoder`)."""
    return layout_encoder(cls, HEADER)


@functools.cache
def _load_checks_file(cls: type[Artifact]) -> bool:
    """Whether ``cls`` loads as :class:`JSONArtifact` does: its first step is the bounded
    read of ``path`` (:func:`read_json_document`), whose regular-file check
    (:func:`~holopipe.artifacts.safety.file_problem`, before the open) raises the finding
    :meth:`Artifact.read_with_report` would record."""
    return issubclass(cls, JSONArtifact) and all(
        getattr(cls, name).__func__ is getattr(JSONArtifact, name).__func__
        for name in ("_load", "_document")
    )


@functools.cache
def _one_document(cls: type[JSONArtifact]) -> bool:
    """Whether ``cls`` validates and writes its document as :class:`JSONArtifact` does."""
    return all(
        getattr(cls, name) is getattr(JSONArtifact, name)
        for name in ("validate", "_check_fields", "to_document", "to_json", "_dump")
    )


class JSONArtifact(Artifact):
    """An artifact stored as one JSON document whose body is the attrs class itself.

    The document is the unstructured object plus the header keys ``schema_name`` and
    ``schema_version``.
    """

    FORMAT = "json"
    CONTAINERS = ("json",)
    SUFFIXES = (".json",)
    # from_document checks the raw document before structuring it: checking the object it
    # built again is the same walk twice. A subclass whose _load adds content of its own
    # declares False.
    LOAD_CHECKS_FIELDS = True

    @classmethod
    def guess_can_open(cls, path: str | os.PathLike) -> bool:
        """A JSON artifact always declares its schema: the name must match, whatever the suffix."""
        from holopipe.artifacts.sniff import sniff

        found = sniff(path)
        return found.container == "json" and found.declared_schema == cls.SCHEMA_NAME

    @classmethod
    def from_document(cls, doc: Any, report: ValidationReport) -> Self | None:
        """Check the header, upgrade an older version, then structure the body."""
        return structure_versioned(doc, cls.SCHEMA_NAME, cls.SCHEMA_VERSION, cls, report)

    @classmethod
    def _document(cls, path: Path, report: ValidationReport) -> Any:
        """The JSON document stored at ``path`` (:func:`read_json_document`); a hook for a
        type whose document spans several files (the run manifest reads its stage records
        into its index)."""
        return read_json_document(path, report)

    @classmethod
    def _load(cls, path: Path, report: ValidationReport) -> Self | None:
        try:
            document = cls._document(path, report)
        except DocumentUnreadable:
            return None
        return cls.from_document(document, report)

    def to_document(self) -> dict[str, Any]:
        """The JSON document: header plus unstructured body."""
        body = converter.unstructure(self)
        return {"schema_name": self.SCHEMA_NAME, "schema_version": self.SCHEMA_VERSION, **body}

    #: Write without indentation (faster for large documents such as a run manifest).
    COMPACT_JSON: ClassVar[bool] = False

    def to_json(self) -> str:
        return dumps_json(
            self.to_document(), compact=self.COMPACT_JSON, indented=_document_encoder(type(self))
        )

    def _check_fields(self, report: ValidationReport) -> None:
        _check_body(type(self), converter.unstructure(self), report)

    def _dump(self, path: Path) -> None:
        atomic_write_bytes(path, self.to_json().encode("utf-8"))

    def _write_valid(self, path: Path) -> None:
        """The object unstructured once, checked (:meth:`_check_fields`, :meth:`_check`)
        and written as that document, when the type keeps the document, the check and the
        dump of this class (else :meth:`validate` and :meth:`_dump`)."""
        cls = type(self)
        if not _one_document(cls):
            super()._write_valid(path)
            return
        body = converter.unstructure(self)
        report = ValidationReport(str(path), self.SCHEMA_NAME)
        _check_body(cls, body, report)
        self._check(report)
        if not report.ok:
            raise ArtifactError(report)
        document = {"schema_name": self.SCHEMA_NAME, "schema_version": self.SCHEMA_VERSION, **body}
        text = dumps_json(document, compact=self.COMPACT_JSON, indented=_document_encoder(cls))
        atomic_write_bytes(path, text.encode("utf-8"))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema of the document (header included)."""
        from holopipe.artifacts.structure import json_schema_for

        schema = json_schema_for(cls)
        schema["properties"] = {
            "schema_name": {"const": cls.SCHEMA_NAME},
            "schema_version": {"type": "string"},
            **schema["properties"],
        }
        schema["required"] = ["schema_name", "schema_version", *schema["required"]]
        return schema
