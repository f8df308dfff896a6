"""Reusable content checks shared by the artifact validators.

Each check takes the value, its location and a report, and records findings instead of
raising, so that one pass lists every problem of a file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from holopipe.artifacts.report import ValidationReport

if TYPE_CHECKING:  # numpy is imported by the checks of arrays (start-up time)
    import numpy as np

__all__ = [
    "FAMILIES",
    "check_d_against_name",
    "check_equal_lengths",
    "check_family",
    "check_finite",
    "check_float_array",
    "check_strictly_increasing",
    "name_d_token",
]

#: Geometry families of the metric ansatz (PHYSICS.md); legacy ``hyperscaling`` is ``hvlf``.
FAMILIES = ("ads", "lifshitz", "hvlf", "deformed", "unknown")

_D_TOKEN = re.compile(r"(?:^|_)d(\d+)(?:_|$)")


def name_d_token(name: str) -> int | None:
    """The ``k`` of a ``_d<k>_`` token in a system name, if there is exactly one kind.

    Examples
    --------
    >>> name_d_token("ads_d3_Tfinite_known_000")
    3
    >>> name_d_token("ising_3d") is None
    True
    """
    found = {int(m) for m in _D_TOKEN.findall(name)}
    return found.pop() if len(found) == 1 else None


def check_float_array(value: object, where: str, report: ValidationReport) -> bool:
    """A 1-D array of a floating dtype; returns False (with a finding) otherwise."""
    import numpy as np

    if not isinstance(value, np.ndarray):
        report.error("wrong_type", where, f"expected an array, got {type(value).__name__}")
        return False
    if value.dtype.kind != "f":
        report.error("wrong_dtype", where, f"expected a floating dtype, got {value.dtype}")
        return False
    if value.ndim != 1:
        report.error("wrong_shape", where, f"expected a 1-D array, got shape {value.shape}")
        return False
    if value.size < 2:
        report.error("too_short", where, f"expected at least 2 points, got {value.size}")
        return False
    return True


def check_finite(value: np.ndarray, where: str, report: ValidationReport) -> None:
    import numpy as np

    bad = ~np.isfinite(value)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        kinds = "NaN" if np.isnan(value[first]) else "infinite"
        report.error(
            "nonfinite",
            where,
            f"{int(bad.sum())} non-finite values (first at index {first}: {kinds})",
        )


def check_strictly_increasing(value: np.ndarray, where: str, report: ValidationReport) -> None:
    import numpy as np

    steps = np.diff(value)
    bad = ~(steps > 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        report.error(
            "not_increasing",
            where,
            f"must be strictly increasing; index {first + 1} ({float(value[first + 1])!r}) "
            f"does not exceed index {first} ({float(value[first])!r})",
        )


def check_equal_lengths(arrays: dict[str, np.ndarray], report: ValidationReport) -> None:
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k}={n}" for k, n in lengths.items())
        report.error("length_mismatch", ",".join(lengths), f"arrays differ in length: {detail}")


def check_family(family: str, where: str, report: ValidationReport) -> None:
    if family not in FAMILIES:
        hint = " (legacy name: use 'hvlf')" if family == "hyperscaling" else ""
        report.error("bad_family", where, f"family {family!r} not in {list(FAMILIES)}{hint}")


def check_d_against_name(d: int, name: str | None, where: str, report: ValidationReport) -> None:
    """``d`` positive and equal to the ``_d<k>_`` token of ``name`` when there is one."""
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        report.error("bad_d", where, f"d must be a positive integer, got {d!r}")
        return
    token = name_d_token(name) if name else None
    if token is not None and token != d:
        report.error(
            "d_name_mismatch",
            where,
            f"d = {d} but the system name {name!r} says d{token}",
        )
