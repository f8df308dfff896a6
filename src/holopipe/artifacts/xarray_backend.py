"""The xarray backend ``engine="holopipe"``: array artifacts opened validated, as physicists
open data.

Registered under the entry-point group ``xarray.backends``::

    import xarray as xr
    ds = xr.open_dataset("runs/toy/predictions/ads_d2_000_geometry.npz", engine="holopipe")

opens a GeometryPrediction (variables on ``z``), a SandboxGeometry (``bulk_truth`` on
``z_grid``, ``boundary`` on ``x_grid``) or an EigenmodesDataset (one variable per column on
``row``), each variable with CF ``units`` and ``long_name``. The file is read through the
artifact's validator: a bad file raises :class:`~holopipe.artifacts.report.ArtifactError`
listing every finding. ``guess_can_open`` accepts only files that declare one of these schemas,
so other netCDF or NPZ files are left to their own engines.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from xarray.backends import BackendEntrypoint

__all__ = ["ARRAY_TYPES", "HolopipeBackendEntrypoint"]

#: The artifact types the backend opens.
ARRAY_TYPES = ("SandboxGeometry", "GeometryPrediction", "EigenmodesDataset")


def _path(filename_or_obj: Any) -> Path | None:
    if isinstance(filename_or_obj, str | os.PathLike):
        return Path(filename_or_obj)
    return None


def _declared_type(path: Path) -> type | None:
    """The array type ``path`` declares in its own header, or ``None``."""
    from holopipe.artifacts.registry import get_type
    from holopipe.artifacts.sniff import sniff

    found = sniff(path)
    for name in ARRAY_TYPES:
        cls = get_type(name)
        if cls.guess_can_open(path) and cls._declared_schema(path, found) == name:
            return cls
    return None


class HolopipeBackendEntrypoint(BackendEntrypoint):
    """xarray backend for holopipe's array artifacts (see the module docstring)."""

    description = "holopipe array artifacts, validated: " + ", ".join(ARRAY_TYPES)
    url = "https://pypi.org/project/holopipe/"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "schema")

    def open_dataset(
        self, filename_or_obj: Any, *, drop_variables: Any = None, schema: str | None = None
    ) -> Any:
        """Read, validate and view the artifact; ``schema`` forces the type (e.g. a file
        that declares none)."""
        from holopipe.artifacts.registry import get_type

        path = _path(filename_or_obj)
        if path is None:
            raise TypeError("engine='holopipe' opens files by path, not file objects")
        if schema is not None:
            if schema not in ARRAY_TYPES:
                raise ValueError(
                    f"schema {schema!r}: engine='holopipe' opens {', '.join(ARRAY_TYPES)}"
                )
            cls = get_type(schema)
        else:
            cls = _declared_type(path) or _by_suffix(path)
        if cls is None:
            raise ValueError(
                f"{path}: not a holopipe array artifact ({', '.join(ARRAY_TYPES)}); "
                "pass schema=... to force a type"
            )
        artifact = cls.read(path)  # ArtifactError with the validator's findings
        ds = (
            artifact.to_flat_xarray()
            if hasattr(artifact, "to_flat_xarray")
            else artifact.to_xarray()
        )
        if drop_variables is not None:
            ds = ds.drop_vars(drop_variables, errors="ignore")
        ds.encoding["source"] = str(path)
        return ds

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        path = _path(filename_or_obj)
        if path is None or not path.is_file():
            return False
        try:
            return _declared_type(path) is not None
        except Exception:  # noqa: BLE001 - guessing never raises, it says no
            return False


def _by_suffix(path: Path) -> type | None:
    from holopipe.artifacts.registry import get_type

    for name in ARRAY_TYPES:
        cls = get_type(name)
        if cls.guess_can_open(path):
            return cls
    return None
