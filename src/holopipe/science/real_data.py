"""Stage 09's contracts: measured scaling dimensions against a real CFT's reference values,
and the consistency of a holographic dictionary entry.

Per scalar operator (PHYSICS.md, "09 real-data contracts"):

* ``pull``: |Delta_measured - Delta_ref| / sqrt(s_measured^2 + s_ref^2) <= 3;
* ``unitarity``: Delta >= (d - 2)/2, the scalar unitarity bound;
* ``bf_bound``: the inferred m^2 = Delta (Delta - d) obeys m^2 >= -d^2/4. For a real Delta this
  holds identically ((Delta - d/2)^2 >= 0); the check guards the arithmetic and non-real input.
  For a dictionary entry, whose m^2 is the bulk input, it is a real constraint;
* ``quantisation``: the branch the measured Delta needs (``-`` below d/2, ``+`` above) is the
  reference one, and a ``-`` branch has nu = |Delta - d/2| < 1 (alternative quantisation).

Every check says whether it was evaluated; a check that could not be evaluated is never a pass.

Examples
--------
>>> [c.passed for c in operator_checks(3, 0.51815, 1e-5, 0.5181489, 1e-6, "-")]
[True, True, True, True]
>>> pull(1.0, 0.1, 1.5, 0.0)
5.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from holopipe.science.dictionary_fit import branch_policy, infer_mass
from holopipe.science.sturm_liouville import bf_bound

__all__ = [
    "MAX_PULL",
    "Check",
    "dictionary_entry_checks",
    "operator_checks",
    "pull",
    "unitarity_bound",
]

#: Largest pull of a measured dimension that agrees with its reference value.
MAX_PULL = 3.0


@dataclass(frozen=True)
class Check:
    """One contract on one operator: evaluated, passed (None when not evaluated), value."""

    name: str
    evaluated: bool
    passed: bool | None
    value: float | None
    tolerance: float
    message: str


def pull(measured: float, s_measured: float, reference: float, s_reference: float) -> float:
    """|measured - reference| / sqrt(s_measured^2 + s_reference^2) (inf for a difference with
    zero combined uncertainty, 0 for none)."""
    scale = math.hypot(s_measured, s_reference)
    gap = abs(measured - reference)
    if scale == 0:
        return 0.0 if gap == 0 else math.inf
    return gap / scale


def unitarity_bound(d: int) -> float:
    """(d - 2)/2: the smallest dimension of a scalar primary in a unitary CFT_d."""
    return (d - 2) / 2


def _not_evaluated(name: str, tolerance: float, why: str) -> Check:
    return Check(name, False, None, None, tolerance, f"not evaluated: {why}")


def _common_checks(d: int, delta: float, m2: float, branch: str) -> list[Check]:
    bound = unitarity_bound(d)
    checks = [
        Check(
            "unitarity",
            True,
            delta >= bound,
            delta,
            bound,
            f"Delta = {delta:.7g} {'>=' if delta >= bound else '<'} (d-2)/2 = {bound:g}",
        )
    ]
    bf = bf_bound(d)
    checks.append(
        Check(
            "bf_bound",
            True,
            bool(math.isfinite(m2) and m2 >= bf),
            m2,
            bf,
            f"m2 = {m2:.7g} {'>=' if m2 >= bf else '<'} -d^2/4 = {bf:g}",
        )
    )
    decision = branch_policy(d, m2, branch)
    checks.append(Check("branch_policy", True, decision.allowed, decision.nu, 1.0, decision.rule))
    return checks


def operator_checks(
    d: int,
    delta: float,
    delta_err: float | None,
    reference: float,
    reference_err: float,
    reference_branch: str,
) -> list[Check]:
    """pull, unitarity, bf_bound and quantisation of one measured dimension (module docstring).

    ``delta_err`` None (no uncertainty measured) leaves the pull not evaluated.
    """
    if not math.isfinite(delta):
        return [
            _not_evaluated(name, tol, f"Delta = {delta!r}")
            for name, tol in (
                ("pull", MAX_PULL),
                ("unitarity", 0.0),
                ("bf_bound", 0.0),
                ("quantisation", 1.0),
            )
        ]
    checks = []
    if delta_err is None or not math.isfinite(delta_err) or delta_err < 0:
        checks.append(_not_evaluated("pull", MAX_PULL, f"no uncertainty for Delta ({delta_err!r})"))
    else:
        value = pull(delta, delta_err, reference, reference_err)
        checks.append(
            Check(
                "pull",
                True,
                value <= MAX_PULL,
                value,
                MAX_PULL,
                f"|{delta:.7g} - {reference:.7g}| / sqrt({delta_err:.2g}^2 + {reference_err:.2g}^2)"
                f" = {value:.3g}",
            )
        )
    m2, branch, nu = infer_mass(d, delta)
    unitarity, bf, policy = _common_checks(d, delta, m2, branch)
    checks += [unitarity, bf]
    consistent = branch == reference_branch and policy.passed
    checks.append(
        Check(
            "quantisation",
            True,
            consistent,
            nu,
            1.0,
            f"measured Delta needs Delta_{branch} (nu = {nu:.4g}); the reference needs "
            f"Delta_{reference_branch}; {policy.message}",
        )
    )
    return checks


def dictionary_entry_checks(d: int, delta: float, m2: float, branch: str) -> list[Check]:
    """unitarity, bf_bound and branch_policy of one dictionary entry (Delta, input m2, branch).

    Examples
    --------
    >>> [c.passed for c in dictionary_entry_checks(3, 1.0, -2.0, "-")]
    [True, True, True]
    >>> [c.passed for c in dictionary_entry_checks(4, 1.0, -3.0, "-")]  # nu = 1: not < 1
    [True, True, False]
    """
    if not (math.isfinite(delta) and math.isfinite(m2)):
        return [
            _not_evaluated(name, tol, f"Delta = {delta!r}, m2 = {m2!r}")
            for name, tol in (("unitarity", 0.0), ("bf_bound", 0.0), ("branch_policy", 1.0))
        ]
    return _common_checks(d, delta, m2, branch)
