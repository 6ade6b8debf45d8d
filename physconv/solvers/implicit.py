"""Crank–Nicolson diffusion by alternating directions: unconditionally stable.

Each step solves one tridiagonal system per line along each axis (Douglas'
splitting of Crank–Nicolson; in 2-D it is the Peaceman–Rachford scheme, with
the same amplification factor). With :math:`M_a = r_a A_a` the second
difference along axis a (ghost cells as in :mod:`physconv.boundary`) and
:math:`f_a` its dirichlet wall term:

.. math::
    (I - \\tfrac12 M_0)\\,u^{(0)} &= u^n + \\tfrac12 M_0 u^n + f_0 + \\sum_{a>0} (M_a u^n + f_a)\\\\
    (I - \\tfrac12 M_a)\\,u^{(a)} &= u^{(a-1)} - \\tfrac12 M_a u^n, \\qquad a = 1, \\dots, d-1

and :math:`u^{n+1} = u^{(d-1)}`. In the boundary's eigenbasis every mode is
multiplied by

.. math:: g = 1 + \\frac{2 \\sum_a \\alpha_a}{\\prod_a (1 - \\alpha_a)}, \\qquad \\alpha_a = \\tfrac12 r_a \\lambda_a \\le 0,

so :math:`|g| \\le 1` for any time step, and the scheme is second order in
dt and dx.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import kernels as _k
from ..grid import Grid
from .explicit import _drive, _neighbour_table, _pad3


def amplification(grid: Grid, diffusivity: float, dt: float) -> np.ndarray:
    """The factor :math:`g` by which one step multiplies each eigenmode of the grid's boundaries."""
    from ..spectral import eigenvalues

    r = _k.ftcs_numbers(diffusivity, dt, grid.spacing)
    alphas = [0.5 * ra * eigenvalues(n, b.kind) for ra, n, b in zip(r, grid.shape, grid.boundaries)]
    total, prod = np.zeros(()), np.ones(())
    for a in alphas:
        total = np.add.outer(total, a)
        prod = np.multiply.outer(prod, 1.0 - a)
    return 1.0 + 2.0 * total / prod


def exact(u0, grid: Grid, *, diffusivity: float, dt: float, steps):
    """What :func:`diffuse` must give, computed in one shot in the boundaries' eigenbasis.

    Every mode is multiplied by :func:`amplification` per step; dirichlet walls
    add the scheme's one-step response to a zero field each step.
    """
    return exact_at(u0, grid, diffusivity=diffusivity, dt=dt)(steps)


def exact_at(u0, grid: Grid, *, diffusivity: float, dt: float):
    """:func:`exact` as a function of ``steps``, its set-up done once (for frame-by-frame use)."""
    from .. import spectral

    u = grid.check_field(u0)
    source = None
    if any(b.kind == "dirichlet" and b.value != 0 for b in grid.boundaries):
        source = diffuse(np.zeros(grid.shape), grid, diffusivity=diffusivity, dt=dt, steps=1)
    G = amplification(grid, diffusivity, dt)
    return lambda steps: spectral.evolve(u, G, grid.boundaries, steps, source)


