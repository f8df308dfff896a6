"""Stage 04 ``geometry_physics_contracts``: the contract table of PHYSICS.md on every
predicted geometry, with that geometry's own d (from its meta, never a global flag).

Contracts (:func:`holopipe.science.contracts.evaluate_contracts`): regularity, horizon,
temperature, UV asymptotics, Einstein (ads family), null energy / c-theorem, d
consistency (the d of the meta against the ``_d<k>_`` token of the file name and of the
system name). A contract that cannot be evaluated is recorded as such and is never a pass.

Status policy:

- zero evaluated contracts over the whole input: INCOMPLETE (exit 2), never a pass;
- a prediction failing contracts is a *physics finding* (deformed a > 0 must fail the null
  energy condition), recorded in the artifact with the value and tolerance, counted in
  the summary metrics and listed as one stage *note* per failing system: the stage did
  its job, so the status stays OK. A failed data contract (``d_consistency``: the file
  name, attributes and operators disagree about d) and a system whose contracts could not
  be evaluated at all are warnings (exit 1);
- per-system status stays OK unless the evaluation itself raised (ERROR for that system).

Outputs: ``geometry_contracts/geometry_contracts.json`` and, beside it,
``contracts_summary.json`` (totals per contract and the verdict PASS/FAIL/INCOMPLETE).

Examples
--------
>>> GeometryPhysicsContracts.key()
'04_geometry_physics_contracts'
>>> ContractsParams().tolerances().einstein
0.01
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from holopipe.run.context import StageContext
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs
from holopipe.stages.geometry_contracts import ContractParams, prediction_contracts

if TYPE_CHECKING:
    from holopipe.artifacts.contracts import SystemContracts


__all__ = ["DATA_CONTRACTS", "ContractsParams", "GeometryPhysicsContracts", "failure_findings"]

OUTPUT_FILE = "geometry_contracts.json"


@attrs.define
class ContractsParams(ContractParams):
    """Config section ``stages.04``: the contract tolerances."""


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


class GeometryPhysicsContracts(Stage):
    """The geometry contracts of PHYSICS.md on every prediction (see the module docstring)."""

    ID, SLUG = "04", "geometry_physics_contracts"
    VERSION = "1"
    INPUTS = (InputSpec("predictions", "GeometryPrediction"),)
    OUTPUTS = (OutputSpec("geometry_contracts", "GeometryContracts"),)
    Params = ContractsParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
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
