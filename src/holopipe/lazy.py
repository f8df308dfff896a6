"""Names of a package imported on first use (PEP 562), so importing the package stays cheap.

Examples
--------
>>> from holopipe.lazy import lazy_names
>>> getattr_, dir_ = lazy_names("os", {"join": "path"}, ["join"])
>>> import os
>>> getattr_("join") is os.path.join
True
>>> dir_()
['join']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, where: Mapping[str, str], names: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's module-level ``__getattr__`` and ``__dir__``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    where
        Each lazily imported name and the submodule (relative to ``package``) defining it.
    names
        What ``dir(package)`` lists (its ``__all__``).
    """
    listed = sorted(names)

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's own name
        if name in where:
            return getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:  # noqa: N807
        return listed

    return __getattr__, __dir__
