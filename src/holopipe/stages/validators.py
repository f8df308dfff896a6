"""attrs validators shared by the stages' config sections (``Params`` classes).

Examples
--------
>>> import attrs
>>> @attrs.define
... class P:
...     tol: float = attrs.field(default=1e-3, validator=positive_finite)
>>> P(0.0)
Traceback (most recent call last):
...
ValueError: tol: must be positive and finite, got 0.0
"""

from __future__ import annotations

import math

import attrs

__all__ = ["positive_finite"]


def positive_finite(instance: object, attribute: attrs.Attribute, value: float) -> None:
    """A float field that must be > 0 and finite; the message names the field."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name}: must be positive and finite, got {value!r}")
