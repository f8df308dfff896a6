"""Field helpers for array-valued artifacts (NPZ and netCDF types)."""

from __future__ import annotations

import attrs
import numpy as np

__all__ = [
    "array_dicts_equal",
    "array_field",
    "as_float_arrays",
    "optional_array_field",
]


def _as_float_array(value: object) -> np.ndarray:
    # Kept as given when not numeric, so that the validator can name the wrong dtype.
    array = np.asarray(value)
    return array.astype(np.float64) if array.dtype.kind in "fiu" else array


def _as_optional_float_array(value: object) -> np.ndarray | None:
    return None if value is None else _as_float_array(value)


def _arrays_equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def as_float_arrays(value: dict[str, object]) -> dict[str, np.ndarray]:
    """Converter for a ``name -> array`` field (numeric arrays become float64)."""
    return {name: _as_float_array(array) for name, array in value.items()}


def array_dicts_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Equality of two ``name -> array`` mappings by value."""
    return a.keys() == b.keys() and all(_arrays_equal(a[k], b[k]) for k in a)


def array_field(doc: str) -> np.ndarray:
    """A required 1-D float array field (compared by value, stored as float64)."""
    return attrs.field(
        converter=_as_float_array, eq=attrs.cmp_using(eq=_arrays_equal), metadata={"doc": doc}
    )


def optional_array_field(doc: str) -> np.ndarray | None:
    """An optional 1-D float array field (``None`` when absent)."""
    return attrs.field(
        default=None,
        converter=_as_optional_float_array,
        eq=attrs.cmp_using(eq=_arrays_equal),
        metadata={"doc": doc},
    )
