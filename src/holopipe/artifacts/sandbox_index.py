"""SandboxIndex: the list of sandbox universes of a stage 01 run, JSON.

One entry per universe with what a reader needs to select systems without opening the
netCDF files: the stable ``system_id``, name, family, d, family parameters, horizon,
temperature, and the universe's file relative to the run root (``sandbox/<name>.nc``, through
the stage's alias).

Examples
--------
>>> index = SandboxIndex.example()
>>> index.validate().ok
True
>>> index.systems[0].file
'sandbox/ads_d2_example.nc'
"""

from __future__ import annotations

from typing import ClassVar, Self

import attrs

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.checks import check_d_against_name, check_family
from holopipe.artifacts.report import ValidationReport

__all__ = ["SandboxEntry", "SandboxIndex"]

_UNIVERSE_SUFFIXES = (".nc", ".h5")


@attrs.define
class SandboxEntry:
    """One sandbox universe."""

    system_id: str = attrs.field(metadata={"doc": "stable id, the same in every stage"})
    system_name: str = attrs.field(metadata={"doc": "human name, e.g. ads_d3_000"})
    family: str = attrs.field(metadata={"doc": "ads | lifshitz | hvlf | deformed"})
    d: int = attrs.field(metadata={"doc": "boundary spacetime dimension (CFT_d)"})
    z_h: float | None = attrs.field(metadata={"doc": "horizon; null at T = 0"})
    temperature: float = attrs.field(metadata={"doc": "T of the boundary theory (0 at T = 0)"})
    file: str = attrs.field(metadata={"doc": "the SandboxGeometry file, relative to the run root"})
    params: dict[str, float] = attrs.field(
        factory=dict, metadata={"doc": "family parameters (zeta, theta, a)"}
    )


@attrs.define
class SandboxIndex(JSONArtifact):
    """Index of the sandbox universes written by stage 01."""

    SCHEMA_NAME: ClassVar[str] = "SandboxIndex"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("sandbox_index.json", ".json")

    source_stage: str = attrs.field(metadata={"doc": "stage that wrote it, e.g. 01_generate_..."})
    git_sha: str = attrs.field(metadata={"doc": "code version that wrote it"})
    seed: int = attrs.field(metadata={"doc": "run seed the universes were drawn with"})
    systems: list[SandboxEntry] = attrs.field(metadata={"doc": "one per universe, by system_id"})

    def _check(self, report: ValidationReport) -> None:
        if not self.systems:
            report.error("empty", "systems", "no universe in the index")
        seen_ids: set[str] = set()
        seen_files: set[str] = set()
        for i, entry in enumerate(self.systems):
            where = f"systems[{i}]"
            for key, seen in (("system_id", seen_ids), ("file", seen_files)):
                value = getattr(entry, key)
                if value in seen:
                    report.error("duplicate", f"{where}.{key}", f"{value!r} appears twice")
                seen.add(value)
            check_family(entry.family, f"{where}.family", report)
            check_d_against_name(entry.d, entry.system_name, f"{where}.d", report)
            if entry.z_h is not None and not entry.z_h > 0:
                report.error("bad_value", f"{where}.z_h", f"must be positive, got {entry.z_h!r}")
            T = entry.temperature
            if not T >= 0:
                report.error("bad_value", f"{where}.temperature", f"must be >= 0, got {T!r}")
            elif (entry.z_h is None) != (T == 0):
                report.error(
                    "temperature_mismatch",
                    f"{where}.temperature",
                    f"T = {T!r} with z_h = {entry.z_h!r}: T = 0 exactly when there is no horizon",
                )
            if not entry.file.endswith(_UNIVERSE_SUFFIXES) or entry.file.startswith("/"):
                endings = " or ".join(_UNIVERSE_SUFFIXES)
                report.error(
                    "bad_value",
                    f"{where}.file",
                    f"expected a relative path ending in {endings}, got {entry.file!r}",
                )

    @classmethod
    def example(cls) -> Self:
        """The index of :meth:`SandboxGeometry.example` (BTZ, d = 2, z_h = 1)."""
        import math

        from holopipe.artifacts.identity import system_id

        defining = {"family": "ads", "d": 2, "z_h": 1.0, "params": {}}
        entry = SandboxEntry(
            system_id=system_id(defining, name="ads_d2_example"),
            system_name="ads_d2_example",
            family="ads",
            d=2,
            z_h=1.0,
            temperature=2 / (4 * math.pi),
            file="sandbox/ads_d2_example.nc",
        )
        stage = "01_generate_sandbox_geometries"
        return cls(source_stage=stage, git_sha="0000000", seed=0, systems=[entry])
