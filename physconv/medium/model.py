"""A medium validated into plain arrays: the grid, the diffusivity per axis and cell, the solid mask,
the obstacles' wall rule and an optional velocity per cell (DESIGN §11)."""

from __future__ import annotations

from dataclasses import dataclass, field as _field

import numpy as np

from ..errors import PhysconvError
from ..grid import Grid

OBSTACLE_WALLS = ("reflecting", "absorbing")


class MediumError(PhysconvError):
    """A medium that cannot be built: a field of the wrong shape, a diffusivity <= 0, no fluid cell."""


@dataclass(frozen=True, eq=False)
class Medium:
    """A validated medium.

    Attributes
    ----------
    grid : Grid
    diffusivity : ndarray, (ndim, *shape)
        D of every cell along every axis (length²/time).
    solid : ndarray of bool, shape
        True where the cell is solid: it holds nothing, and its faces are walls of kind ``wall``.
    wall : {'reflecting', 'absorbing'}
    velocity : ndarray (ndim, *shape) or None
        The velocity at every cell centre (length/time); a face carries the mean of its two cells'
        (a domain wall's face its cell's), and no flow crosses an obstacle's face.
    """

    grid: Grid
    diffusivity: np.ndarray
    solid: np.ndarray
    wall: str = "reflecting"
    velocity: np.ndarray | None = None
    cache: dict = _field(default_factory=dict, repr=False, compare=False)  # faces and weights, built once

    @property
    def still(self) -> bool:
        return self.velocity is None or not self.velocity.any()

    @property
    def uniform(self) -> bool:
        """No solid cell, one diffusivity per axis and one velocity: one kernel describes a step."""
        if self.solid.any():
            return False
        flat = [self.diffusivity.reshape(self.grid.ndim, -1)]
        if self.velocity is not None:
            flat.append(self.velocity.reshape(self.grid.ndim, -1))
        return all(bool(np.all(a == a[:, :1])) for a in flat)

    @property
    def plain(self) -> bool:
        """Uniform, still and isotropic: the medium of a scalar ``diffusivity`` (the plain path)."""
        d = self.diffusivity.reshape(-1)
        return self.uniform and self.still and bool(np.all(d == d[0]))

    @property
    def axis_diffusivity(self) -> np.ndarray:
        """D per axis of a uniform medium (the first fluid cell's)."""
        first = np.argmin(self.solid.ravel())
        return self.diffusivity.reshape(self.grid.ndim, -1)[:, first].copy()

    @property
    def drift(self) -> np.ndarray:
        """The velocity per axis of a uniform medium (zero when still)."""
        if self.velocity is None:
            return np.zeros(self.grid.ndim)
        return self.velocity.reshape(self.grid.ndim, -1)[:, 0].copy()


def build(grid: Grid, diffusivity, solid=None, wall: str = "reflecting", velocity=None) -> Medium:
    """A :class:`Medium` from a scalar, per-axis or per-cell diffusivity, a solid mask and a velocity.

    Parameters
    ----------
    grid : Grid
    diffusivity : float, sequence of ndim floats, array of ``grid.shape`` or of ``(ndim, *grid.shape)``
        Length²/time; positive and finite in every fluid cell (solid cells' values are not used).
    solid : array of bool, ``grid.shape``, optional
        True where the cell is solid.
    wall : {'reflecting', 'absorbing'}
        The rule on the faces of the solid cells.
    velocity : sequence of ndim floats or array ``(ndim, *grid.shape)``, optional
        A constant drift or the velocity at every cell centre (length/time), finite.
    """
    shape = grid.shape
    solid = np.zeros(shape, dtype=bool) if solid is None else np.asarray(solid)
    if solid.shape != shape or solid.dtype != bool:
        raise MediumError(f"the solid mask must be booleans of the grid's shape {shape}, got {solid.dtype} "
                          f"{solid.shape}")
    if solid.all():
        raise MediumError("every cell is solid: there is no fluid to diffuse in")
    if wall not in OBSTACLE_WALLS:
        raise MediumError(f"obstacles are {' or '.join(OBSTACLE_WALLS)}, got {wall!r}")
    d = _per_axis(diffusivity, grid, "diffusivity", allow_scalar=True)
    fluid = d[:, ~solid]
    if not np.all(np.isfinite(fluid)) or np.any(fluid <= 0):
        raise MediumError("the diffusivity must be positive and finite in every fluid cell")
    v = None
    if velocity is not None:
        v = _per_axis(velocity, grid, "velocity", allow_scalar=False)
        if not np.all(np.isfinite(v)):
            raise MediumError("the velocity must be finite in every cell")
        v = np.where(solid, 0.0, v)
        v = None if not v.any() else v
    return Medium(grid, np.ascontiguousarray(d), solid.copy(), wall, v)


def _per_axis(value, grid: Grid, name: str, allow_scalar: bool) -> np.ndarray:
    nd, shape = grid.ndim, grid.shape
    a = np.asarray(value, dtype=float)
    if (a.ndim == 0 and allow_scalar) or a.shape == (nd,):
        return np.ascontiguousarray(np.broadcast_to(a.reshape((-1,) + (1,) * nd), (nd,) + shape))
    if a.shape == shape and allow_scalar:
        return np.ascontiguousarray(np.broadcast_to(a, (nd,) + shape))
    if a.shape == (nd,) + shape:
        return np.ascontiguousarray(a)
    forms = f"a number, {nd} numbers (one per axis), or a field of the grid's shape {shape}" if allow_scalar else \
        f"{nd} numbers (one per axis) or a field of shape {(nd,) + shape}"
    raise MediumError(f"{name} must be {forms}, got shape {a.shape}")


def field(m: Medium, u0, copy: bool = True) -> np.ndarray:
    """``u0`` flattened (a copy unless ``copy`` is false), checked to be the grid's shape and empty in
    solid cells."""
    u = np.asarray(u0, dtype=float)
    if u.shape != m.grid.shape:
        raise MediumError(f"the field has shape {u.shape}, the grid {m.grid.shape}")
    if "solid_cells" not in m.cache:  # their flat indices: a gather, not a boolean pass over the grid
        m.cache["solid_cells"] = np.flatnonzero(m.solid)
    if np.any(u.ravel()[m.cache["solid_cells"]] != 0):
        raise MediumError("the field holds something inside solid cells; they hold nothing")
    return u.ravel().copy() if copy else u.ravel()
