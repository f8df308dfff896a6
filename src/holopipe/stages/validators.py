"""attrs validators shared by the stages' config sections (``<Stage>Params`` classes), declared
next to the fields.

Each raises ValueError naming the field, which the config reader turns into one line naming
``stages.<id>.<field>``.

Examples
--------
>>> import attrs
>>> @attrs.define
... class Example:
...     tolerance: float = attrs.field(default=1e-3, validator=positive_finite)
>>> Example(-1.0)
Traceback (most recent call last):
...
ValueError: tolerance: must be positive and finite, got -1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["int_at_least", "optional_positive_finite", "positive_finite", "positive_finite_each"]


def _is_positive_finite(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def positive_finite(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """A real number > 0 (not a bool, not inf or nan)."""
    if not _is_positive_finite(value):
        raise ValueError(f"{attribute.name}: must be positive and finite, got {value!r}")


def optional_positive_finite(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """None, or a real number > 0."""
    if value is not None and not _is_positive_finite(value):
        raise ValueError(f"{attribute.name}: must be positive and finite (or null), got {value!r}")


def positive_finite_each(instance: Any, attribute: attrs.Attribute, values: Any) -> None:
    """A list of real numbers > 0."""
    if not all(_is_positive_finite(v) for v in values):
        raise ValueError(f"{attribute.name}: must hold finite numbers > 0, got {values!r}")


def int_at_least(minimum: int) -> Callable[[Any, attrs.Attribute, Any], None]:
    """An integer (not a bool) >= ``minimum``."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{attribute.name}: must be an integer >= {minimum}, got {value!r}")

    return check
