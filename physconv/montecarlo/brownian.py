"""Brownian particles in continuous space, and the exact expectation of their binned counts.

Each particle starts uniformly inside a cell (the initial field is constant
per cell) and jumps by independent Gaussians of standard deviation
:math:`\\sqrt{2 D \\Delta t}` per axis. The walls are those of
:mod:`physconv.boundary`, the same as for every other method: periodic wraps
and reflecting mirrors at the faces; absorbing removes a particle when it
crosses the ghost-cell centre half a cell outside the face (a particle between
the face and that wall is alive but in no cell); dirichlet walls of value 0
remove it at the face. Removal includes the paths that cross the wall and come
back within one step (Brownian bridge: crossed with probability
:math:`\\exp(-x_0 x_1 / (D \\Delta t))` for distances :math:`x_0, x_1` to the
wall).

The expected binned concentration is the heat solution of the cell-wise
constant initial field, averaged over each cell. Per axis it is a matrix of
closed-form transition probabilities (:func:`transition`), with images for
the walls; the axes multiply. It differs from ``gaussian`` (which samples the
field at cell centres) by O(dx^2 / sigma^2).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from .._threads import threads_for
from ..grid import Grid
from ..solvers.explicit import saved_steps
from ._random import key_of, seed_sequence
from .lattice import JUMPS, WALL_CODES, ParticleRun, place, record, walls


def brownian_walls(grid: Grid) -> np.ndarray:
    """Wall codes per axis for Brownian particles: the lattice's, and dirichlet walls of value 0 remove."""
    if all(b.kind == "dirichlet" and b.value == 0 or b.kind in WALL_CODES for b in grid.boundaries):
        return np.array([WALL_CODES.get(b.kind, WALL_CODES["absorbing"]) for b in grid.boundaries], dtype=np.int64)
    return walls(grid)  # raises for dirichlet walls of non-zero value


def _smooth_part(z):
    """G(z) = F(-|z|) with F(z) = z Phi(z) + phi(z), the second antiderivative of the normal density."""
    a = -np.abs(z)
    return a * ndtr(a) + np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi)


def _free(m, s):
    """Probability that a particle uniform in cell j lands in cell j + m (free space), s = h / sigma.

    .. math:: T(m) = \\frac{1}{s}\\,[F((m+1)s) - 2F(ms) + F((m-1)s)]

    written as the second difference of the even, decaying part of F plus
    the delta that its linear part contributes at m = 0 (no cancellation far out).
    """
    m = np.asarray(m, dtype=float)
    return (_smooth_part((m + 1) * s) - 2 * _smooth_part(m * s) + _smooth_part((m - 1) * s)) / s + (m == 0)


def transition(n: int, spacing: float, kind: str, sigma: float) -> np.ndarray:
    """Cell-to-cell transition matrix ``P[i, j]`` of Brownian motion of std ``sigma`` on one axis.

    ``P[i, j]`` is the probability that a particle uniform in cell ``j`` is in
    cell ``i`` after a time with :math:`\\sqrt{2 D t} = \\sigma`: free-space
    probabilities summed over the images of the walls. Periodic: copies with
    period ``n``. Reflecting (``+``) and dirichlet with value 0 (``-``): mirror
    images about the faces, period ``2n``; the image of cell ``j`` is cell
    ``-1 - j``. Absorbing (``-``): mirror images about the ghost-cell centres
    ``-d/2`` and ``n d + d/2``, period ``2(n + 1)``; the image of cell ``j`` is
    cell ``-2 - j``. Cell ``i`` is reached with probability ``P[i, j]``; for
    absorbing walls what is missing from a column is removed or alive in the
    half cells beyond the faces.
    """
    if sigma == 0:
        return np.eye(n)
    s = spacing / sigma
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    period, shift, sign = {"periodic": (n, 0, 0.0), "reflecting": (2 * n, 1, 1.0), "dirichlet": (2 * n, 1, -1.0),
                           "absorbing": (2 * n + 2, 2, -1.0)}[kind]
    reach = int(np.ceil((n + 40.0 / s) / period)) + 1
    P = np.zeros((n, n))
    for k in range(-reach, reach + 1):
        P += _free(i - j + k * period, s)
        if sign:
            P += sign * _free(i + j + shift + k * period, s)
    return P


