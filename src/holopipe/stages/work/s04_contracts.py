"""Stage 04's work: what :class:`~holopipe.stages.s04_contracts.GeometryPhysicsContracts` runs
(the module docstring of :mod:`holopipe.stages.s04_contracts` describes it).

Imported by the stage's ``run`` only: planning a run reads the declaration alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from holopipe.run.context import StageContext
from holopipe.stages.base import StageInputs
from holopipe.stages.work.geometry_contracts import prediction_contracts

if TYPE_CHECKING:
    from holopipe.artifacts.contracts import SystemContracts

__all__ = ["DATA_CONTRACTS", "failure_findings", "run"]

OUTPUT_FILE = "geometry_contracts.json"
#: Contracts on metadata agreeing with itself: a failure is a data problem (a warning),
#: not a physics result (a note).
DATA_CONTRACTS = frozenset({"d_consistency"})


def failure_findings(system: SystemContracts, data: bool) -> str | None:
    """One line for a system that failed data (or physics) contracts, else None."""
    failed = [
        c
        for c in system.contracts
        if c.evaluated and not c.passed and (c.name in DATA_CONTRACTS) == data
    ]
    if not failed:
        return None
    details = "; ".join(f"{c.name}: {c.message}" for c in failed)
    return f"{system.system_id} fails {', '.join(c.name for c in failed)} ({details})"


def run(ctx: StageContext, inputs: StageInputs) -> None:
    """Run the stage on ``inputs`` (see :mod:`holopipe.stages.s04_contracts`)."""
    from holopipe.artifacts.contracts import GeometryContracts

    tolerances = ctx.params.tolerances()
    pairs = list(zip(inputs["predictions"], inputs.paths("predictions"), strict=True))
    results = ctx.map(
        lambda pair: prediction_contracts(pair[0], pair[1], tolerances),
        pairs,
        key=lambda pair: pair[0].meta.system_id,
    )
    systems = [r.value for r in results if r.ok]
    if not systems:
        ctx.incomplete("no prediction could be checked: zero contracts evaluated")
        return
    artifact = GeometryContracts(systems=systems, **ctx.provenance.as_fields())
    ctx.write("geometry_contracts", artifact, OUTPUT_FILE)
    ctx.rows = sum(len(s.contracts) for s in systems)
    summary = artifact.summary()
    ctx.metrics.update(
        n_systems=float(len(systems)),
        n_evaluated=float(summary.totals.evaluated),
        n_passed=float(summary.totals.passed),
        n_failed=float(summary.totals.failed),
        n_not_evaluated=float(summary.totals.not_evaluated),
        n_systems_failing=float(
            sum(any(c.evaluated and not c.passed for c in s.contracts) for s in systems)
        ),
    )
    if summary.totals.evaluated == 0:
        ctx.incomplete(
            "zero contracts evaluated: the contracts say nothing about these predictions"
        )
        return
    for system in systems:
        for c in system.contracts:
            if c.evaluated:  # physics failures are results: expected, not problems
                ctx.check(
                    f"{system.system_id}.{c.name}",
                    c.value,
                    c.tolerance,
                    bool(c.passed),
                    expected_failure=c.name not in DATA_CONTRACTS,
                    group=system.family,
                )
        physics = failure_findings(system, data=False)
        if physics:
            ctx.note(physics)
        data = failure_findings(system, data=True)
        if data:
            ctx.warn(data)
        if not any(c.evaluated for c in system.contracts):
            ctx.warn(f"{system.system_id}: no contract could be evaluated")
