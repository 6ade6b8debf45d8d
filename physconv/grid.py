"""Cell-centred grids of 1, 2 or 3 dimensions with their boundaries."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from .boundary import AXIS_NAMES, Boundary, resolve
from .errors import GridError


@dataclass(frozen=True)
class Grid:
    """A box of ``shape`` cells of size ``spacing``, walls on the outer faces.

    Cell ``i`` along an axis has its centre at ``(i + 0.5) * d``; the walls lie
    at ``0`` and ``n * d``.

    Parameters
    ----------
    shape : int or tuple of int
        ``(n,)``, ``(ny, nx)`` or ``(nz, ny, nx)``.
    spacing : float or tuple of float, optional
        Cell size per axis in length units (a scalar serves all axes). Default 1.
    boundary : str, mapping or sequence, optional
        See :func:`physconv.boundary.resolve`. Default ``'periodic'``.
    boundary_value : float, optional
        Value held on dirichlet walls.

    Examples
    --------
    >>> g = Grid((37, 53), spacing=(1.0, 0.5), boundary={'y': 'periodic', 'x': 'reflecting'})
    >>> g.dims, g.cell_volume
    (('y', 'x'), 0.5)
    """

    shape: tuple
    spacing: tuple = 1.0
    boundary: object = field(default="periodic", compare=False)
    boundary_value: float | None = field(default=None, compare=False)
    boundaries: tuple = field(init=False, repr=False)  # what equality compares: the resolved walls

    def __post_init__(self):
        shape = (self.shape,) if isinstance(self.shape, numbers.Integral) else tuple(self.shape)
        if not 1 <= len(shape) <= 3:
            raise GridError(f"grid shape must have 1, 2 or 3 axes, got {len(shape)}")
        for n in shape:
            if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
                raise GridError(f"grid shape must be positive whole numbers, got {self.shape!r}")
        shape = tuple(int(n) for n in shape)
        spacing = self.spacing
        spacing = (spacing,) * len(shape) if np.ndim(spacing) == 0 else tuple(spacing)
        if len(spacing) != len(shape):
            raise GridError(f"spacing has {len(spacing)} values but the grid has {len(shape)} axes")
        for d in spacing:
            if not isinstance(d, numbers.Real) or isinstance(d, bool) or not math.isfinite(d) or d <= 0:
                raise GridError(f"spacing must be positive and finite, got {self.spacing!r}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "spacing", tuple(float(d) for d in spacing))
        object.__setattr__(self, "boundaries", resolve(self.boundary, len(shape), self.boundary_value))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dims(self) -> tuple[str, ...]:
        """Axis names: ``('x',)``, ``('y', 'x')`` or ``('z', 'y', 'x')``."""
        return AXIS_NAMES[self.ndim]

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def cell_volume(self) -> float:
        """Product of the spacings (length^ndim)."""
        return math.prod(self.spacing)

    @property
    def lengths(self) -> tuple[float, ...]:
        """Box size per axis, ``n * d``."""
        return tuple(n * d for n, d in zip(self.shape, self.spacing))

    def wall_positions(self) -> tuple[tuple[float, float], ...]:
        """Per axis, the positions ``(low, high)`` where the wall condition holds.

        The faces ``0`` and ``n d`` for periodic, reflecting and dirichlet
        walls; the ghost-cell centres ``-d/2`` and ``n d + d/2`` for absorbing
        walls (see :mod:`physconv.boundary`).
        """
        return tuple((-b.wall_offset * d, (n + b.wall_offset) * d)
                     for n, d, b in zip(self.shape, self.spacing, self.boundaries))

    def coords(self) -> dict[str, np.ndarray]:
        """Cell-centre coordinates ``(i + 0.5) * d`` per axis name."""
        return {name: (np.arange(n) + 0.5) * d for name, n, d in zip(self.dims, self.shape, self.spacing)}

    def mass(self, u: np.ndarray) -> float:
        """Total amount ``sum(u) * cell_volume`` (concentration times volume)."""
        return float(np.sum(u, axis=tuple(range(-self.ndim, 0))) * self.cell_volume)

    def check_field(self, u, name: str = "u0") -> np.ndarray:
        """Return ``u`` as a float64 array after checking it fits the grid and is finite."""
        a = np.asarray(u, dtype=np.float64)
        if a.shape != self.shape:
            raise GridError(f"{name} has shape {a.shape} but the grid is {self.shape}")
        if not all_finite(a):
            raise GridError(f"{name} contains NaN or infinite values")
        return a

    @property
    def boundary_names(self) -> dict[str, str]:
        return {name: str(b) for name, b in zip(self.dims, self.boundaries)}


def all_finite(a: np.ndarray) -> bool:
    """Whether every value of ``a`` is finite, without a mask the size of ``a``: one pass when the sum is
    finite (NaN and infinities propagate through it), else ``min`` and ``max`` (a sum of large finite
    values can overflow; NaN propagates through ``min``, infinities are its extremes)."""
    if a.size == 0:
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(a.sum()):
            return True
    return bool(np.isfinite(a.min()) and np.isfinite(a.max()))


def as_boundaries(boundary, ndim: int, value=None) -> tuple[Boundary, ...]:
    """Boundaries from a spec, a resolved tuple or a :class:`Grid`."""
    if isinstance(boundary, Grid):
        return boundary.boundaries
    return resolve(boundary, ndim, value)
