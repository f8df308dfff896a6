"""HolographicAtlas: per system and per (family, d), the UV exponent of the reconstructed
geometry, its effective radius, its operators, and whether the AdS dictionary applies there
(output of stage 08), JSON.

Per system: ``alpha_uv = -dA/d ln z`` measured on the UV window (with its standard error),
``alpha_t`` from a stored A_t (null when A_t = A), the effective radius ``exp(A + alpha ln z)``
at the boundary, ``applicable`` with the reason, and the operators. An operator has a
dimension ``Delta`` (and its uncertainty when measured) and, only where the dictionary applies,
the bulk mass ``m2``, the branch and nu: ``m2 = Delta (Delta - d)`` for a measured dimension,
the stage-07 entry's own m2 for a dictionary entry. Where it does not apply, m2, branch and nu
are null and the reason names the measured exponent.

Per (family, d): the number of systems, how many the dictionary applies to, the range of
alpha_uv, and the stage-07 fit of that d when there is one.

Examples
--------
>>> import tempfile, pathlib
>>> atlas = HolographicAtlas.example()
>>> path = atlas.write(pathlib.Path(tempfile.mkdtemp()) / "atlas.json")
>>> HolographicAtlas.read(path) == atlas
True
>>> [(s.family, s.applicable) for s in atlas.systems]
[('ads', True), ('hvlf', False)]
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal, Self

import attrs

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.checks import check_d_against_name, check_family
from holopipe.artifacts.report import ValidationReport

__all__ = ["AtlasGroup", "AtlasOperator", "AtlasSystem", "HolographicAtlas", "GroupFit"]


@attrs.define
class AtlasOperator:
    """One operator of one system."""

    name: str = attrs.field(metadata={"doc": "operator name (measured) or the 07 entry's"})
    Delta: float = attrs.field(metadata={"doc": "scaling dimension"})
    Delta_err: float | None = attrs.field(metadata={"doc": "one-sigma uncertainty, null if none"})
    source: Literal["measured", "dictionary"] = attrs.field(
        metadata={"doc": "measured: stage 02 (GeometryPrediction meta); dictionary: stage 07"}
    )
    method: str = attrs.field(metadata={"doc": "how Delta was obtained"})
    m2: float | None = attrs.field(
        default=None, metadata={"doc": "bulk mass, only where the dictionary applies"}
    )
    branch: Literal["+", "-"] | None = attrs.field(
        default=None, metadata={"doc": "Delta = d/2 + nu or d/2 - nu; null where not applied"}
    )
    nu: float | None = attrs.field(default=None, metadata={"doc": "|Delta - d/2|"})
    rule: str | None = attrs.field(
        default=None, metadata={"doc": "the branch rule, or why m2 is not given"}
    )


@attrs.define
class AtlasSystem:
    """The atlas entry of one reconstructed geometry."""

    system_id: str
    family: str
    d: int
    alpha_uv: float = attrs.field(metadata={"doc": "-dA/d ln z at the boundary (A = A_x)"})
    alpha_uv_err: float = attrs.field(metadata={"doc": "standard error of alpha_uv"})
    effective_radius: float = attrs.field(
        metadata={"doc": "L_eff with A ~ -alpha ln z + ln L_eff near the boundary (units L = 1)"}
    )
    uv_window: list[float] = attrs.field(metadata={"doc": "[z_min, z_max] of the UV fit"})
    applicable: bool = attrs.field(metadata={"doc": "does m2 = Delta (Delta - d) apply?"})
    reason: str = attrs.field(metadata={"doc": "why (the measured exponents in words)"})
    operators: list[AtlasOperator] = attrs.field(factory=list)
    alpha_t: float | None = attrs.field(
        default=None, metadata={"doc": "-dA_t/d ln z when A_t is stored, else null"}
    )
    system_name: str | None = attrs.field(default=None)
    theory: str | None = attrs.field(
        default=None, metadata={"doc": "real theory of the boundary data (e.g. ising3d)"}
    )
    boundary_method: str | None = attrs.field(
        default=None,
        metadata={"doc": "how the boundary data were made (reference_table: a round trip)"},
    )


@attrs.define
class GroupFit:
    """The stage-07 fit m2 = delta2 Delta^2 + delta Delta + const of one d."""

    delta2: float
    delta: float
    const: float
    preferred_bic: str | None = None


@attrs.define
class AtlasGroup:
    """Summary of one (family, d)."""

    family: str
    d: int
    n_systems: int
    n_applicable: int
    alpha_uv_min: float
    alpha_uv_max: float
    dictionary_fit: GroupFit | None = attrs.field(
        default=None, metadata={"doc": "stage 07's fit of this d, null when none"}
    )


@attrs.define
class HolographicAtlas(JSONArtifact):
    """Stage 08's atlas: per system the UV exponent alpha_UV = -dA/d ln z, the effective
    radius, whether m2 = Delta (Delta - d) applies (only where |alpha - 1| < tolerance) and
    the operators with (Delta, m2, branch); per (family, d) a summary with stage 07's fit."""

    SCHEMA_NAME: ClassVar[str] = "HolographicAtlas"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("atlas.json", ".json")

    source_stage: str = attrs.field(metadata={"doc": "stage that produced it"})
    git_sha: str = attrs.field(metadata={"doc": "code version that produced it"})
    tolerance: float = attrs.field(
        metadata={"doc": "|alpha - 1| below which the dictionary applies"}
    )
    systems: list[AtlasSystem] = attrs.field(metadata={"doc": "one per reconstructed geometry"})
    groups: list[AtlasGroup] = attrs.field(metadata={"doc": "one per (family, d)"})

    def _check(self, report: ValidationReport) -> None:
        if not self.systems:
            report.error("empty", "systems", "no system in the atlas")
        seen: set[str] = set()
        for i, system in enumerate(self.systems):
            where = f"systems[{i}]"
            if system.system_id in seen:
                report.error("duplicate", f"{where}.system_id", f"{system.system_id!r} twice")
            seen.add(system.system_id)
            check_family(system.family, f"{where}.family", report)
            check_d_against_name(system.d, system.system_id, f"{where}.d", report)
            _check_system(system, self.tolerance, where, report)
        expected = _group_counts(self.systems)
        for i, group in enumerate(self.groups):
            key = (group.family, group.d)
            counts = expected.pop(key, None)
            if counts != (group.n_systems, group.n_applicable):
                report.error(
                    "stale_group",
                    f"groups[{i}]",
                    f"({group.family}, d = {group.d}) says {group.n_systems} systems, "
                    f"{group.n_applicable} applicable; the systems give {counts}",
                )
        for family, d in sorted(expected):
            report.error("missing_group", "groups", f"no group for ({family}, d = {d})")

    @classmethod
    def example(cls) -> Self:
        """An AdS system (dictionary applies) and an hvlf one (theta = 1, d = 3: alpha = 1/2)."""
        ads_op = AtlasOperator(
            "O",
            2.0,
            1e-6,
            "measured",
            "example",
            2.0 * (2.0 - 3),
            "+",
            0.5,
            "standard quantisation: Delta_+ = d/2 + nu",
        )
        hvlf_op = AtlasOperator(
            "O", 2.0, 1e-6, "measured", "example", rule="dictionary not applicable"
        )
        systems = [
            AtlasSystem(
                "ads_d3_example-000000000000",
                "ads",
                3,
                1.0,
                1e-9,
                1.0,
                [1e-3, 1e-2],
                True,
                "applicable: alpha_UV = 1 within 0.02 of 1",
                [ads_op],
            ),
            AtlasSystem(
                "hvlf_d3_example-000000000000",
                "hvlf",
                3,
                0.5,
                1e-9,
                1.0,
                [1e-3, 1e-2],
                False,
                "not applicable: alpha_UV = 0.5 (|alpha_UV - 1| = 0.5 >= 0.02): "
                "the boundary is not AdS",
                [hvlf_op],
            ),
        ]
        groups = [
            AtlasGroup("ads", 3, 1, 1, 1.0, 1.0, GroupFit(1.0, -3.0, 0.0, "constrained")),
            AtlasGroup("hvlf", 3, 1, 0, 0.5, 0.5, GroupFit(1.0, -3.0, 0.0, "constrained")),
        ]
        return cls(
            source_stage="example",
            git_sha="0000000",
            tolerance=0.02,
            systems=systems,
            groups=groups,
        )


