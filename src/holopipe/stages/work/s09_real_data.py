"""Stage 09's work: what :class:`~holopipe.stages.s09_real_data.RealDataAndDictionaryContracts` runs
(the module docstring of :mod:`holopipe.stages.s09_real_data` describes it).

Imported by the stage's ``run`` only: planning a run reads the declaration alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from holopipe.stages.base import StageInputs
from holopipe.stages.s09_real_data import RealDataParams

if TYPE_CHECKING:
    from holopipe.artifacts.atlas import AtlasOperator, AtlasSystem, HolographicAtlas
    from holopipe.artifacts.contracts import GeometryContracts
    from holopipe.artifacts.real_data import ContractCheck, OperatorComparison, RealDataContracts
    from holopipe.data.cft import CFTTable, ReferenceOperator
    from holopipe.run.context import StageContext
    from holopipe.science.real_data import Check

__all__ = ["ROUND_TRIP_METHOD", "run"]

OUTPUT_FILE = "real_data_contracts.json"
#: Stage 02's boundary_method of data synthesised from a reference table (a round trip).
ROUND_TRIP_METHOD = "reference_table"


def _as_record(kind: str, subject: str, check: Check) -> ContractCheck:
    from holopipe.artifacts.real_data import ContractCheck

    return ContractCheck(
        kind,
        subject,
        check.name,
        check.evaluated,
        check.passed,
        check.value,
        check.tolerance,
        check.message,
    )


def _table_for(system: AtlasSystem, tables: dict[str, CFTTable]) -> CFTTable | None:
    return tables.get(system.theory) if system.theory else None


def real_data_checks(
    system: AtlasSystem, table: CFTTable
) -> tuple[list[OperatorComparison], list[ContractCheck], list[str]]:
    """Comparisons and contracts of one real-theory system; also the unlisted operator names."""
    from holopipe.science.real_data import operator_checks

    round_trip = system.boundary_method == ROUND_TRIP_METHOD
    measured = {op.name: op for op in system.operators if op.source == "measured"}
    comparisons, checks = [], []
    for ref in table.operators:
        subject = f"{system.system_id}/{ref.name}"
        op = measured.get(ref.name)
        if system.d != table.d:
            checks.append(_d_mismatch(subject, system, table))
        elif op is None:
            checks.append(_not_measured(subject, system, ref))
        else:
            results = operator_checks(
                table.d, op.Delta, op.Delta_err, ref.Delta, ref.Delta_err, ref.quantisation
            )
            checks += [_as_record("real_data", subject, c) for c in results]
            comparisons.append(_comparison(system, table, ref, op, round_trip))
    unlisted = sorted(set(measured) - {ref.name for ref in table.operators})
    return comparisons, checks, unlisted


def _d_mismatch(subject: str, system: AtlasSystem, table: CFTTable) -> ContractCheck:
    """A system compared with the table of a theory in another dimension: a failed contract."""
    message = f"system d = {system.d}, {table.theory} has d = {table.d}"
    return _own_check(subject, "d_consistency", False, float(system.d), float(table.d), message)


def _not_measured(subject: str, system: AtlasSystem, ref: ReferenceOperator) -> ContractCheck:
    """A table operator the system did not measure: not evaluated, never a pass."""
    from holopipe.science.real_data import MAX_PULL

    message = f"not evaluated: {ref.name} was not measured in {system.system_id}"
    return _own_check(subject, "pull", None, None, MAX_PULL, message)


def _own_check(
    subject: str,
    name: str,
    passed: bool | None,
    value: float | None,
    tolerance: float,
    message: str,
) -> ContractCheck:
    """A real-data contract stage 09 decides itself (not a science ``Check``): evaluated
    when it has a verdict (``passed`` is ``None`` otherwise)."""
    from holopipe.artifacts.real_data import ContractCheck

    return ContractCheck(
        "real_data", subject, name, passed is not None, passed, value, tolerance, message
    )


def _comparison(
    system: AtlasSystem,
    table: CFTTable,
    ref: ReferenceOperator,
    op: AtlasOperator,
    round_trip: bool,
) -> OperatorComparison:
    """The measured dimension of one operator beside its reference value, with the pull."""
    from holopipe.artifacts.real_data import OperatorComparison
    from holopipe.science.dictionary_fit import infer_mass
    from holopipe.science.real_data import pull

    m2, branch, _ = infer_mass(table.d, op.Delta)
    return OperatorComparison(
        system.system_id,
        table.theory,
        ref.name,
        table.d,
        op.Delta,
        op.Delta_err,
        ref.Delta,
        ref.Delta_err,
        pull(op.Delta, op.Delta_err, ref.Delta, ref.Delta_err)
        if op.Delta_err is not None
        else None,
        branch,
        ref.quantisation,
        m2,
        str(ref.citation),
        round_trip,
    )


def dictionary_checks(atlas: HolographicAtlas) -> list[ContractCheck]:
    """unitarity, BF bound and branch rule of every atlas operator that was given an m^2."""
    from holopipe.science.real_data import dictionary_entry_checks

    checks = []
    for system in atlas.systems:
        for op in system.operators:
            if op.m2 is None or op.branch is None:
                continue
            subject = f"{system.system_id}/{op.name}"
            checks += [
                _as_record("dictionary", subject, c)
                for c in dictionary_entry_checks(system.d, op.Delta, op.m2, op.branch)
            ]
    return checks


def negative_control_checks(
    controls: GeometryContracts | None, params: RealDataParams
) -> list[ContractCheck]:
    """The 04c gate: false-positive rate and coverage (not evaluated without the input)."""
    from holopipe.artifacts.real_data import ContractCheck
    from holopipe.science.negative_controls import ControlOutcome, control_statistics

    subject = "negative_controls"
    if controls is None:
        return [
            ContractCheck(
                "negative_controls",
                subject,
                name,
                False,
                None,
                None,
                tol,
                "not evaluated: no negative_controls input (stage 04c)",
            )
            for name, tol in (
                ("false_positive_rate", params.max_false_positive_rate),
                ("coverage", params.min_coverage),
            )
        ]
    outcomes = []
    for system in controls.systems:
        if system.role != "negative_control":
            continue
        evaluated = [c for c in system.contracts if c.evaluated]
        passed = all(c.passed for c in evaluated) if evaluated else None
        outcomes.append(ControlOutcome(system.system_id, bool(evaluated), passed))
    stats = control_statistics(
        outcomes,
        min_coverage=params.min_coverage,
        max_false_positive_rate=params.max_false_positive_rate,
    )
    rate = stats.false_positive_rate
    return [
        ContractCheck(
            "negative_controls",
            subject,
            "false_positive_rate",
            rate is not None,
            None if rate is None else rate <= params.max_false_positive_rate,
            rate,
            params.max_false_positive_rate,
            stats.message,
        ),
        ContractCheck(
            "negative_controls",
            subject,
            "coverage",
            stats.n_controls > 0,
            stats.coverage >= params.min_coverage if stats.n_controls else None,
            stats.coverage if stats.n_controls else None,
            params.min_coverage,
            stats.message,
        ),
    ]


def _note_unconfirmed_references(
    ctx: StageContext, comparisons: list[OperatorComparison], tables: dict[str, CFTTable]
) -> None:
    """One note naming the reference values compared against that were not confirmed at their
    source (``confirmed: false`` in the table): those pulls are provisional."""
    unconfirmed = sorted(
        {
            f"{c.theory} {c.operator}"
            for c in comparisons
            if (ref := tables[c.theory].operator(c.operator)) is not None and not ref.confirmed
        }
    )
    if unconfirmed:
        ctx.note(
            "reference values not confirmed at their source (see each table's verification "
            f"field), so their pulls are provisional: {', '.join(unconfirmed)}"
        )


def run(ctx: StageContext, inputs: StageInputs) -> None:
    """Run the stage on ``inputs`` (see :mod:`holopipe.stages.s09_real_data`)."""
    from holopipe.artifacts.real_data import RealDataContracts, verdict_of
    from holopipe.data.cft import CFTDataError, available_theories, reference_table

    params: RealDataParams = ctx.params
    atlases: list[HolographicAtlas] = inputs["atlas"]
    controls = (inputs.get("negative_controls") or [None])[0]
    tables: dict[str, CFTTable] = {}
    for theory in available_theories():
        try:
            tables[theory] = reference_table(theory)
        except CFTDataError as exc:
            ctx.error(f"reference table {theory}: {exc}")
    comparisons: list[OperatorComparison] = []
    checks: list[ContractCheck] = []
    compared: set[str] = set()
    for atlas in atlases:
        for system in atlas.systems:
            table = _table_for(system, tables)
            if system.theory and table is None:
                ctx.warn(f"{system.system_id}: no reference table for theory {system.theory!r}")
            if table is None:
                continue
            compared.add(table.theory)
            found, system_checks, unlisted = real_data_checks(system, table)
            comparisons += found
            checks += system_checks
            if unlisted:
                ctx.note(
                    f"{system.system_id}: measured operators not in the {table.theory} "
                    f"table: {', '.join(unlisted)}"
                )
        checks += dictionary_checks(atlas)
    checks += negative_control_checks(controls, params)
    round_trip = any(c.round_trip for c in comparisons)
    note = (
        "round trip: the measured dimensions come from boundary data synthesised from the "
        "reference table itself (boundary method reference_table), so the pulls test the "
        "measurement chain, not the theory"
        if round_trip
        else None
    )
    artifact = RealDataContracts(
        **ctx.provenance.as_fields(),
        theories=sorted(compared),
        round_trip=round_trip,
        round_trip_note=note,
        comparisons=comparisons,
        checks=checks,
        verdict=verdict_of(checks),
    )
    ctx.write("real_data_contracts", artifact, OUTPUT_FILE)
    ctx.rows = len(checks)
    _note_unconfirmed_references(ctx, comparisons, tables)
    _report(ctx, artifact, note)


def _report(ctx: StageContext, artifact: RealDataContracts, note: str | None) -> None:
    from holopipe.data.cft import available_theories

    checks = artifact.checks
    evaluated = [c for c in checks if c.evaluated]
    failed = [c for c in evaluated if not c.passed]
    by_kind = {}
    for c in checks:
        by_kind.setdefault(c.kind, [0, 0])
        by_kind[c.kind][0] += c.evaluated
        by_kind[c.kind][1] += bool(c.evaluated and not c.passed)
    ctx.metrics.update(
        n_checks=float(len(checks)),
        n_evaluated=float(len(evaluated)),
        n_failed=float(len(failed)),
        n_not_evaluated=float(len(checks) - len(evaluated)),
        n_comparisons=float(len(artifact.comparisons)),
        round_trip=float(artifact.round_trip),
        **{f"{kind}_evaluated": float(n) for kind, (n, _) in by_kind.items()},
        **{f"{kind}_failed": float(f) for kind, (_, f) in by_kind.items()},
    )
    for c in artifact.comparisons:
        if c.pull is not None:
            ctx.metrics[f"pull_{c.theory}_{c.operator}"] = c.pull
    if not artifact.comparisons:
        ctx.note(
            "no system of a theory with a reference table "
            f"({', '.join(available_theories())}) in this run: real-data contracts not "
            "applicable; dictionary and negative-control contracts evaluated"
        )
    if note:
        ctx.note(note)
    for c in artifact.comparisons:
        ctx.log.info(
            "%s %s: Delta = %.7g vs %.7g, pull %s, Delta_%s",
            c.theory,
            c.operator,
            c.Delta,
            c.Delta_ref,
            "n/a" if c.pull is None else f"{c.pull:.3g}",
            c.branch,
        )
    if not evaluated:
        ctx.incomplete("zero contracts evaluated: the real-data contracts say nothing")
        return
    for c in evaluated:  # every failure here is a problem (a warning), none expected
        ctx.check(f"{c.subject}.{c.name}", c.value, c.tolerance, bool(c.passed), group=c.kind)
    for c in failed:
        ctx.warn(f"{c.kind} contract {c.name} fails for {c.subject}: {c.message}")
