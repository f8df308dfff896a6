"""Stage 01 ``generate_sandbox_geometries``: sandbox universes with truth and boundary data.

Thin glue over :mod:`holopipe.data.sandbox`: draw the universes of the config
(``stages.01``, :class:`~holopipe.data.sandbox.SandboxSpec`) from the run seed, generate each
one with ``ctx.map``, write one SandboxGeometry per universe (``sandbox/<name>.nc``) and the
SandboxIndex (``sandbox_index/sandbox_index.json``).
"""

from __future__ import annotations

from holopipe.artifacts.sandbox import SandboxGeometry
from holopipe.artifacts.sandbox_index import SandboxEntry, SandboxIndex
from holopipe.data.sandbox import SandboxSpec, UniversePlan, generate_universe, plan_universes
from holopipe.run.context import StageContext
from holopipe.run.provenance import code_version
from holopipe.stages.base import OutputSpec, Stage, StageInputs

__all__ = ["GenerateSandboxGeometries"]


class GenerateSandboxGeometries(Stage):
    """Draw and write the sandbox universes (PHYSICS.md, "01 sandbox universes")."""

    ID, SLUG = "01", "generate_sandbox_geometries"
    VERSION = "1"
    OUTPUTS = (
        OutputSpec("sandbox", "SandboxGeometry"),
        OutputSpec("sandbox_index", "SandboxIndex"),
    )
    Params = SandboxSpec

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        spec: SandboxSpec = ctx.params
        plans = plan_universes(spec, ctx.seed)

        def generate(plan: UniversePlan) -> SandboxGeometry:
            return generate_universe(plan, spec)

        entries = []
        for result in ctx.map(generate, plans, key=lambda plan: plan.system_id):
            if not result.ok:
                continue
            universe: SandboxGeometry = result.value
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
        if not entries:
            ctx.incomplete("no sandbox universe could be generated")
            return
        index = SandboxIndex(
            source_stage=self.key(),
            git_sha=code_version().git_sha,
            seed=ctx.seed,
            systems=entries,
        )
        ctx.write("sandbox_index", index, "sandbox_index.json")
