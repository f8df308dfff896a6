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

import attrs

from holopipe.run.context import StageContext
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs
from holopipe.stages.geometry_contracts import ContractParams

__all__ = ["ContractsParams", "GeometryPhysicsContracts"]


@attrs.define
class ContractsParams(ContractParams):
    """Config section ``stages.04``: the contract tolerances."""


class GeometryPhysicsContracts(Stage):
    """The geometry contracts of PHYSICS.md on every prediction (see the module docstring)."""

    ID, SLUG = "04", "geometry_physics_contracts"
    VERSION = "1"
    INPUTS = (InputSpec("predictions", "GeometryPrediction"),)
    OUTPUTS = (OutputSpec("geometry_contracts", "GeometryContracts"),)
    Params = ContractsParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.stages.work import s04_contracts as work

        work.run(ctx, inputs)