def diffuse(u0, grid: Grid, *, diffusivity: float, dt: float, steps: int,
            save_every: int | None = None, callback: Callable[[int], None] | None = None, out=None):
    """Crank–Nicolson ADI diffusion; any ``dt > 0`` is stable.

    Parameters
    ----------
    u0 : ndarray, shape grid.shape
    grid : Grid
    diffusivity : float
        D (length^2 / time).
    dt : float
        Time step (no stability limit).
    steps, save_every, callback, out : see :func:`physconv.solvers.explicit.diffuse`

    Returns
    -------
    ndarray or Trajectory

    Examples
    --------
    >>> g = Grid((16,), boundary='reflecting')
    >>> u = diffuse(np.eye(16)[0], g, diffusivity=1.0, dt=50.0, steps=40)   # r = 50: stable, mass kept
    >>> bool(abs(u.sum() - 1) < 1e-12 and np.abs(u).max() <= 1)
    True

    Its stiffest modes decay slowly when r is large (g close to -1), the
    price of second-order accuracy; keep r moderate where those modes matter.
    """
    u = grid.check_field(u0)
    r = _k.ftcs_numbers(diffusivity, dt, grid.spacing)
    from . import _adi_loops

    tables = []
    for n, b in zip(_pad3(grid.shape), _pad3(grid.boundaries, None)):
        tables += list(_neighbour_table(n, b))
    axes = [a for a in range(grid.ndim) if r[a] > 0]
    lead = 3 - grid.ndim

    def per_axis(values: dict) -> np.ndarray:
        v = np.zeros(3)
        for a, value in values.items():
            v[lead + a] = value
        return v

    # stage 0: u + 1/2 M_0 u + sum_a>0 M_a u, and every wall's whole f_a (its explicit and implicit halves)
    # stage a > 0: the previous stage - 1/2 M_a u (the wall's terms cancel)
    stages = [(lead + a, i > 0,
               per_axis({b: (0.5 if b == a else 1.0) * r[b] for b in axes}) if i == 0 else per_axis({a: -0.5 * r[a]}),
               per_axis({b: r[b] for b in axes}) if i == 0 else np.zeros(3),
               _line_solver(grid.shape[a], grid.boundaries[a].kind, 0.5 * r[a]))
              for i, a in enumerate(axes)]

    def one_step(un, out):
        if not stages:
            out[...] = un
        for axis, keep, w, f, factors in stages:
            _adi_loops.adi_stage(un, out, axis, keep, w, f, *tables, *factors)

    def advance(a, b, n):
        src, dst = a, b
        for _ in range(n):
            one_step(src, dst)
            src, dst = dst, src
        return n % 2

    return _drive(advance, u, steps, save_every, callback, out=out)


def _line_solver(n: int, kind: str, h: float):
    """Factors for solving ``(I - h A) y = x`` along an axis of n cells with boundary ``kind``.

    ``A`` is the second difference with the axis's walls (periodic: cyclic). Built from its three
    diagonals in O(n) memory and time; lines of up to 3 cells are solved by their inverse.
    """
    empty = np.zeros(1)
    periodic = kind == "periodic"
    edge = 0.0 if periodic else {"reflecting": 1.0, "absorbing": 0.0, "dirichlet": -1.0}[kind]  # A's end cells
    if n <= 3:
        A = -2.0 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
        if periodic:
            A[0, -1] += 1.0
            A[-1, 0] += 1.0
            if n == 1:
                A[:] = 0.0
        A[0, 0] += edge
        A[-1, -1] += edge
        return (2, empty, empty, empty, empty, 0.0, 0.0, np.linalg.inv(np.eye(n) - h * A))
    a_diag = np.full(n, -2.0)
    a_diag[0] += edge
    a_diag[-1] += edge
    off = 0.0 - h * 1.0  # M = I - h A off the diagonal
    diag = 1.0 - h * a_diag
    lower, upper = np.full(n, off), np.full(n, off)
    lower[0], upper[-1] = 0.0, 0.0
    mode, z, ratio, fac = 0, empty, 0.0, 0.0
    if periodic:  # Sherman–Morrison: M = M' + u v^T, the corners M[0, -1] = M[-1, 0] = off
        alpha, beta, gamma = off, off, -diag[0]
        diag[0] -= gamma
        diag[-1] -= alpha * beta / gamma
        uvec = np.zeros(n)
        uvec[0], uvec[-1] = gamma, beta
        from scipy.linalg import solve_banded

        z = solve_banded((1, 1), np.vstack([np.r_[0.0, upper[:-1]], diag, np.r_[lower[1:], 0.0]]), uvec)
        ratio = alpha / gamma
        fac = 1.0 / (1.0 + z[0] + ratio * z[-1])
        mode = 1
    den, cp = np.empty(n), np.empty(n)
    den[0], cp[0] = diag[0], upper[0] / diag[0]
    for i in range(1, n):
        den[i] = diag[i] - lower[i] * cp[i - 1]
        cp[i] = upper[i] / den[i]
    return (mode, lower, cp, den, z, ratio, fac, np.zeros((1, 1)))
