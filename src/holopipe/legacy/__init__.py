"""Legacy outputs: classify, convert and import frozen legacy folders (the plan's section 7).

- :func:`import_legacy` (``holopipe import-legacy``): a legacy folder -> ``runs/<experiment>/``
  with links to the originals, converted artifacts, ``import_report.json`` and a manifest
  with ``resolved_from_legacy: true``.
- :func:`classify` / :func:`inspect_file` and the :data:`KINDS` registry: what a legacy file
  is, from its content.
- :func:`convert_sandbox`, :func:`convert_prediction`, :func:`convert_eigenmodes`: legacy
  files -> current artifact types, with findings and provenance.
- :func:`read_legacy_input`: what the legacy resolver uses to serve a legacy file to a stage.

Nothing here ever unpickles, loads a ``.pt`` file, or writes into a legacy tree.
"""

from holopipe.legacy.convert import (
    FAMILY_CODES,
    Conversion,
    SandboxIndex,
    convert_eigenmodes,
    convert_prediction,
    convert_sandbox,
)
from holopipe.legacy.importer import FileImport, ImportRefused, ImportReport, import_legacy
from holopipe.legacy.kinds import (
    KINDS,
    Inspected,
    LegacyKind,
    classify,
    inspect_file,
    register_kind,
)
from holopipe.legacy.walk import walk_tree

__all__ = [
    "FAMILY_CODES",
    "KINDS",
    "Conversion",
    "FileImport",
    "ImportRefused",
    "ImportReport",
    "Inspected",
    "LegacyKind",
    "SandboxIndex",
    "classify",
    "convert_eigenmodes",
    "convert_prediction",
    "convert_sandbox",
    "import_legacy",
    "inspect_file",
    "register_kind",
    "walk_tree",
]
