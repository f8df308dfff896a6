"""Stage 01 ``generate_sandbox_geometries``: sandbox universes with truth and boundary data.

Thin glue over :mod:`holopipe.data.sandbox`: draw the universes of the config
(``stages.01``, :class:`~holopipe.data.sandbox.SandboxSpec`) from the run seed, generate each
one with ``ctx.map``, write one SandboxGeometry per universe (``sandbox/<name>.nc``) and the
SandboxIndex (``sandbox_index/sandbox_index.json``). With ``theory`` in the config, the boundary
data of that real theory join them as one boundary-only universe named after the theory
(:mod:`holopipe.data.theory`: read from ``theory_file``, a legacy boundary file, or synthesised
from the theory's reference table, which makes the run a round trip).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from holopipe.data.sandbox_spec import SandboxSpec
from holopipe.stages.base import OutputSpec, Stage, StageInputs

if TYPE_CHECKING:
    from holopipe.artifacts.sandbox import SandboxGeometry
    from holopipe.data.sandbox import UniversePlan
    from holopipe.run.context import StageContext

__all__ = ["GenerateSandboxGeometries", "SandboxParams"]


@attrs.define
class SandboxParams(SandboxSpec):
    """Config section ``stages.01``: what universes to draw (:class:`SandboxSpec`)."""


class GenerateSandboxGeometries(Stage):
    """Draw and write the sandbox universes (PHYSICS.md, "01 sandbox universes")."""

    ID, SLUG = "01", "generate_sandbox_geometries"
    VERSION = "1"
    OUTPUTS = (
        OutputSpec("sandbox", "SandboxGeometry"),
        OutputSpec("sandbox_index", "SandboxIndex"),
    )
    Params = SandboxParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.artifacts.sandbox import SandboxGeometry
        from holopipe.artifacts.sandbox_index import SandboxEntry, SandboxIndex
        from holopipe.data.sandbox import generate_universe, plan_universes
        from holopipe.data.theory import TheoryDataError, theory_universe

        spec: SandboxParams = ctx.params
        plans = plan_universes(spec, ctx.seed)

        def generate(plan: UniversePlan) -> SandboxGeometry:
            return generate_universe(plan, spec)

        universes = [r.value for r in ctx.map(generate, plans, key=lambda p: p.system_id) if r.ok]
        theory_problem = None
        if spec.theory is not None:
            try:
                universes.append(theory_universe(spec))
                ctx.note(f"{universes[-1].meta.category} data of {spec.theory}: {_source(spec)}")
            except TheoryDataError as exc:
                # The universes are still written; the run stops here (INCOMPLETE).
                theory_problem = f"theory {spec.theory}: {exc}"
        entries = []
        for universe in universes:
            meta = universe.meta
            filename = f"{meta.system_name}{SandboxGeometry.SUFFIXES[0]}"
            ctx.write("sandbox", universe, filename)
            entries.append(
                SandboxEntry(
                    system_id=meta.system_id,
                    system_name=meta.system_name,
                    family=meta.family,
                    d=meta.d,
                    z_h=meta.z_h,
                    temperature=meta.temperature,
                    file=f"sandbox/{filename}",
                    params=dict(meta.params),
                )
            )
        ctx.rows = len(entries)
        ctx.metrics["universes"] = float(len(entries))
        ctx.metrics["zero_temperature"] = float(sum(e.z_h is None for e in entries))
        ctx.metrics["boundary_only"] = float(sum(u.truth is None for u in universes))
        if not entries:
            ctx.incomplete(theory_problem or "no sandbox universe could be generated")
            return
        index = SandboxIndex(
            **ctx.provenance.as_fields(),
            seed=ctx.seed,
            systems=entries,
        )
        ctx.write("sandbox_index", index, "sandbox_index.json")
        if theory_problem:
            ctx.incomplete(theory_problem)


def _source(spec: SandboxSpec) -> str:
    if spec.theory_file is not None:
        return f"read from the legacy boundary file {spec.theory_file}"
    return (
        "G2 = x^(-2 Delta) synthesised from the reference table: measuring Delta from them "
        "and comparing with the same table is a round trip"
    )
