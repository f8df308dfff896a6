"""GeometryContracts (output of stage 04): per system and contract, whether it was
evaluated, passed, its value and tolerance; with a ``contracts_summary.json`` beside it
for CI.

A contract that could not be evaluated is never a pass, and an artifact with zero
evaluated contracts has the verdict INCOMPLETE.

Examples
--------
>>> import tempfile, pathlib
>>> c = GeometryContracts.example()
>>> path = c.write(pathlib.Path(tempfile.mkdtemp()) / "geometry_contracts.json")
>>> sorted(p.name for p in GeometryContracts.files(path))
['contracts_summary.json', 'geometry_contracts.json']
>>> c.summary().verdict
'PASS'
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Literal, Self

import attrs

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.checks import check_d_against_name, check_family
from holopipe.artifacts.io import atomic_write_bytes
from holopipe.artifacts.report import ValidationReport

__all__ = [
    "ContractCounts",
    "count_contracts",
    "ContractOutcome",
    "ContractsSummary",
    "GeometryContracts",
    "SystemContracts",
]

SUMMARY_NAME = "contracts_summary.json"


@attrs.define
class ContractOutcome:
    name: str
    evaluated: bool
    passed: bool | None = attrs.field(metadata={"doc": "null when not evaluated"})
    tolerance: float
    message: str
    value: float | None = None


@attrs.define
class SystemContracts:
    system_id: str
    family: str
    d: int
    contracts: list[ContractOutcome]
    role: str = attrs.field(
        default="prediction", metadata={"doc": "prediction, positive_control, negative_control"}
    )
    expected_pass: bool | None = attrs.field(
        default=None, metadata={"doc": "for controls: should all contracts pass?"}
    )


@attrs.define
class ContractCounts:
    evaluated: int = 0
    passed: int = 0
    failed: int = 0
    not_evaluated: int = 0


def count_contracts(
    systems: Iterable[SystemContracts],
) -> tuple[ContractCounts, dict[str, ContractCounts]]:
    """Evaluated, passed, failed and not-evaluated counts: overall and per contract name."""
    totals = ContractCounts()
    per: dict[str, ContractCounts] = {}
    for system in systems:
        for c in system.contracts:
            for counts in (totals, per.setdefault(c.name, ContractCounts())):
                if not c.evaluated:
                    counts.not_evaluated += 1
                    continue
                counts.evaluated += 1
                if c.passed:
                    counts.passed += 1
                else:
                    counts.failed += 1
    return totals, per


@attrs.define
class ContractsSummary(JSONArtifact):
    """``contracts_summary.json``: totals and a verdict for CI."""

    SCHEMA_NAME: ClassVar[str] = "ContractsSummary"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = (SUMMARY_NAME,)

    n_systems: int
    totals: ContractCounts
    per_contract: dict[str, ContractCounts]
    verdict: Literal["PASS", "FAIL", "INCOMPLETE"]

    @classmethod
    def example(cls) -> Self:
        return GeometryContracts.example().summary()


@attrs.define
class GeometryContracts(JSONArtifact):
    """Physics contracts evaluated per geometry (d per geometry, never global)."""

    SCHEMA_NAME: ClassVar[str] = "GeometryContracts"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("geometry_contracts.json", ".json")
    # _load reads the sidecar too: the object is checked again after loading.
    LOAD_CHECKS_FIELDS: ClassVar[bool] = False
    HAS_SIDECARS: ClassVar[bool] = True

    source_stage: str
    git_sha: str
    systems: list[SystemContracts]

    def summary(self) -> ContractsSummary:
        """Totals per contract and overall; INCOMPLETE when nothing was evaluated."""
        totals, per = count_contracts(self.systems)
        verdict = (
            "INCOMPLETE" if totals.evaluated == 0 else ("PASS" if totals.failed == 0 else "FAIL")
        )
        return ContractsSummary(
            n_systems=len(self.systems), totals=totals, per_contract=per, verdict=verdict
        )

    def _check(self, report: ValidationReport) -> None:
        if not self.systems:
            report.error("empty", "systems", "no system in the artifact")
        for i, s in enumerate(self.systems):
            check_family(s.family, f"systems[{i}].family", report)
            check_d_against_name(s.d, s.system_id, f"systems[{i}].d", report)
            for j, c in enumerate(s.contracts):
                where = f"systems[{i}].contracts[{j}]"
                if c.evaluated and c.passed is None:
                    report.error(
                        "bad_value", f"{where}.passed", "evaluated contract without a result"
                    )
                if not c.evaluated and c.passed is not None:
                    report.error(
                        "bad_value",
                        f"{where}.passed",
                        "a contract not evaluated cannot pass or fail",
                    )
        if self.systems and self.summary().totals.evaluated == 0:
            report.warning(
                "nothing_evaluated", "systems", "zero contracts evaluated: verdict INCOMPLETE"
            )

    @classmethod
    def files(cls, path: str | os.PathLike) -> list[Path]:
        path = Path(path)
        return [path, path.with_name(SUMMARY_NAME)]

    def _dump(self, path: Path) -> None:
        super()._dump(path)
        atomic_write_bytes(path.with_name(SUMMARY_NAME), self.summary().to_json().encode("utf-8"))

    @classmethod
    def _load(cls, path: Path, report: ValidationReport) -> Self | None:
        obj = super()._load(path, report)
        summary_path = path.with_name(SUMMARY_NAME)
        if obj is None:
            return None
        if not summary_path.is_file():
            report.error(
                "missing_file", SUMMARY_NAME, "the contracts summary beside the artifact is missing"
            )
            return obj
        summary_report = ContractsSummary.validate_file(summary_path)
        for f in summary_report.findings:
            report.findings.append(attrs.evolve(f, location=f"{SUMMARY_NAME}:{f.location}"))
        if summary_report.ok and ContractsSummary.read(summary_path) != obj.summary():
            report.error(
                "stale_summary", SUMMARY_NAME, "does not match the contracts it summarises"
            )
        return obj

    @classmethod
    def example(cls) -> Self:
        outcome = ContractOutcome("regularity", True, True, 1e-3, "finite, f(0) = 1", 0.0)
        return cls(
            source_stage="04_geometry_physics_contracts",
            git_sha="0000000",
            systems=[SystemContracts("ads_d3-525ba9894eec", "ads", 3, [outcome])],
        )