def expectation(u0, grid: Grid, *, diffusivity: float, time) -> np.ndarray:
    """Expected binned concentration of Brownian particles: the cell-averaged heat solution.

    .. math:: \\mathbb{E}[c(t)] = \\Big(\\bigotimes_a P_a\\Big)\\, u_0

    Parameters
    ----------
    time : float or sequence of float
        One time (returns a field) or several (frames along axis 0).
    """
    u = grid.check_field(u0)
    brownian_walls(grid)
    single = np.ndim(time) == 0
    out = []
    for t in np.atleast_1d(np.asarray(time, dtype=float)):
        sigma = np.sqrt(2.0 * diffusivity * t)
        c = u
        for a, (n, d, b) in enumerate(zip(grid.shape, grid.spacing, grid.boundaries)):
            c = np.moveaxis(np.tensordot(transition(n, d, b.kind, sigma), c, axes=([1], [a])), 0, a)
        out.append(c)
    return out[0] if single else np.array(out)


def brownian(u0, grid: Grid, *, diffusivity: float, dt: float, steps: int, particles: int, seed=0,
             save_every: int | None = None, bridge: bool = True, placement: str = "stratified",
             jumps: str = "auto", callback=None, out=None) -> ParticleRun:
    """Brownian particles binned to cells at the saved steps.

    .. math:: x_{m+1} = x_m + \\sqrt{2 D \\Delta t}\\;\\xi_m,\\qquad \\xi_m \\sim \\mathcal N(0, I)

    Parameters
    ----------
    u0 : ndarray, shape grid.shape, non-negative
    grid : Grid
        Periodic, reflecting or absorbing walls, or dirichlet walls of value 0
        (removal at the face).
    diffusivity, dt : float
        Any positive step is exact in distribution (no stability limit).
    bridge : bool
        Count the paths that cross an absorbing wall and return within a step
        (default). Without it, absorbing walls remove too little.
    jumps : {'auto', 'steps'}
        ``'auto'``: where every wall is periodic or reflecting, a particle moves from one saved step
        to the next in one Gaussian jump of variance ``2 D n dt`` per axis, wrapped or mirrored into
        the box — the same process at the saved steps, at the cost of one step. Removing walls
        (absorbing, dirichlet) depend on the path and always go step by step.
    steps, particles, seed, save_every, placement, callback, out : see :func:`physconv.montecarlo.lattice`
    """
    kinds = brownian_walls(grid)
    if not diffusivity >= 0 or not dt > 0:
        raise ValueError(f"need diffusivity >= 0 and dt > 0, got {diffusivity!r} and {dt!r}")
    if particles > 2**31:
        raise ValueError("Brownian particles are held in memory: at most 2**31")
    counts0 = place(u0, grid, particles, seed, placement)
    keep = saved_steps(steps, save_every)
    from . import _loops

    rng = np.random.default_rng(seed_sequence(seed).spawn(2)[1])
    start = np.repeat(np.arange(grid.size), counts0.ravel())  # each particle's cell, uniform inside it
    x = np.stack([(c + rng.random(len(start))) * d
                  for c, d in zip(np.unravel_index(start, grid.shape), grid.spacing)])
    x = np.ascontiguousarray(x)
    key = key_of(seed)
    sigma = np.sqrt(2.0 * diffusivity * dt) * np.ones(grid.ndim)
    low, high = (np.array(w) for w in zip(*grid.wall_positions()))
    spacing = np.array(grid.spacing)
    shape = np.array(grid.shape, dtype=np.int64)
    cells = np.empty(x.shape, dtype=np.int32)

    if jumps not in JUMPS:
        raise ValueError(f"jumps must be one of {JUMPS}, got {jumps!r}")
    leap = jumps == "auto" and all(b.kind in ("periodic", "reflecting") for b in grid.boundaries)

    def advance(first, n):
        # leaping, the sum of n Gaussian steps is one Gaussian step, drawn with first's uniforms
        calls, width = (1, sigma * np.sqrt(n)) if leap else (n, sigma)
        _loops.brownian_walk(x, first, calls, key, width, low, high, kinds, bridge, diffusivity * dt)

    survivors = []

    def current():
        _loops.point_cells(x, spacing, shape, cells)
        out = np.zeros(grid.size, dtype=np.int64)
        _loops.bin_cells(cells, shape, out)
        survivors.append(int(np.count_nonzero(~np.isnan(x[0]))))
        return out

    with threads_for(particles):
        frames = record(keep, grid.shape, advance, current, callback, 4 * particles, steps if leap else None, out)
    return ParticleRun(keep, frames, int(particles), grid.mass(u0), grid.cell_volume, np.array(survivors))
