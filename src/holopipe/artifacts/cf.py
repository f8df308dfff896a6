"""CF-style ``units`` and ``long_name`` attributes for the xarray views of array artifacts.

holopipe works in units of the AdS radius (L = 1): lengths such as z and x are in units of L,
masses squared in units of L^-2, temperatures in units of 1/L. Those are dimensionless numbers
(CF ``units = "1"``); the ``long_name`` says which power of L they carry. Long names come from
the field's own documentation where the artifact class has one, else from :data:`LONG_NAMES`.

Examples
--------
>>> import xarray as xr
>>> ds = with_cf_attributes(xr.Dataset({"A": ("z", [1.0])}, coords={"z": [0.1]}), {})
>>> ds["z"].attrs["units"], ds["A"].attrs["long_name"]
('1', 'warp factor A(z)')
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["LONG_NAMES", "field_docs", "with_cf_attributes"]

#: Long names of the variables every array artifact may carry (the powers of L in words).
LONG_NAMES: dict[str, str] = {
    "z": "radial coordinate z, boundary at z -> 0 (units of L)",
    "z_grid": "radial coordinate z, boundary at z -> 0 (units of L)",
    "x_grid": "boundary separation x (units of L)",
    "A": "warp factor A(z)",
    "A_truth": "warp factor A(z), truth",
    "A_t": "warp factor A_t(z) of the time direction",
    "A_t_truth": "warp factor A_t(z) of the time direction, truth",
    "A_z": "warp factor A_z(z) of the radial direction",
    "A_z_truth": "warp factor A_z(z) of the radial direction, truth",
    "f": "blackening factor f(z)",
    "f_truth": "blackening factor f(z), truth",
    "R": "Ricci scalar R (units of L^-2)",
    "R_truth": "Ricci scalar R of the truth geometry (units of L^-2)",
    "c_function": "holographic c-function c(z)",
    "temperature": "temperature T of the boundary theory (units of 1/L)",
    "row": "row of the dataset",
    "m2": "bulk mass squared m^2 (units of L^-2)",
    "M2": "boundary mass squared M^2 (units of L^-2)",
    "Delta": "scaling dimension Delta",
}


def field_docs(cls: type) -> dict[str, str]:
    """``name -> doc`` of an attrs class's documented fields."""
    return {f.name: f.metadata["doc"] for f in attrs.fields(cls) if "doc" in f.metadata}


def _long_name(name: str, docs: dict[str, str]) -> str:
    if name in LONG_NAMES:
        return LONG_NAMES[name]
    if name.startswith("G2_"):
        return f"boundary two-point function G2(x) of operator {name[3:]}"
    return docs.get(name, name.replace("_", " "))


def with_cf_attributes(ds: Any, docs: dict[str, str]) -> Any:
    """``ds`` with ``long_name`` on every variable and coordinate, and ``units`` on every
    numeric one (``"1"``: dimensionless in units L = 1; text columns carry no units, as CF
    says); existing attributes are kept."""
    for name in list(ds.variables):
        variable = ds[name]
        extra: dict[str, Any] = {"long_name": _long_name(str(name), docs)}
        if variable.dtype.kind in "iufb":
            extra["units"] = "1"
        variable.attrs = {**extra, **variable.attrs}
    return ds
