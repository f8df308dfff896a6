"""What sandbox universes to draw: :class:`SandboxSpec`, the config section of stage 01.

Every field is checked when the config is read (a bad value raises ``ValueError`` naming the
key), without the generator of :mod:`holopipe.data.sandbox`: stage 01's declaration, read on
every command that plans a run, imports only this.

Examples
--------
>>> SandboxSpec(families=["ads"], n_per_family=2).n_per_family
2
>>> SandboxSpec(n_per_family=0)
Traceback (most recent call last):
...
ValueError: n_per_family: must be an integer >= 1, got 0
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import attrs
import numpy as np

from holopipe.science.geometry import FAMILIES, FamilyParams, metric_functions, uv_grid

__all__ = ["SandboxSpec"]

#: Points of the scan that looks for a wall (w = e^-A stops growing) at config time.
_WALL_SCAN_POINTS = 2048


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _families(_: Any, attribute: attrs.Attribute, value: list[str]) -> None:
    # Empty is allowed only with a theory (checked in SandboxSpec.__attrs_post_init__).
    if len(set(value)) != len(value) or not set(value) <= set(FAMILIES):
        raise ValueError(
            f"{attribute.name}: must be a list of distinct families from "
            f"{list(FAMILIES)}, got {value!r}"
        )


def _d_values(_: Any, attribute: attrs.Attribute, value: list[int]) -> None:
    if not value or not all(_is_int(d) and d >= 2 for d in value):
        raise ValueError(
            f"{attribute.name}: must be a non-empty list of integers >= 2 (boundary spacetime "
            f"dimension), got {value!r}"
        )


def _range(*, low: float | None = None, low_open: bool = False, high: float | None = None):
    """Validator of a ``[lo, hi]`` pair within optional bounds (``lo > low`` if ``low_open``)."""

    def check(_: Any, attribute: attrs.Attribute, value: list[float]) -> None:
        name = attribute.name
        if len(value) != 2 or not all(_is_real(v) for v in value) or value[0] > value[1]:
            raise ValueError(f"{name}: must be [lo, hi] with finite lo <= hi, got {value!r}")
        if low is not None and (value[0] <= low if low_open else value[0] < low):
            relation = ">" if low_open else ">="
            raise ValueError(f"{name}: values must be {relation} {low}, got {value!r}")
        if high is not None and value[1] > high:
            raise ValueError(f"{name}: values must be <= {high}, got {value!r}")

    return check


def _positive(_: Any, attribute: attrs.Attribute, value: float) -> None:
    if not (_is_real(value) and value > 0):
        raise ValueError(f"{attribute.name}: must be finite and > 0, got {value!r}")


def _at_least(minimum: int):
    def check(_: Any, attribute: attrs.Attribute, value: int) -> None:
        if not (_is_int(value) and value >= minimum):
            raise ValueError(f"{attribute.name}: must be an integer >= {minimum}, got {value!r}")

    return check


def _optional_name(_: Any, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and not (isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_]+", value)):
        raise ValueError(f"{attribute.name}: must be a name of [A-Za-z0-9_]+, got {value!r}")


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@attrs.define
class SandboxSpec:
    """What universes to draw (the config section of stage 01).

    Ranges are ``[lo, hi]`` lists, drawn uniformly. Every field is checked when the config is
    read; a bad value raises ``ValueError`` naming the key.
    """

    families: list[str] = attrs.field(
        factory=lambda: list(FAMILIES), validator=_families, metadata=_doc("families to draw")
    )
    # The defaults make the built-in demo (``holopipe run --experiment demo``) analysable:
    # three universes of every family at one d, so that each (family, d) group has two
    # thermal systems with different parameters for stage 05's trends.
    n_per_family: int = attrs.field(
        default=3, validator=_at_least(1), metadata=_doc("universes per family")
    )
    d_values: list[int] = attrs.field(
        factory=lambda: [3], validator=_d_values, metadata=_doc("boundary dimensions d drawn")
    )
    z_h_range: list[float] = attrs.field(
        factory=lambda: [0.8, 1.2],
        validator=_range(low=0.0, low_open=True),
        metadata=_doc("horizon z_h of thermal universes (T follows from the family)"),
    )
    zeta_range: list[float] = attrs.field(
        factory=lambda: [1.2, 2.0],
        validator=_range(low=1.0),
        metadata=_doc("dynamical exponent zeta (lifshitz, hvlf), >= 1"),
    )
    theta_range: list[float] = attrs.field(
        factory=lambda: [0.2, 0.6],
        validator=_range(low=0.0),
        metadata=_doc("hyperscaling violation theta (hvlf), 0 <= theta < d - 1 for every d"),
    )
    a_range: list[float] = attrs.field(
        factory=lambda: [-0.3, 0.3],
        validator=_range(),
        metadata=_doc("deformation a of A = -ln z + a z^2 (deformed)"),
    )
    zero_temperature_per_family: int = attrs.field(
        default=1,
        validator=_at_least(0),
        metadata=_doc("first universes of ads and deformed drawn at T = 0"),
    )
    n_operators: int = attrs.field(
        default=2, validator=_at_least(1), metadata=_doc("operators O1..On per universe")
    )
    delta_range: list[float] = attrs.field(
        factory=lambda: [1.5, 3.5],
        validator=_range(low=0.0, low_open=True),
        metadata=_doc("operator dimensions Delta, above the unitarity bound (d-2)/2"),
    )
    z_min: float = attrs.field(
        default=1e-3, validator=_positive, metadata=_doc("first point of the truth grid")
    )
    z_max_zero_temperature: float = attrs.field(
        default=1.0, validator=_positive, metadata=_doc("last point of the truth grid at T = 0")
    )
    n_z: int = attrs.field(default=200, validator=_at_least(16), metadata=_doc("truth grid points"))
    x_range: list[float] = attrs.field(
        factory=lambda: [0.01, 1.5],
        validator=_range(low=0.0, low_open=True),
        metadata=_doc("boundary separations x (log-spaced)"),
    )
    n_x: int = attrs.field(
        default=400, validator=_at_least(32), metadata=_doc("boundary separations")
    )
    theory: str | None = attrs.field(
        default=None,
        validator=_optional_name,
        metadata=_doc(
            "a real theory whose boundary data join the universes (boundary-only, no truth): "
            "the name of its CFT reference table, e.g. ising3d"
        ),
    )
    theory_file: str | None = attrs.field(
        default=None,
        metadata=_doc(
            "legacy boundary file (fase12_data_boundary HDF5) with the theory's data; "
            "without it the data are synthesised from the reference table (a round trip)"
        ),
    )

    def __attrs_post_init__(self) -> None:
        # Rules that tie fields together; each message names the key to change.
        if not self.families and self.theory is None:
            raise ValueError("families: must not be empty unless a theory is given")
        if self.theory_file is not None and self.theory is None:
            raise ValueError("theory_file: needs theory, the name of the theory it holds")
        if self.theory is not None and self.theory_file is None:
            from holopipe.data.cft import available_theories

            if self.theory not in available_theories():
                raise ValueError(
                    f"theory: no reference table {self.theory!r} to synthesise data from "
                    f"(shipped: {', '.join(available_theories())}); or give theory_file"
                )
        if self.zero_temperature_per_family > self.n_per_family:
            raise ValueError(
                f"zero_temperature_per_family: {self.zero_temperature_per_family} exceeds "
                f"n_per_family = {self.n_per_family}"
            )
        d_min, d_max = min(self.d_values), max(self.d_values)
        if "hvlf" in self.families and not self.theta_range[1] < d_min - 1:
            raise ValueError(
                f"theta_range: hvlf needs 0 <= theta < d - 1 = {d_min - 1} (d = {d_min} is in "
                f"d_values), got {self.theta_range!r}"
            )
        if not self.delta_range[0] > (d_max - 2) / 2:
            raise ValueError(
                f"delta_range: Delta must exceed the unitarity bound (d - 2)/2 = "
                f"{(d_max - 2) / 2} (d = {d_max} is in d_values), got {self.delta_range!r}"
            )
        if not self.z_min < min(self.z_h_range[0], self.z_max_zero_temperature):
            raise ValueError(
                f"z_min: {self.z_min} must lie below z_h_range[0] and z_max_zero_temperature"
            )
        if "deformed" in self.families and self.a_range[1] > 0:
            self._check_no_wall(d_min)

    def _check_no_wall(self, d: int) -> None:
        """The largest a must keep w = e^-A growing down to the deepest grid point."""
        deepest = self.z_h_range[1]
        if self.zero_temperature_per_family > 0:
            deepest = max(deepest, self.z_max_zero_temperature)
        geometry = FamilyParams("deformed", d, None, a=self.a_range[1])
        z = uv_grid(self.z_min, deepest, _WALL_SCAN_POINTS)
        rising = np.flatnonzero(np.diff(metric_functions(geometry, z).A_x) >= 0)
        if rising.size:
            raise ValueError(
                f"a_range: a = {self.a_range[1]} puts a wall (w = e^-A stops growing, the "
                f"c-function diverges) at z = {z[rising[0]]:.4g}, inside the deepest grid point "
                f"z = {deepest} (z_h_range, z_max_zero_temperature): lower a_range or the depth"
            )
