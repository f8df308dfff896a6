"""Small, fast stages for testing pipelines and the orchestrator itself.

A chain of trivial stages over ``n_systems`` systems: ``01`` writes one BulkEquations
artifact per system, each later stage reads its predecessor's alias and writes its own.
Used by holopipe's tests and benchmarks, and by plugin authors testing their own setups:

    {"seed": 1, "pipeline": ["holopipe.testing:Chain01", "holopipe.testing:Chain02"]}

Examples
--------
>>> [cls.key() for cls in CHAIN][:2]
['01_chain_source', '02_chain_step']
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from holopipe.artifacts.equations import BulkEquations, CurvatureModelComparison, SystemEquations
from holopipe.run.context import StageContext
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs

__all__ = ["CHAIN", "ChainParams"]


@attrs.define
class ChainParams:
    n_systems: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    offset: float = attrs.field(
        default=0.0, metadata={"doc": "added to R_mean: changes the outputs"}
    )
    fail_system: int = attrs.field(
        default=-1, metadata={"doc": "index of a system whose work raises"}
    )


def _equations(system_id: str, r_mean: float) -> BulkEquations:
    comparison = CurvatureModelComparison(-10.0, -9.0, -8.0, -7.0, "constant")
    system = SystemEquations(system_id, "ads", 3, 10, r_mean, 0.0, 0.0, comparison, "einstein")
    return BulkEquations(source_stage="chain", git_sha="test", systems=[system])


class _ChainStage(Stage):
    Params = ChainParams
    ALIAS: ClassVar[str]

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        params: ChainParams = ctx.params
        if self.INPUTS:
            previous = {
                a.systems[0].system_id: a.systems[0].R_mean for a in inputs[self.INPUTS[0].alias]
            }
        else:
            previous = {f"sys_d3_{i:04d}": -12.0 for i in range(params.n_systems)}
        ids = sorted(previous)

        def work(system_id: str) -> BulkEquations:
            if params.fail_system >= 0 and system_id == ids[params.fail_system]:
                raise RuntimeError("requested failure")
            return _equations(system_id, previous[system_id] + params.offset)

        for result in ctx.map(work, ids, key=str):
            if result.ok:
                ctx.write(self.ALIAS, result.value, f"{result.key}.json")
                ctx.rows += 1


def _make_chain(length: int) -> list[type[Stage]]:
    chain: list[type[Stage]] = []
    for i in range(1, length + 1):
        alias = f"chain_{i:02d}"
        attrs_ = {
            "ID": f"{i:02d}",
            "SLUG": "chain_source" if i == 1 else "chain_step",
            "ALIAS": alias,
            "INPUTS": () if i == 1 else (InputSpec(f"chain_{i - 1:02d}", "BulkEquations"),),
            "OUTPUTS": (OutputSpec(alias, "BulkEquations"),),
            "__module__": __name__,
        }
        chain.append(type(f"Chain{i:02d}", (_ChainStage,), attrs_))
    return chain


#: Nine chained stages ``Chain01`` .. ``Chain09``.
CHAIN = _make_chain(9)
globals().update({cls.__name__: cls for cls in CHAIN})
