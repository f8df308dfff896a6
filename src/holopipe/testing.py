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

from typing import TYPE_CHECKING, ClassVar

import attrs

from holopipe.run.context import StageContext
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs

if TYPE_CHECKING:  # imported where a stage runs, as a real stage module does (thin)
    from holopipe.artifacts.equations import BulkEquations

__all__ = ["CHAIN", "NOT_IMPORTED_BY_A_NO_OP", "ChainParams"]

#: What a no-op ``holopipe run --to 06`` must not import: the work of the stages
#: (``holopipe.stages.work``, their science and artifact types), up to date or never run, and
#: the machinery of a stage that actually runs. The stage registry, the plan and the report
#: need only each stage's declaration (ids, input/output schema names, Params, whose defaults
#: and checks come from ``science.defaults`` and ``data.sandbox_spec``). Checked by
#: tests/test_imports.py, reported by benchmarks/bench_startup.py.
NOT_IMPORTED_BY_A_NO_OP = (
    "holopipe.artifacts.atlas",
    "holopipe.artifacts.dictionary",
    "holopipe.artifacts.eigenmodes",
    "holopipe.artifacts.equations",
    "holopipe.artifacts.prediction",
    "holopipe.artifacts.real_data",
    "holopipe.artifacts.sandbox",
    "holopipe.artifacts.sandbox_index",
    "holopipe.artifacts.sniff",
    "holopipe.data.cft",
    "holopipe.data.sandbox",
    "holopipe.data.theory",
    "holopipe.run.discipline",
    "holopipe.science.analysis",
    "holopipe.science.atlas",
    "holopipe.science.boundary",
    "holopipe.science.contracts",
    "holopipe.science.dictionary_fit",
    "holopipe.science.dimensions",
    "holopipe.science.negative_controls",
    "holopipe.science.real_data",
    "holopipe.science.reconstruction",
    "holopipe.science.sturm_liouville",
    "holopipe.science.uv_falloff",
    "holopipe.stages.work",
)


@attrs.define
class ChainParams:
    n_systems: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    offset: float = attrs.field(
        default=0.0, metadata={"doc": "added to R_mean: changes the outputs"}
    )
    fail_system: int = attrs.field(
        default=-1, metadata={"doc": "index of a system whose work raises"}
    )
    systems_per_file: int = attrs.field(
        default=1,
        validator=attrs.validators.ge(1),
        metadata={"doc": "systems written into one BulkEquations file (benchmarks: fewer files)"},
    )


def _equations(system_id: str, r_mean: float) -> BulkEquations:
    from holopipe.artifacts.equations import (
        BulkEquations,
        CurvatureModelComparison,
        SystemEquations,
    )

    comparison = CurvatureModelComparison(-10.0, -9.0, -8.0, -7.0, "constant")
    system = SystemEquations(system_id, "ads", 3, 10, r_mean, 0.0, 0.0, comparison, "einstein")
    return BulkEquations(source_stage="chain", git_sha="test", systems=[system])


class _ChainStage(Stage):
    Params = ChainParams
    ALIAS: ClassVar[str]

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.artifacts.equations import BulkEquations

        params: ChainParams = ctx.params
        if self.INPUTS:
            previous = {
                s.system_id: s.R_mean for a in inputs[self.INPUTS[0].alias] for s in a.systems
            }
        else:
            previous = {f"sys_d3_{i:04d}": -12.0 for i in range(params.n_systems)}
        ids = sorted(previous)
        size = params.systems_per_file
        files = {ids[i]: ids[i : i + size] for i in range(0, len(ids), size)}  # by first id

        def work(first: str) -> BulkEquations:
            chunk = files[first]
            if params.fail_system >= 0 and ids[params.fail_system] in chunk:
                raise RuntimeError("requested failure")
            systems = [_equations(s, previous[s] + params.offset).systems[0] for s in chunk]
            return BulkEquations(source_stage="chain", git_sha="test", systems=systems)

        for result in ctx.map(work, list(files), key=str):
            if result.ok:
                ctx.write(self.ALIAS, result.value, f"{result.key}.json")
                ctx.rows += len(files[result.key])
            status = ("OK", None) if result.ok else ("ERROR", result.error)
            for system_id in files[result.key][1:]:  # the file's other systems (map saw its first)
                ctx.mark_system(system_id, *status)


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
