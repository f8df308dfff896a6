"""High-order finite differences on non-uniform grids (Fornberg weights).

Weights come from Fornberg's recursion (Math. Comp. 51, 699 (1988)): for a stencil of
``s`` nodes they differentiate every polynomial of degree < s exactly, on any node
spacing. Stencils are centred where the grid allows and slide to one side at the ends.

Examples
--------
>>> import numpy as np
>>> x = np.geomspace(0.1, 1.0, 40)
>>> d = derivatives(x, x**3)
>>> bool(np.allclose(d[1], 3 * x**2) and np.allclose(d[2], 6 * x))
True
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["DEFAULT_STENCIL", "derivatives", "fornberg_weights", "local_derivatives"]

#: Nodes per stencil: 6th-order first and 5th-order second derivatives in the interior.
DEFAULT_STENCIL = 7


def _fornberg(x0: np.ndarray, nodes: np.ndarray, max_order: int) -> np.ndarray:
    """Weights for many stencils at once.

    ``x0`` has shape (P,), ``nodes`` shape (P, s); the result has shape
    (P, max_order + 1, s), entry [p, k, j] weighting node j for the k-th derivative at x0[p].
    """
    n_points, size = nodes.shape
    c = np.zeros((n_points, max_order + 1, size))
    c[:, 0, 0] = 1.0
    c1 = np.ones(n_points)
    c4 = nodes[:, 0] - x0
    for i in range(1, size):
        top = min(i, max_order)
        c2 = np.ones(n_points)
        c5 = c4
        c4 = nodes[:, i] - x0
        for j in range(i):
            c3 = nodes[:, i] - nodes[:, j]
            c2 = c2 * c3
            if j == i - 1:
                for k in range(top, 0, -1):
                    c[:, k, i] = c1 * (k * c[:, k - 1, i - 1] - c5 * c[:, k, i - 1]) / c2
                c[:, 0, i] = -c1 * c5 * c[:, 0, i - 1] / c2
            for k in range(top, 0, -1):
                c[:, k, j] = (c4 * c[:, k, j] - k * c[:, k - 1, j]) / c3
            c[:, 0, j] = c4 * c[:, 0, j] / c3
        c1 = c2
    return c


def _checked_grid(x: ArrayLike, stencil: int, max_order: int) -> np.ndarray:
    grid = np.asarray(x, dtype=float)
    if grid.ndim != 1:
        raise ValueError(f"grid must be 1-D, got shape {grid.shape}")
    if stencil <= max_order:
        raise ValueError(f"stencil ({stencil}) must exceed max_order ({max_order})")
    if grid.size < stencil:
        raise ValueError(f"grid has {grid.size} points, fewer than the stencil ({stencil})")
    if not np.all(np.isfinite(grid)):
        raise ValueError("grid has non-finite values")
    if not np.all(np.diff(grid) > 0):
        raise ValueError("grid must be strictly increasing")
    return grid


def _stencil_starts(grid: np.ndarray, targets: np.ndarray, stencil: int) -> np.ndarray:
    """First node of the stencil nearest each target (centred, clamped at the ends)."""
    above = np.clip(np.searchsorted(grid, targets), 0, grid.size - 1)
    below = np.clip(above - 1, 0, grid.size - 1)
    nearest = np.where(np.abs(grid[below] - targets) < np.abs(grid[above] - targets), below, above)
    return np.clip(nearest - stencil // 2, 0, grid.size - stencil)


def fornberg_weights(x0: float, nodes: ArrayLike, max_order: int) -> np.ndarray:
    """Finite-difference weights at ``x0`` for derivatives 0..max_order on ``nodes``.

    Parameters
    ----------
    x0 : float
        Evaluation point (need not be a node).
    nodes : array_like, shape (s,)
        Distinct stencil nodes, any spacing.
    max_order : int
        Highest derivative wanted.

    Returns
    -------
    ndarray, shape (max_order + 1, s)
        ``w[k] @ y`` is the k-th derivative at ``x0`` of the polynomial through (nodes, y).

    Examples
    --------
    >>> (fornberg_weights(0.0, [-1.0, 0.0, 1.0], 2).round(12) + 0.0).tolist()
    [[0.0, 1.0, 0.0], [-0.5, 0.0, 0.5], [1.0, -2.0, 1.0]]
    """
    stencil_nodes = np.asarray(nodes, dtype=float)
    if stencil_nodes.ndim != 1 or len(np.unique(stencil_nodes)) != stencil_nodes.size:
        raise ValueError("nodes must be a 1-D array of distinct values")
    return _fornberg(np.array([float(x0)]), stencil_nodes[None, :], max_order)[0]


def derivatives(
    x: ArrayLike, y: ArrayLike, max_order: int = 2, stencil: int = DEFAULT_STENCIL
) -> np.ndarray:
    """Derivatives 0..max_order of samples ``y`` on the grid ``x``.

    Parameters
    ----------
    x : array_like, shape (n,)
        Strictly increasing, finite grid (any spacing).
    y : array_like, shape (..., n)
        Samples; leading axes are independent functions differentiated together.
    max_order : int
        Highest derivative.
    stencil : int
        Nodes per stencil; every polynomial of degree < stencil is differentiated exactly.

    Returns
    -------
    ndarray, shape (max_order + 1, ..., n)
        ``result[k]`` is the k-th derivative (``result[0]`` reproduces ``y``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0.0, 1.0, 11)
    >>> bool(np.allclose(derivatives(x, x**2)[1], 2 * x))
    True
    """
    grid = _checked_grid(x, stencil, max_order)
    values = np.asarray(y, dtype=float)
    if values.shape[-1] != grid.size:
        raise ValueError(f"y has {values.shape[-1]} points on its last axis, grid has {grid.size}")
    starts = _stencil_starts(grid, grid, stencil)
    index = starts[:, None] + np.arange(stencil)[None, :]
    weights = _fornberg(grid, grid[index], max_order)
    return np.einsum("pks,...ps->k...p", weights, values[..., index])


def local_derivatives(
    x: ArrayLike, y: ArrayLike, x0: float, max_order: int = 1, stencil: int = DEFAULT_STENCIL
) -> np.ndarray:
    """Value and derivatives at any ``x0`` of the local interpolant of (x, y).

    Uses the ``stencil`` nodes nearest ``x0``; for ``x0`` just outside the grid this is a
    short extrapolation.

    Returns
    -------
    ndarray, shape (max_order + 1,)
        ``[y(x0), y'(x0), ...]``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0.0, 1.0, 9)
    >>> local_derivatives(x, 1 - x**3, 0.7).round(12).tolist()
    [0.657, -1.47]
    """
    grid = _checked_grid(x, stencil, max_order)
    values = np.asarray(y, dtype=float)
    if values.shape != grid.shape:
        raise ValueError(f"y has shape {values.shape}, grid has {grid.shape}")
    start = int(_stencil_starts(grid, np.array([float(x0)]), stencil)[0])
    window = slice(start, start + stencil)
    return fornberg_weights(x0, grid[window], max_order) @ values[window]
