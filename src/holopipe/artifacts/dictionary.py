"""Dictionary: the holographic dictionary m^2(Delta) fitted per d (output of stage 07), JSON.

Per ``d``: least squares of m^2 on {Delta^2, Delta, 1} (coefficients and their standard
errors), its comparison by AIC/BIC and cross-validation with the one-parameter model
m^2 = c Delta (Delta - d), then per operator the entry {system_id, operator, d, Delta, m2,
branch, nu} with nu = sqrt(d^2/4 + m^2). The inverse is two-valued: Delta_+ = d/2 + nu, and
Delta_- = d/2 - nu only for nu < 1 (alternative quantisation); every entry obeys the
Breitenlohner-Freedman bound m^2 >= -d^2/4.

Version 0.2 adds what stage 07 decides and why: per fit the model each criterion prefers
(``preferred``), the m^2 resolution of the criteria, the number of distinct Delta values and
the standard error of c; per entry the branch rule applied (``rule``); per dictionary the rows
kept out of the fit by reason (``excluded``) and the dimensions not fitted (``unfitted``).
Documents of version 0.1 are upgraded by a registered migration (the preferences are
recomputed from the stored scores, the rules from the branch).

Arrays (fit inputs, fold residuals, ...) go to an optional NPZ sidecar
``<stem>.arrays.npz`` beside ``<stem>.json``, named in the document by ``arrays_file``.

Examples
--------
>>> import tempfile, pathlib
>>> dic = Dictionary.example()
>>> path = dic.write(pathlib.Path(tempfile.mkdtemp()) / "dictionary.json")
>>> [p.name for p in Dictionary.files(path)]
['dictionary.json', 'dictionary.arrays.npz']
>>> Dictionary.read(path) == dic
True
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import attrs
import numpy as np

from holopipe.artifacts._arrays import array_dicts_equal, as_float_arrays
from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.checks import check_d_against_name, check_finite
from holopipe.artifacts.io import (
    JSONDecodeIssue,
    atomic_write_bytes,
    dumps_json,
    loads_json,
    npz_bytes,
)
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.safety import UnsafeFile, read_npz_members, read_text_bounded
from holopipe.artifacts.versions import register_migration

__all__ = [
    "CrossValidation",
    "Dictionary",
    "DictionaryEntry",
    "DimensionFit",
    "ModelComparison",
    "ModelPreference",
    "Quadratic",
    "UnfittedDimension",
]

BRANCH_POLICY = (
    "Delta_+ = d/2 + nu always; Delta_- = d/2 - nu only for nu < 1 (alternative quantisation); "
    "nu = sqrt(d^2/4 + m^2) with the BF bound m^2 >= -d^2/4 enforced"
)

#: The rule of an entry of each branch in documents of version 0.1 (which did not store it).
STANDARD_RULE = "standard quantisation: Delta_+ = d/2 + nu"
ALTERNATIVE_RULE = "alternative quantisation: Delta_- = d/2 - nu (nu < 1)"

_MEMBER_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@attrs.define
class Quadratic:
    """Coefficients of m^2 = delta2 Delta^2 + delta Delta + const (AdS: 1, -d, 0)."""

    delta2: float = attrs.field(metadata={"doc": "coefficient of Delta^2"})
    delta: float = attrs.field(metadata={"doc": "coefficient of Delta"})
    const: float = attrs.field(metadata={"doc": "constant term"})


@attrs.define
class ModelComparison:
    """Information criteria (lower is better) of the free quadratic and m^2 = c Delta(Delta - d)."""

    aic_free: float
    bic_free: float
    aic_constrained: float
    bic_constrained: float
    c_constrained: float = attrs.field(metadata={"doc": "fitted c of m^2 = c Delta (Delta - d)"})
    c_uncertainty: float | None = attrs.field(
        default=None, metadata={"doc": "standard error of c (null in documents from 0.1)"}
    )


@attrs.define
class CrossValidation:
    """k-fold cross-validated RMS error of m^2 for both models."""

    folds: int
    rmse_free: float
    rmse_constrained: float


Model = Literal["free", "constrained"]


@attrs.define
class ModelPreference:
    """Which model each criterion prefers (ties go to the simpler, constrained model)."""

    aic: Model
    bic: Model
    cv: Model


@attrs.define
class UnfittedDimension:
    """A d with entries but no fit, and why."""

    d: int
    n_points: int
    reason: str


@attrs.define
class DimensionFit:
    """The fit of m^2(Delta) for one boundary dimension d."""

    d: int = attrs.field(metadata={"doc": "boundary spacetime dimension"})
    n_points: int = attrs.field(metadata={"doc": "(Delta, m2) pairs in the fit"})
    coefficients: Quadratic = attrs.field(metadata={"doc": "least-squares coefficients"})
    uncertainties: Quadratic = attrs.field(metadata={"doc": "standard errors of the coefficients"})
    comparison: ModelComparison = attrs.field(
        metadata={"doc": "free quadratic vs c Delta(Delta - d)"}
    )
    cross_validation: CrossValidation = attrs.field(metadata={"doc": "out-of-sample scores"})
    preferred: ModelPreference | None = attrs.field(
        default=None, metadata={"doc": "the model each criterion prefers"}
    )
    resolution: float | None = attrs.field(
        default=None,
        metadata={"doc": "m^2 resolution: noise floor of AIC/BIC, tie margin of CV (0.2)"},
    )
    n_distinct: int | None = attrs.field(
        default=None, metadata={"doc": "distinct Delta values among the points (0.2)"}
    )


@attrs.define
class DictionaryEntry:
    """One operator of one system, mapped to its bulk mass."""

    system_id: str
    operator: str
    d: int
    Delta: float = attrs.field(metadata={"doc": "scaling dimension"})
    m2: float = attrs.field(metadata={"doc": "bulk mass squared, units L = 1"})
    branch: Literal["+", "-"] = attrs.field(metadata={"doc": "Delta = d/2 + nu or d/2 - nu"})
    nu: float = attrs.field(metadata={"doc": "sqrt(d^2/4 + m^2)"})
    rule: str | None = attrs.field(
        default=None, metadata={"doc": "the branch rule that admitted this entry (0.2)"}
    )


@attrs.define
class Dictionary(JSONArtifact):
    """The fitted holographic dictionary: per-d fits and per-operator entries."""

    SCHEMA_NAME: ClassVar[str] = "Dictionary"
    SCHEMA_VERSION: ClassVar[str] = "0.2"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("dictionary.json", ".json")
    # _load reads the sidecar too: the object is checked again after loading.
    LOAD_CHECKS_FIELDS: ClassVar[bool] = False
    HAS_SIDECARS: ClassVar[bool] = True

    source_stage: str
    git_sha: str
    branch_policy: str = attrs.field(metadata={"doc": "how the branch of Delta(m^2) is chosen"})
    fits: list[DimensionFit] = attrs.field(metadata={"doc": "one per d"})
    entries: list[DictionaryEntry] = attrs.field(metadata={"doc": "per-operator entries"})
    excluded: dict[str, int] = attrs.field(
        factory=dict,
        metadata={"doc": "input rows kept out of the fit, by reason (e.g. quality 'error')"},
    )
    unfitted: list[UnfittedDimension] = attrs.field(
        factory=list, metadata={"doc": "dimensions with entries but no fit, with the reason"}
    )
    # Where the arrays are is a storage detail set when writing, not part of the content.
    arrays_file: str | None = attrs.field(
        default=None,
        eq=False,
        metadata={"doc": "NPZ sidecar beside this file, null when there are no arrays"},
    )
    arrays: dict[str, np.ndarray] = attrs.field(
        factory=dict,
        converter=as_float_arrays,
        eq=attrs.cmp_using(eq=array_dicts_equal),
        metadata={"doc": "stored in the NPZ sidecar, never in the JSON"},
    )

    @staticmethod
    def arrays_path(path: str | Path) -> Path:
        """``<stem>.arrays.npz`` beside ``<stem>.json``."""
        path = Path(path)
        return path.with_name(path.name.removesuffix(".json") + ".arrays.npz")

    @classmethod
    def primary_of(cls, sidecar: str | Path) -> Path | None:
        if not str(sidecar).endswith(".arrays.npz"):  # asked of every file: cheap first
            return None
        sidecar = Path(sidecar)
        return sidecar.with_name(sidecar.name.removesuffix(".arrays.npz") + ".json")

    @classmethod
    def files(cls, path: str | Path) -> list[Path]:
        path = Path(path)
        try:
            doc = loads_json(read_text_bounded(path))
        except (OSError, UnicodeDecodeError, JSONDecodeIssue, UnsafeFile):
            return [path]
        sidecar = doc.get("arrays_file") if isinstance(doc, dict) else None
        return [path, path.parent / sidecar] if isinstance(sidecar, str) else [path]

    # -- document and files -------------------------------------------------------------
    def to_document(self) -> dict[str, Any]:
        doc = super().to_document()
        del doc["arrays"]
        return doc

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        schema = super().json_schema()
        del schema["properties"]["arrays"]
        return schema

    @classmethod
    def _load(cls, path: Path, report: ValidationReport) -> Self | None:
        dictionary = super()._load(path, report)
        if dictionary is None or dictionary.arrays_file is None:
            return dictionary
        if not _is_bare_npz_name(dictionary.arrays_file):
            report.error(
                "bad_value",
                "arrays_file",
                f"must be a file name beside the JSON, got {dictionary.arrays_file!r}",
            )
            return None
        sidecar = path.parent / dictionary.arrays_file
        if not sidecar.is_file():
            report.error(
                "missing_file",
                "arrays_file",
                f"the arrays sidecar {dictionary.arrays_file} does not exist",
            )
            return None
        members = read_npz_members(sidecar, report)
        if members is None:
            return None
        return attrs.evolve(dictionary, arrays=members)

    def _dump(self, path: Path) -> None:
        stored = attrs.evolve(
            self, arrays_file=self.arrays_path(path).name if self.arrays else None
        )
        # The sidecar goes first: the JSON never names arrays that are not there yet.
        if self.arrays:
            atomic_write_bytes(self.arrays_path(path), npz_bytes(self.arrays))
        atomic_write_bytes(path, dumps_json(stored.to_document()).encode("utf-8"))

    # -- checking -----------------------------------------------------------------------
    def _check(self, report: ValidationReport) -> None:
        structural = ValidationReport()
        self._check_fields(structural)
        if not structural.ok:
            return  # _check_fields has recorded why; the rules below need typed values
        if not self.fits:
            report.error("empty", "fits", "no fit: an empty dictionary")
        if not self.entries:
            report.warning("no_entries", "entries", "no per-operator entry")
        fitted = set()
        for i, fit in enumerate(self.fits):
            _check_fit(fit, f"fits[{i}]", fitted, report)
            fitted.add(fit.d)
        for i, entry in enumerate(self.entries):
            _check_entry(entry, f"entries[{i}]", report)
        unfitted = {u.d for u in self.unfitted}
        for d in sorted(unfitted & fitted):
            report.error("bad_value", "unfitted", f"d = {d} is listed as unfitted but has a fit")
        for reason, count in self.excluded.items():
            if count < 0:
                report.error("bad_value", f"excluded.{reason}", f"a count is >= 0, got {count}")
        for d in sorted({e.d for e in self.entries} - fitted - unfitted) if fitted else ():
            report.warning(
                "no_fit_for_d", "entries", f"entries with d = {d} but no fit for d = {d}"
            )
        if self.arrays_file is not None and not _is_bare_npz_name(self.arrays_file):
            report.error(
                "bad_value",
                "arrays_file",
                f"must be a file name beside the JSON, got {self.arrays_file!r}",
            )
        for name, array in self.arrays.items():
            where = f"arrays.{name}"
            if not _MEMBER_NAME.match(name):
                report.error("bad_value", where, "array names must match [A-Za-z0-9_.-]+")
            if array.dtype.kind != "f":
                report.error("wrong_dtype", where, f"expected a floating dtype, got {array.dtype}")
            else:
                check_finite(array.ravel(), where, report)

    @classmethod
    def example(cls) -> Self:
        """AdS data in d = 3: the fit returns (1, -3, 0); three operators, both branches."""
        delta = np.array([1.0, 1.2, 1.4, 2.0, 2.5, 3.0, 3.5, 4.0])
        m2 = delta * (delta - 3)
        fit = DimensionFit(
            d=3,
            n_points=delta.size,
            coefficients=Quadratic(1.0, -3.0, 0.0),
            uncertainties=Quadratic(1e-12, 1e-12, 1e-12),
            comparison=ModelComparison(-480.0, -479.8, -486.0, -485.9, 1.0, 1e-6),
            cross_validation=CrossValidation(folds=4, rmse_free=1e-12, rmse_constrained=1e-12),
            preferred=ModelPreference("constrained", "constrained", "constrained"),
            resolution=1e-5,
            n_distinct=8,
        )
        sid = "ads_d3_example-000000000000"
        entries = [
            DictionaryEntry(sid, "O1", 3, 2.0, -2.0, "+", 0.5, STANDARD_RULE),
            DictionaryEntry(sid, "O1", 3, 1.0, -2.0, "-", 0.5, ALTERNATIVE_RULE),
            DictionaryEntry(sid, "O2", 3, 3.0, 0.0, "+", 1.5, STANDARD_RULE),
        ]
        return cls(
            source_stage="example",
            git_sha="0000000",
            branch_policy=BRANCH_POLICY,
            fits=[fit],
            entries=entries,
            excluded={"quality not_applicable": 2},
            arrays={"Delta_d3": delta, "m2_d3": m2},
        )


def _is_bare_npz_name(name: str) -> bool:
    return (
        name.endswith(".npz")
        and Path(name).name == name
        and name not in ("", ".", "..")
        and "\\" not in name
    )


def _check_fit(fit: DimensionFit, where: str, fitted: set[int], report: ValidationReport) -> None:
    if fit.d in fitted:
        report.error("duplicate", f"{where}.d", f"a second fit for d = {fit.d}")
    check_d_against_name(fit.d, None, f"{where}.d", report)
    if fit.n_points < 3:
        report.error(
            "too_short",
            f"{where}.n_points",
            f"a quadratic needs at least 3 points, got {fit.n_points}",
        )
    for name in ("delta2", "delta", "const"):
        if getattr(fit.uncertainties, name) < 0:
            report.error(
                "bad_value", f"{where}.uncertainties.{name}", "an uncertainty is non-negative"
            )
    cv = fit.cross_validation
    if cv.folds < 2:
        report.error(
            "bad_value", f"{where}.cross_validation.folds", f"need at least 2 folds, got {cv.folds}"
        )
    if cv.rmse_free < 0 or cv.rmse_constrained < 0:
        report.error("bad_value", f"{where}.cross_validation", "an RMS error is non-negative")
    if fit.preferred is not None:
        expected = _preferences(fit)
        for criterion in ("aic", "bic", "cv"):
            stated, implied = getattr(fit.preferred, criterion), getattr(expected, criterion)
            if stated != implied:
                report.error(
                    "preference_mismatch",
                    f"{where}.preferred.{criterion}",
                    f"says {stated!r} but the stored scores prefer {implied!r}",
                )


def _preferences(fit: DimensionFit) -> ModelPreference:
    """The model each criterion's stored scores prefer (ties and, for CV, differences within
    the resolution go to the constrained model)."""
    comparison, cv = fit.comparison, fit.cross_validation
    margin = fit.resolution or 0.0

    def pick(constrained: float, free: float, tie: float = 0.0) -> Model:
        return "constrained" if constrained <= free + tie else "free"

    return ModelPreference(
        aic=pick(comparison.aic_constrained, comparison.aic_free),
        bic=pick(comparison.bic_constrained, comparison.bic_free),
        cv=pick(cv.rmse_constrained, cv.rmse_free, margin),
    )


@register_migration("Dictionary", "0.1", "0.2")
def _from_0_1(doc: dict[str, Any]) -> dict[str, Any]:
    """0.1 -> 0.2: preferences recomputed from the stored scores, rules from the branch."""
    doc = dict(doc)
    fits = []
    for raw in doc.get("fits", []):
        fit = dict(raw)
        comparison, cv = fit.get("comparison"), fit.get("cross_validation")
        if isinstance(comparison, dict) and isinstance(cv, dict):
            try:
                fit["preferred"] = {
                    "aic": _pick(comparison["aic_constrained"], comparison["aic_free"]),
                    "bic": _pick(comparison["bic_constrained"], comparison["bic_free"]),
                    "cv": _pick(cv["rmse_constrained"], cv["rmse_free"]),
                }
            except (KeyError, TypeError):
                pass  # malformed: structuring reports the missing or bad key
        fits.append(fit)
    if "fits" in doc:
        doc["fits"] = fits
    rules = {"+": STANDARD_RULE, "-": ALTERNATIVE_RULE}
    doc["entries"] = [
        {**entry, "rule": rules.get(entry.get("branch"))} if isinstance(entry, dict) else entry
        for entry in doc.get("entries", [])
    ]
    doc["schema_version"] = "0.2"
    return doc


def _pick(constrained: Any, free: Any) -> str:
    return "constrained" if constrained <= free else "free"


def _check_entry(entry: DictionaryEntry, where: str, report: ValidationReport) -> None:
    d = entry.d
    check_d_against_name(d, entry.system_id, f"{where}.d", report)
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        return
    bound = -(d**2) / 4
    # A relative tolerance keeps an entry computed exactly at the bound from failing on rounding.
    if entry.m2 < bound - 1e-12 * abs(bound):
        report.error(
            "bf_bound", f"{where}.m2", f"m2 = {entry.m2!r} is below the BF bound -d^2/4 = {bound!r}"
        )
        return
    if entry.nu < 0:
        report.error(
            "bad_value", f"{where}.nu", f"nu = sqrt(d^2/4 + m2) is non-negative, got {entry.nu!r}"
        )
        return
    nu2 = d**2 / 4 + entry.m2
    if abs(entry.nu**2 - nu2) > 1e-9 * max(1.0, abs(nu2)):
        report.error(
            "nu_mismatch",
            f"{where}.nu",
            f"nu = {entry.nu!r} but sqrt(d^2/4 + m2) = {math.sqrt(max(nu2, 0.0))!r}",
        )
    if entry.branch == "-" and not entry.nu < 1:
        report.error(
            "bad_branch",
            f"{where}.branch",
            f"branch '-' needs nu < 1 (alternative quantisation), nu = {entry.nu!r}",
        )
    side = entry.Delta - d / 2
    if (entry.branch == "+" and side < -1e-9) or (entry.branch == "-" and side > 1e-9):
        report.error(
            "branch_mismatch",
            f"{where}.branch",
            f"branch {entry.branch!r} but Delta = {entry.Delta!r} is on the other side "
            f"of d/2 = {d / 2!r}",
        )
