"""Plug your own stage (and your own artifact type) into the pipeline.

Run: ``python examples/custom_stage.py [WORK_DIR]`` (default: a temporary folder). It runs the
reference stages 01 and 02 on a small sandbox, then the stage defined here, which reads the
predictions through the alias ``predictions/`` and writes a validated, versioned table.

In a package of your own, register the classes under the entry-point groups
``holopipe.stages`` and ``holopipe.artifacts`` instead of naming them in the config.
"""

import json
import sys
import tempfile
from pathlib import Path
from typing import ClassVar

import attrs

from holopipe.artifacts import JSONArtifact, ValidationReport, register
from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.stages import InputSpec, OutputSpec, Stage


@attrs.define
class TemperatureRow:
    system_id: str
    family: str
    d: int
    temperature: float | None


@register
@attrs.define
class TemperatureTable(JSONArtifact):
    """Temperature of every reconstructed geometry."""

    SCHEMA_NAME: ClassVar[str] = "TemperatureTable"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("temperature_table.json",)

    rows: list[TemperatureRow]

    def _check(self, report: ValidationReport) -> None:
        if not self.rows:
            report.error("empty", "rows", "no system in the table")

    @classmethod
    def example(cls) -> "TemperatureTable":
        return cls(rows=[TemperatureRow("ads_d3-525ba9894eec", "ads", 3, 0.2387)])


@attrs.define
class Params:
    thermal_only: bool = attrs.field(default=False, metadata={"doc": "skip T = 0 systems"})


class TemperatureTableStage(Stage):
    """Stage 07 of this example: one row per prediction."""

    ID, SLUG = "07", "temperature_table"
    INPUTS = (InputSpec("predictions", "GeometryPrediction"),)
    OUTPUTS = (OutputSpec("temperature_table", "TemperatureTable"),)
    Params = Params

    def run(self, ctx, inputs):
        rows = [
            TemperatureRow(g.meta.system_id, g.meta.family, g.meta.d, g.meta.temperature)
            for g in inputs["predictions"]
            if not (ctx.params.thermal_only and not g.meta.temperature)
        ]
        ctx.write("temperature_table", TemperatureTable(rows=rows), "temperature_table.json")
        ctx.rows = len(rows)


if __name__ == "__main__":
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    config = {
        "seed": 1,
        "pipeline": [
            "holopipe.stages.s01_sandbox:GenerateSandboxGeometries",
            "holopipe.stages.s02_reconstruction:EmergentGeometryEngine",
            "custom_stage:TemperatureTableStage",
        ],
        "stages": {"01": {"families": ["ads", "lifshitz"], "n_per_family": 2, "d_values": [3]}},
    }
    work.mkdir(parents=True, exist_ok=True)
    config_path = work / "custom.json"
    config_path.write_text(json.dumps(config))
    sys.path.insert(0, str(Path(__file__).parent))  # so that "custom_stage:..." imports
    code = run_pipeline(RunRequest(work / "runs", "custom", config_path))
    table = TemperatureTable.read(
        work / "runs" / "custom" / "temperature_table" / "temperature_table.json"
    )
    for row in table.rows:
        print(f"{row.system_id:32s} {row.family:9s} d={row.d} T={row.temperature}")
    sys.exit(code)