def _group_counts(systems: list[AtlasSystem]) -> dict[tuple[str, int], tuple[int, int]]:
    counts: dict[tuple[str, int], tuple[int, int]] = {}
    for s in systems:
        n, k = counts.get((s.family, s.d), (0, 0))
        counts[(s.family, s.d)] = (n + 1, k + int(s.applicable))
    return counts


def _check_system(
    system: AtlasSystem, tolerance: float, where: str, report: ValidationReport
) -> None:
    for name in ("alpha_uv", "alpha_uv_err", "effective_radius"):
        value = getattr(system, name)
        if not math.isfinite(value):
            report.error("nonfinite", f"{where}.{name}", f"must be finite, got {value!r}")
            return
    if system.alpha_uv_err < 0 or system.effective_radius <= 0:
        report.error("bad_value", where, "alpha_uv_err >= 0 and effective_radius > 0 required")
    exponents = [system.alpha_uv] + ([system.alpha_t] if system.alpha_t is not None else [])
    rule = all(abs(a - 1) < tolerance for a in exponents)
    if system.applicable != rule:
        report.error(
            "applicability_mismatch",
            f"{where}.applicable",
            f"applicable = {system.applicable} but the exponents {exponents} say {rule} "
            f"(tolerance {tolerance:g})",
        )
    for j, op in enumerate(system.operators):
        _check_operator(op, system, f"{where}.operators[{j}]", report)


def _check_operator(
    op: AtlasOperator, system: AtlasSystem, where: str, report: ValidationReport
) -> None:
    if not math.isfinite(op.Delta):
        report.error("nonfinite", f"{where}.Delta", f"must be finite, got {op.Delta!r}")
        return
    if op.Delta_err is not None and not (math.isfinite(op.Delta_err) and op.Delta_err >= 0):
        report.error("bad_value", f"{where}.Delta_err", f"must be >= 0, got {op.Delta_err!r}")
    mapped = op.m2 is not None
    if mapped and not system.applicable:
        report.error(
            "m2_where_not_applicable", f"{where}.m2", "m2 given where the dictionary does not apply"
        )
    if not mapped:
        if op.branch is not None or op.nu is not None:
            report.error("bad_value", where, "branch and nu need m2")
        return
    d = system.d
    if op.branch is None or op.nu is None:
        report.error("bad_value", where, "m2 needs a branch and nu")
        return
    bound = -(d**2) / 4
    if op.m2 < bound - 1e-12 * abs(bound):
        report.error("bf_bound", f"{where}.m2", f"m2 = {op.m2!r} is below the BF bound {bound!r}")
    side = op.Delta - d / 2
    if (op.branch == "+" and side < -1e-9) or (op.branch == "-" and side > 1e-9):
        report.error(
            "branch_mismatch", f"{where}.branch", f"branch {op.branch!r} but Delta = {op.Delta!r}"
        )
    if op.branch == "-" and not op.nu < 1:
        report.error("bad_branch", f"{where}.branch", f"branch '-' needs nu < 1, nu = {op.nu!r}")
