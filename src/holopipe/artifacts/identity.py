"""The stable ``system_id`` that joins one physical system's outputs across stages.

A system id is ``<prefix>-<hash>``: a readable prefix (the system's name, or
``<family>_d<d>``) and the first 12 hex digits of a sha256 over a canonical encoding of
the *defining* metadata: family, d, z_h, family parameters and, for legacy files, the
truth arrays. Never file bytes, paths, timestamps or directory listings. The encoding is
canonical: keys sorted, floats written with 12 significant digits (so that last-bit
differences between machines do not change the id), arrays as little-endian float64
rounded the same way.

Examples
--------
>>> system_id({"family": "ads", "d": 3, "z_h": 1.0, "params": {}})
'ads_d3-525ba9894eec'
>>> system_id({"family": "ads", "d": 3, "z_h": 1.0, "params": {}}, name="ads_d3_000")
'ads_d3_000-525ba9894eec'
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["canonical_encoding", "system_id"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.ndarray):
        rounded = np.array(
            [float(f"{x:.12g}") for x in np.asarray(value, dtype=np.float64).ravel()]
        )
        return "sha256:" + hashlib.sha256(rounded.astype("<f8").tobytes()).hexdigest()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        # Same text as the float of equal value: z_h = 1 and z_h = 1.0 are one system.
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return format(value, ".12g") if math.isfinite(value) else str(value)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} in a system id")


def canonical_encoding(defining: Mapping[str, Any]) -> bytes:
    """The bytes hashed by :func:`system_id`."""
    import json

    return json.dumps(_canonical(defining), sort_keys=True, separators=(",", ":")).encode()


def system_id(defining: Mapping[str, Any], name: str | None = None) -> str:
    """Deterministic id of a system from its defining metadata.

    Parameters
    ----------
    defining : mapping
        The physics that defines the system. Must contain ``family`` and ``d`` when
        ``name`` is not given.
    name : str, optional
        Readable prefix; unsafe characters become ``_``.
    """
    digest = hashlib.sha256(canonical_encoding(defining)).hexdigest()[:12]
    prefix = _UNSAFE.sub("_", name) if name else f"{defining['family']}_d{defining['d']}"
    return f"{prefix}-{digest}"
