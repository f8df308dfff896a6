"""Hypothesis strategies and small helpers shared by the Artifact API tests.

Every strategy builds *valid* instances: they must pass ``validate()`` so that the round-trip
tests can write them. Names that carry a ``_d<k>_`` token always agree with ``d``.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from holopipe.artifacts.checks import FAMILIES
from holopipe.artifacts.contracts import (
    ContractCounts,
    ContractOutcome,
    ContractsSummary,
    GeometryContracts,
    SystemContracts,
)
from holopipe.artifacts.eigenmodes import EigenmodeRow, EigenmodesDataset
from holopipe.artifacts.equations import BulkEquations, CurvatureModelComparison, SystemEquations
from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction
from holopipe.artifacts.records import (
    EXIT_CODES,
    Counts,
    FileRecord,
    RunManifest,
    StageRecord,
    StageSummary,
    SummaryMeta,
    SystemStatus,
)

#: Modest example counts keep the whole suite in seconds.
FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- legacy samples (read-only; a CI clone has shared/ beside the repo) ---------------------
_REPO = Path(__file__).resolve().parents[2]
LEGACY_SAMPLES = next(
    (
        p
        for p in (
            Path(os.environ.get("HOLOPIPE_LEGACY_SAMPLES", "/nonexistent")),
            _REPO.parent / "shared" / "legacy-samples",
            Path("/work/shared/legacy-samples"),
        )
        if p.is_dir()
    ),
    None,
)

# -- scalars -------------------------------------------------------------------------------
finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
nonneg = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
text = st.text(max_size=12)
# Identifiers with no ``d<k>`` token (the letter d is excluded), so they never contradict d.
tokens = st.text(alphabet="abcefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=8)
families = st.sampled_from(FAMILIES)
dims = st.integers(min_value=1, max_value=12)
hexes = st.text(alphabet="0123456789abcdef", min_size=12, max_size=12)
sha256s = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | finite | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)


@st.composite
def system_ids(draw, family=None, d=None):
    """``<family>_d<d>-<12 hex>``, the documented form of :func:`system_id`."""
    family = draw(families) if family is None else family
    d = draw(dims) if d is None else d
    return f"{family}_d{d}-{draw(hexes)}"


# -- GeometryPrediction --------------------------------------------------------------------
@st.composite
def geometry_metas(draw):
    family = draw(families)
    d = draw(dims)
    name = draw(st.none() | tokens.map(lambda t, f=family, d=d: f"{f}_d{d}_{t}"))
    return GeometryMeta(
        system_id=draw(system_ids(family, d)),
        family=family,
        d=d,
        z_h=draw(st.none() | positive),
        source_stage=draw(text),
        git_sha=draw(text),
        system_name=name,
        temperature=draw(st.none() | finite),
        params=draw(st.dictionaries(text, finite, max_size=3)),
        provenance=draw(st.dictionaries(text, json_values, max_size=3)),
    )


@st.composite
def geometry_predictions(draw):
    n = draw(st.integers(min_value=2, max_value=24))
    z = np.sort(draw(hnp.arrays(np.float64, n, elements=st.floats(1e-6, 1e3), unique=True)))
    column = hnp.arrays(np.float64, n, elements=finite)
    optional = st.none() | column
    return GeometryPrediction(
        z=z,
        A=draw(column),
        f=draw(column),
        meta=draw(geometry_metas()),
        R=draw(optional),
        A_t=draw(optional),
        A_z=draw(optional),
    )


# -- StageSummary / RunManifest ------------------------------------------------------------
statuses = st.sampled_from(tuple(EXIT_CODES))


@st.composite
def counts(draw):
    ok = draw(st.integers(0, 50))
    failed = draw(st.integers(0, 50))
    return Counts(
        inputs_total=ok + failed + draw(st.integers(0, 5)),
        inputs_ok=ok,
        inputs_failed=failed,
        outputs_rows=draw(st.integers(0, 10**6)),
    )


@st.composite
def stage_summaries(draw):
    status = draw(statuses)
    return StageSummary(
        stage=draw(text),
        experiment=draw(text),
        status=status,
        exit_code=EXIT_CODES[status],
        meta=SummaryMeta(
            git_sha=draw(text),
            created_at=draw(text),
            holopipe_version=draw(text),
            git_dirty=draw(st.booleans()),
            seed=draw(st.none() | st.integers(0, 2**63 - 1)),
        ),
        counts=draw(counts()),
        errors=draw(st.lists(text, max_size=3)),
        warnings=draw(st.lists(text, max_size=3)),
        artifacts=draw(st.dictionaries(text, text, max_size=3)),
        systems=draw(
            st.lists(st.builds(SystemStatus, text, statuses, st.none() | text), max_size=3)
        ),
        timings=draw(st.dictionaries(text, nonneg, max_size=3)),
        metrics=draw(st.dictionaries(text, finite, max_size=3)),
    )


relative_paths = st.lists(tokens, min_size=1, max_size=3).map("/".join)
file_records = st.builds(
    FileRecord,
    name=text,
    path=relative_paths,
    sha256=sha256s,
    schema=st.none() | text,
    size=st.integers(0, 2**40),
    resolved_from_legacy=st.booleans(),
)


@st.composite
def stage_records(draw, stage):
    status = draw(statuses)
    return StageRecord(
        stage=stage,
        status=status,
        exit_code=EXIT_CODES[status],
        command=draw(st.lists(text, max_size=4)),
        git_sha=draw(text),
        started_at=draw(text),
        finished_at=draw(text),
        fingerprint=draw(sha256s),
        fingerprint_parts=draw(st.dictionaries(tokens, sha256s, max_size=3)),
        git_dirty=draw(st.booleans()),
        environment_sha256=draw(sha256s),
        duration_s=draw(nonneg),
        inputs=draw(st.lists(file_records, max_size=2)),
        outputs=draw(st.lists(file_records, max_size=2)),
    )


@st.composite
def run_manifests(draw):
    keys = draw(st.lists(tokens.map(lambda t: f"0{len(t) % 10}_{t}"), max_size=3, unique=True))
    return RunManifest(
        experiment=draw(text),
        created_at=draw(text),
        updated_at=draw(text),
        holopipe_version=draw(text),
        config_sha256=draw(st.none() | sha256s),
        stages={k: draw(stage_records(k)) for k in keys},
        # Aliases point into a stage dir that has a record.
        aliases=draw(
            st.dictionaries(
                tokens,
                st.tuples(st.sampled_from(keys), relative_paths).map("/".join),
                max_size=3,
            )
        )
        if keys
        else {},
        resolved_from_legacy=draw(st.booleans()),
        legacy_sources=draw(st.lists(st.dictionaries(text, json_values, max_size=2), max_size=2)),
    )


# -- BulkEquations -------------------------------------------------------------------------
@st.composite
def system_equations(draw, system_id=None):
    family = draw(families)
    d = draw(dims)
    return SystemEquations(
        system_id=system_id or draw(system_ids(family, d)),
        family=family,
        d=d,
        n_points=draw(st.integers(3, 10**5)),
        R_mean=draw(finite),
        R_std=draw(nonneg),
        max_abs_einstein_residual=draw(nonneg),
        model_comparison=CurvatureModelComparison(
            draw(finite),
            draw(finite),
            draw(finite),
            draw(finite),
            draw(st.sampled_from(["constant", "z_dependent"])),
        ),
        verdict=draw(
            st.sampled_from(
                ["einstein", "constant_curvature", "z_dependent_curvature", "undetermined"]
            )
        ),
        equations=draw(st.lists(text, max_size=3)),
        params=draw(st.dictionaries(text, finite, max_size=3)),
        R_expected=draw(st.none() | finite),
    )


@st.composite
def bulk_equations(draw):
    systems = draw(
        st.lists(system_equations(), min_size=1, max_size=4, unique_by=lambda s: s.system_id)
    )
    return BulkEquations(source_stage=draw(text), git_sha=draw(text), systems=systems)


# -- GeometryContracts / ContractsSummary --------------------------------------------------
@st.composite
def contract_outcomes(draw):
    evaluated = draw(st.booleans())
    return ContractOutcome(
        name=draw(st.sampled_from(["regularity", "null_energy", "asymptotic_ads", "c_theorem"])),
        evaluated=evaluated,
        passed=draw(st.booleans()) if evaluated else None,
        tolerance=draw(nonneg),
        message=draw(text),
        value=draw(st.none() | finite),
    )


@st.composite
def system_contracts(draw):
    family = draw(families)
    d = draw(dims)
    return SystemContracts(
        system_id=draw(system_ids(family, d)),
        family=family,
        d=d,
        contracts=draw(st.lists(contract_outcomes(), max_size=4)),
        role=draw(st.sampled_from(["prediction", "positive_control", "negative_control"])),
        expected_pass=draw(st.none() | st.booleans()),
    )


@st.composite
def geometry_contracts(draw):
    return GeometryContracts(
        source_stage=draw(text),
        git_sha=draw(text),
        systems=draw(st.lists(system_contracts(), min_size=1, max_size=4)),
    )


contract_counts = st.builds(
    ContractCounts, st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)
)
contracts_summaries = st.builds(
    ContractsSummary,
    n_systems=st.integers(0, 999),
    totals=contract_counts,
    per_contract=st.dictionaries(text, contract_counts, max_size=3),
    verdict=st.sampled_from(["PASS", "FAIL", "INCOMPLETE"]),
) | geometry_contracts().map(GeometryContracts.summary)


#: Every type covered here, with a strategy of valid instances and the file name to use.
ALL_TYPES = {
    "GeometryPrediction": (geometry_predictions(), "x_geometry.npz"),
    "StageSummary": (stage_summaries(), "stage_summary.json"),
    "RunManifest": (run_manifests(), "run_manifest.json"),
    "BulkEquations": (bulk_equations(), "bulk_equations.json"),
    "GeometryContracts": (geometry_contracts(), "geometry_contracts.json"),
    "ContractsSummary": (contracts_summaries, "contracts_summary.json"),
}


# -- helpers -------------------------------------------------------------------------------
def codes(report) -> list[tuple[str, str]]:
    """``(code, location)`` of every finding."""
    return [(f.code, f.location) for f in report.findings]


def write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def stray_files(folder: Path) -> list[str]:
    """Temporary files left behind by an atomic write (``.<name>.*.tmp``)."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def eigenmode_rows(
    system: int, rng: random.Random, m2_values: Iterable[float], **cells
) -> Iterator[EigenmodeRow]:
    """The rows of system number ``system`` in stage 06's loop order: every mass of
    ``m2_values`` x modes 0-2 x branches + and -, ``M2`` and ``Delta`` drawn from ``rng``,
    the other cells those of the example dataset's first row, or ``cells``. Lazily: a
    caller drawing more cells of a row from ``rng`` keeps the draws row by row."""
    base = EigenmodesDataset.example().rows[0]
    return (
        attrs.evolve(
            base,
            system_id=f"ads_d3_{system:04d}-abc",
            m2=m2,
            mode_id=mode,
            branch=branch,
            M2=rng.uniform(0, 50),
            Delta=rng.uniform(0, 3),
            **cells,
        )
        for m2 in m2_values
        for mode in range(3)
        for branch in "+-"
    )
