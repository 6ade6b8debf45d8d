"""Brownian particles in a medium (DESIGN §11): continuous paths that drift with the velocity, reflect
off reflecting obstacles' faces and walls, are removed by absorbing obstacles, and — in a diffusivity field — carry the Itô drift ``∇D``
that makes their density follow ``du/dt = ∇·(D ∇u) - ∇·(v u)`` (without it they would follow
``∇²(D u)`` and gather where D is small; Risken, *The Fokker–Planck Equation*, §4.2)."""

from __future__ import annotations

import numpy as np

from .model import Medium, MediumError


def _padded(a: np.ndarray, ndim: int) -> np.ndarray:
    return np.ascontiguousarray(a.reshape((1,) * (3 - ndim) + a.shape))


def fields(m: Medium):
    """``(D, dD, v)`` per padded axis (3, nz, ny, nx): the cell-centred D, its centred derivative along the
    same axis (one-sided at non-periodic ends), and the velocity (zero when still)."""
    nd = m.grid.ndim
    D3 = np.zeros((3,) + (1,) * (3 - nd) + m.grid.shape)
    dD3, v3 = np.zeros_like(D3), np.zeros_like(D3)
    for a in range(nd):
        D = np.where(m.solid, np.nan, m.diffusivity[a])
        D = np.where(np.isnan(D), np.nanmean(D), D)  # solid cells take the mean: their values are never reached
        h = m.grid.spacing[a]
        if m.grid.boundaries[a].kind == "periodic":
            grad = (np.roll(D, -1, axis=a) - np.roll(D, 1, axis=a)) / (2 * h)
        else:
            grad = np.gradient(D, h, axis=a) if D.shape[a] > 1 else np.zeros_like(D)
        D3[3 - nd + a] = _padded(D, nd)
        dD3[3 - nd + a] = _padded(grad, nd)
        if m.velocity is not None:
            v3[3 - nd + a] = _padded(m.velocity[a], nd)
    return D3, dD3, v3


def brownian(m: Medium, u0, dt: float, *, steps: int, particles: int, seed=0, keep=None, ito: bool = True,
             placement: str = "stratified", callback=None, out=None):
    """Brownian particles from ``u0`` (placed uniformly within their cells), binned to cells at the steps
    ``keep``; returns a :class:`~physconv.montecarlo.lattice.ParticleRun`. ``ito=False`` leaves out the
    drift ``∇D`` (to show what it does). Obstacles reflect or absorb (past a solid cell's centre, where the
    finite volumes' zero sits); dirichlet walls are refused."""
    from ..montecarlo import _medium_loops
    from ..montecarlo._random import key_of, seed_sequence
    from .._threads import threads_for
    from ..montecarlo.lattice import WALL_CODES, ParticleRun, place, record
    from ..solvers.explicit import saved_steps

    g = m.grid
    if any(b.kind == "dirichlet" for b in g.boundaries):
        raise MediumError("Brownian particles in a medium have no rule for dirichlet walls")
    counts0 = place(u0, g, particles, seed, placement)
    rng = np.random.default_rng(seed_sequence(seed).spawn(2)[1])
    cells = np.repeat(np.arange(g.size), counts0.ravel())
    idx = np.array(np.unravel_index(cells, g.shape), dtype=float)
    x = np.zeros((3, cells.size))
    for a in range(g.ndim):
        x[3 - g.ndim + a] = (idx[a] + rng.random(cells.size)) * g.spacing[a]
    alive = np.ones(cells.size, dtype=np.uint8)
    D, dD, v = fields(m)
    h = np.array((1.0,) * (3 - g.ndim) + tuple(g.spacing))
    shape3 = np.array((1,) * (3 - g.ndim) + tuple(g.shape), dtype=np.int64)
    kinds = np.array((1,) * (3 - g.ndim) + tuple(WALL_CODES[b.kind] for b in g.boundaries), dtype=np.int64)
    solid = _padded(m.solid, g.ndim)
    key = key_of(seed)
    keep = saved_steps(steps, None) if keep is None else np.asarray(keep)
    ghost = ~m.solid.ravel()
    flags = (bool(ito), m.velocity is not None, m.wall == "absorbing")

    def advance(first, n):
        _medium_loops.brownian_step_medium(x, alive, first, n, key, float(dt), h, shape3, kinds, D, dD, v, solid,
                                           *flags)

    def current():
        live = alive.astype(bool)
        cell = [np.floor(x[3 - g.ndim + a, live] / g.spacing[a]).astype(np.int64) for a in range(g.ndim)]
        inside = np.all([(c >= 0) & (c < n) for c, n in zip(cell, g.shape)], axis=0)
        flat = np.ravel_multi_index([c[inside] for c in cell], g.shape)
        flat = flat[ghost[flat]]  # alive between an absorbing obstacle's face and its centre: in no cell
        return np.bincount(flat, minlength=g.size)

    with threads_for(cells.size):
        frames = record(keep, g.shape, advance, current, callback, 4 * cells.size, None, out)
    return ParticleRun(keep, frames, int(particles), g.mass(u0), g.cell_volume)
