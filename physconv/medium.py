"""Media where one kernel no longer describes a step: solid cells, a diffusivity per cell and per axis.

A medium is validated once into plain arrays (DESIGN §11): the grid, the diffusivity of every cell
along every axis, shape ``(ndim, *shape)`` (a scalar, per-axis ``[Dy, Dx]`` and per-cell fields all
become this), the solid mask and the obstacles' wall rule. From them :func:`operator` builds the
space-discretised equation

.. math:: \\frac{du}{dt} = L u + b,

a finite-volume balance of face fluxes (DESIGN §1 for the walls): between two fluid cells ``i`` and
``j`` along axis ``a`` the face conducts :math:`g = D_f / h_a^2` with :math:`D_f` the harmonic mean of
the two cells' diffusivities (flux continuity; Crank, *The Mathematics of Diffusion*, §8.4). A face
into a solid cell is a wall of the obstacles' kind at the same position as a domain wall of that kind:
reflecting conducts nothing, absorbing has a zero ghost cell beyond it (:math:`-D/h^2\\,u`). Domain
walls: periodic faces wrap, reflecting ones conduct nothing, absorbing ones have a zero ghost cell,
dirichlet ones the odd extension about the face (:math:`2D/h^2\\,(v - u)`). Solid cells hold nothing
and never change. Units: D in length²/time, L in 1/time.

One explicit step is :math:`u \\mapsto P u + \\Delta t\\, b` with :math:`P = I + \\Delta t L`, a
column-stochastic matrix (mass at cell j goes to cell i with probability P[i, j]) when
:math:`\\Delta t \\le` :func:`stable_dt` and the walls and obstacles are reflecting; :func:`semidiscrete` is the time-exact
:math:`e^{tL}` (``scipy.sparse.linalg.expm_multiply``), which explicit steps approach at first order in
:math:`\\Delta t`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import PhysconvError
from .grid import Grid

OBSTACLE_WALLS = ("reflecting", "absorbing")


class MediumError(PhysconvError):
    """A medium that cannot be built: a field of the wrong shape, a diffusivity <= 0, no fluid cell."""


@dataclass(frozen=True, eq=False)
class Medium:
    """A validated medium: ``grid``, ``diffusivity`` (ndim, *shape), ``solid`` (shape, bool), ``wall``."""

    grid: Grid
    diffusivity: np.ndarray
    solid: np.ndarray
    wall: str = "reflecting"

    @property
    def uniform(self) -> bool:
        """No solid cell and one diffusivity per axis: one kernel describes a step."""
        d = self.diffusivity.reshape(self.grid.ndim, -1)
        return not self.solid.any() and bool(np.all(d == d[:, :1]))


def build(grid: Grid, diffusivity, solid=None, wall: str = "reflecting") -> Medium:
    """A :class:`Medium` from a scalar, per-axis or per-cell diffusivity and an optional solid mask.

    Parameters
    ----------
    grid : Grid
    diffusivity : float, sequence of ndim floats, array of ``grid.shape`` or of ``(ndim, *grid.shape)``
        Length²/time; positive and finite in every fluid cell (solid cells' values are not used).
    solid : array of bool, ``grid.shape``, optional
        True where the cell is solid.
    wall : {'reflecting', 'absorbing'}
        The rule on the faces of the solid cells.
    """
    nd, shape = grid.ndim, grid.shape
    solid = np.zeros(shape, dtype=bool) if solid is None else np.asarray(solid)
    if solid.shape != shape or solid.dtype != bool:
        raise MediumError(f"the solid mask must be booleans of the grid's shape {shape}, got {solid.dtype} "
                          f"{solid.shape}")
    if solid.all():
        raise MediumError("every cell is solid: there is no fluid to diffuse in")
    if wall not in OBSTACLE_WALLS:
        raise MediumError(f"obstacles are {' or '.join(OBSTACLE_WALLS)}, got {wall!r}")
    d = np.asarray(diffusivity, dtype=float)
    if d.ndim == 0 or d.shape == (nd,):
        d = np.broadcast_to(d.reshape((-1,) + (1,) * nd), (nd,) + shape)
    elif d.shape == shape:
        d = np.broadcast_to(d, (nd,) + shape)
    elif d.shape != (nd,) + shape:
        raise MediumError(f"diffusivity must be a number, {nd} numbers (one per axis), or a field of the grid's "
                          f"shape {shape}, got shape {d.shape}")
    fluid = d[:, ~solid]
    if not np.all(np.isfinite(fluid)) or np.any(fluid <= 0):
        raise MediumError("the diffusivity must be positive and finite in every fluid cell")
    return Medium(grid, np.ascontiguousarray(d), solid.copy(), wall)


def _pairs(shape, axis, periodic):
    """Flat indices ``(i, j)`` of neighbouring cells along ``axis`` (j the next cell), the wrap included."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    lo = np.take(idx, np.arange(shape[axis] - 1), axis=axis).ravel()
    hi = np.take(idx, np.arange(1, shape[axis]), axis=axis).ravel()
    if periodic and shape[axis] > 1:
        lo = np.concatenate([lo, np.take(idx, [shape[axis] - 1], axis=axis).ravel()])
        hi = np.concatenate([hi, np.take(idx, [0], axis=axis).ravel()])
    return lo, hi


def _faces(m: Medium):
    """``(faces, diag, b)``: per axis the neighbouring cells ``(i, j)`` and the conductance of the face
    between them (1/time), the diagonal of L and its constant (see the module)."""
    g, shape, n = m.grid, m.grid.shape, m.grid.size
    solid = m.solid.ravel()
    faces, diag, b = [], np.zeros(n), np.zeros(n)
    idx = np.arange(n).reshape(shape)
    for a, (h, wall) in enumerate(zip(g.spacing, g.boundaries)):
        d = m.diffusivity[a].ravel()
        i, j = _pairs(shape, a, wall.kind == "periodic")
        both = ~solid[i] & ~solid[j]
        face = np.where(both, 2 * d[i] * d[j] / np.where(both, d[i] + d[j], 1.0), 0.0) / h**2
        faces.append((i, j, face))
        np.subtract.at(diag, i, face)
        np.subtract.at(diag, j, face)
        if m.wall == "absorbing":  # a fluid cell beside a solid one: a zero ghost cell beyond the face
            for f, s in ((i, j), (j, i)):
                edge = ~solid[f] & solid[s]
                np.subtract.at(diag, f[edge], d[f[edge]] / h**2)
        if wall.kind in ("absorbing", "dirichlet"):
            for end in (0, shape[a] - 1):
                cells = np.take(idx, [end], axis=a).ravel()
                cells = cells[~solid[cells]]
                k = 1.0 if wall.kind == "absorbing" else 2.0
                np.subtract.at(diag, cells, k * d[cells] / h**2)
                if wall.kind == "dirichlet":
                    np.add.at(b, cells, 2.0 * d[cells] / h**2 * wall.value)
    return faces, diag, b


def operator(m: Medium):
    """``(L, b)``: the sparse spatial operator (CSR, 1/time) and its constant (dirichlet walls), so that
    ``du/dt = L u + b`` (see the module)."""
    import scipy.sparse as sp

    faces, diag, b = _faces(m)
    n = m.grid.size
    i = np.concatenate([f[0] for f in faces] + [f[1] for f in faces] + [np.arange(n)])
    j = np.concatenate([f[1] for f in faces] + [f[0] for f in faces] + [np.arange(n)])
    v = np.concatenate([f[2] for f in faces] * 2 + [diag])
    L = sp.csr_matrix((v, (i, j)), shape=(n, n))
    L.eliminate_zeros()
    return L, b


def stencil(m: Medium, dt: float):
    """The step's weights for the compiled loop, each ``(nz, ny, nx)``: ``c = 1 + dt L_ii``, per axis (z, y,
    x) ``w[i] = dt g`` of the face between cell i and the next (the last: the wrap face or zero), and
    ``add = dt b``; axes a 1-D or 2-D grid lacks have zero weights."""
    return _weights(m, dt, *_faces(m))


def _weights(m: Medium, dt: float, faces, diag, b):
    shape3 = (1,) * (3 - m.grid.ndim) + tuple(m.grid.shape)
    w = [np.zeros(m.grid.size) for _ in range(3)]
    for a, (i, _, face) in enumerate(faces):
        w[3 - m.grid.ndim + a][i] = dt * face
    c = 1.0 + dt * diag
    return (c.reshape(shape3), *(x.reshape(shape3) for x in w), (dt * b).reshape(shape3))


def stable_dt(m: Medium) -> float:
    """The largest stable explicit step, ``2 / max_i sum_j |L_ij|``: L is symmetric negative semi-definite,
    so ``I + dt L`` is stable while ``dt`` times its spectral radius is at most 2, and Gershgorin's bound
    on that radius is the largest absolute row sum. For a uniform medium this is the FTCS limit
    ``1 / (2 D sum_a h_a^-2)``; with reflecting walls and obstacles P is then also non-negative."""
    return _stable_dt(*_faces(m)[:2])


def _stable_dt(faces, diag) -> float:
    rows = np.abs(diag)  # |L_ii| + the conductances of the cell's faces (its off-diagonal row)
    for i, j, face in faces:
        np.add.at(rows, i, face)
        np.add.at(rows, j, face)
    worst = float(rows.max())
    return np.inf if worst <= 0 else 2.0 / worst


def explicit(m: Medium, u0, dt: float, steps: int, save_every: int | None = None, callback=None):
    """Explicit steps ``u <- P u + dt b`` from ``u0`` (solid cells must hold nothing), by the compiled
    finite-volume loop in chunks sized by time (Ctrl-C is honoured between them). Returns the last field,
    or with ``save_every`` a :class:`~physconv.solvers.explicit.Trajectory` of every k-th step and the last."""
    from .solvers import _medium_loops
    from .solvers.explicit import _drive

    u = _field(m, u0).reshape(m.grid.shape)
    faces, diag, b = _faces(m)  # built once: the stability limit and the weights
    limit = _stable_dt(faces, diag)
    if dt > limit * (1 + 1e-12):
        raise MediumError(f"dt = {dt:g} is unstable for explicit steps in this medium; the largest stable dt is "
                          f"{limit:.6g}")
    weights = _weights(m, dt, faces, diag, b)

    def advance(a, b, n):
        return _medium_loops.fv_steps(a, b, n, *weights)

    return _drive(advance, u, int(steps), save_every, callback)


def explicit_sparse(m: Medium, u0, dt: float, steps: int) -> np.ndarray:
    """The same steps by the sparse matrix ``P = I + dt L`` (scipy): the reference of the compiled loop."""
    import scipy.sparse as sp

    u = _field(m, u0)
    L, b = operator(m)
    P = (sp.identity(L.shape[0], format="csr") + dt * L).tocsr()
    c = dt * b
    for _ in range(int(steps)):
        u = P @ u + c
    return u.reshape(m.grid.shape)


def semidiscrete(m: Medium, u0, t: float) -> np.ndarray:
    """The time-exact solution ``e^{tL} u0 + (e^{tL} - I) L^{-1} b`` of the space-discretised equation,
    by ``scipy.sparse.linalg.expm_multiply`` on the operator augmented with the constant."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import expm_multiply

    u = _field(m, u0)
    L, b = operator(m)
    if b.any():  # d/dt [u; 1] = [[L, b], [0, 0]] [u; 1]
        L = sp.bmat([[L, sp.csr_matrix(b[:, None])], [None, sp.csr_matrix((1, 1))]], format="csr")
        u = np.append(u, 1.0)
    out = expm_multiply(L * float(t), u)
    return out[: m.grid.size].reshape(m.grid.shape)


def _field(m: Medium, u0) -> np.ndarray:
    u = np.asarray(u0, dtype=float)
    if u.shape != m.grid.shape:
        raise MediumError(f"the field has shape {u.shape}, the grid {m.grid.shape}")
    if np.any(u[m.solid] != 0):
        raise MediumError("the field holds something inside solid cells; they hold nothing")
    return u.ravel().copy()
