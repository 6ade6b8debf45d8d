"""Jitted loop of the Crank–Nicolson ADI solver (private).

One call is one stage of a step: for every line along the stage's axis it forms
the right-hand side cell by cell and solves the line's tridiagonal system at once,
so a step of a d-dimensional field is d parallel regions and no temporary array.
Fewer regions matter on a shared machine: each region ends when its slowest
thread does, and a thread that another process has pushed off its core holds
the region up for a time slice (see :mod:`physconv._threads`).

Contract as in :mod:`physconv.solvers._loops`: contiguous float64 arrays, always
3-D ``(nz, ny, nx)``, neighbour tables ``src`` (n, 2) and ``cf`` (n, 2, 2) per axis
where a neighbour is ``cf[i, side, 0] * u[src[i, side]] + cf[i, side, 1]``.
"""

import numba as nb
import numpy as np
from numba import prange

WIDTH = 64  # lines along y or z solved side by side: a segment of 64 doubles of each row


@nb.njit(inline="always", cache=True)
def _segment(u, prev, z, y, x0, x1, keep, w, f, src_z, cf_z, src_y, cf_y, src_x, cf_x):
    """``prev <- prev (or u) + sum_a (w_a A_a u + f_a b_a)`` on cells ``x0 <= x < x1`` of row (z, y).

    ``A_a u`` is the second difference along axis a without its wall constants, ``b_a`` those constants.
    Only the row's two end cells read the x table; the others run as one vectorisable loop.
    """
    nx = u.shape[2]
    wz, wy, wx = w[0], w[1], w[2]
    const = f[0] * (cf_z[z, 0, 1] + cf_z[z, 1, 1]) + f[1] * (cf_y[y, 0, 1] + cf_y[y, 1, 1])
    c0 = -2.0 * (wz + wy + wx)
    wyl, wyh = wy * cf_y[y, 0, 0], wy * cf_y[y, 1, 0]
    wzl, wzh = wz * cf_z[z, 0, 0], wz * cf_z[z, 1, 0]
    mid, o = u[z, y], prev[z, y]
    ylo, yhi = u[z, src_y[y, 0]], u[z, src_y[y, 1]]
    zlo, zhi = u[src_z[z, 0], y], u[src_z[z, 1], y]
    lo, hi = max(x0, 1), min(x1, nx - 1)
    if keep:
        for x in range(lo, hi):
            o[x] = (o[x] + c0 * mid[x] + wx * (mid[x - 1] + mid[x + 1])
                    + wyl * ylo[x] + wyh * yhi[x] + wzl * zlo[x] + wzh * zhi[x] + const)
    else:
        for x in range(lo, hi):
            o[x] = (mid[x] + c0 * mid[x] + wx * (mid[x - 1] + mid[x + 1])
                    + wyl * ylo[x] + wyh * yhi[x] + wzl * zlo[x] + wzh * zhi[x] + const)
    for x in range(x0, x1):  # the row's end cells, each once
        if x > 0 and x < nx - 1:
            continue
        base = o[x] if keep else mid[x]
        ends = (wx * (cf_x[x, 0, 0] * mid[src_x[x, 0]] + cf_x[x, 1, 0] * mid[src_x[x, 1]])
                + f[2] * (cf_x[x, 0, 1] + cf_x[x, 1, 1]))
        o[x] = base + c0 * mid[x] + ends + wyl * ylo[x] + wyh * yhi[x] + wzl * zlo[x] + wzh * zhi[x] + const


@nb.njit(inline="always", cache=True)
def _solve_block(x, p, q0, q1, mode, lower, cp, den, z, ratio, fac, dense):
    """Solve ``M y = x[p, :, q]`` in place for ``q0 <= q < q1``.

    mode 0: Thomas with factors ``lower``, ``cp``, ``den``; mode 1: the same plus the
    Sherman–Morrison correction of a cyclic system (``z``, ``ratio``, ``fac``); mode 2:
    multiply by the precomputed inverse ``dense`` (lines of up to 3 cells).
    """
    n = x.shape[1]
    if mode == 2:
        tmp = np.empty(n)
        for q in range(q0, q1):
            for i in range(n):
                acc = 0.0
                for j in range(n):
                    acc += dense[i, j] * x[p, j, q]
                tmp[i] = acc
            for i in range(n):
                x[p, i, q] = tmp[i]
        return
    for q in range(q0, q1):
        x[p, 0, q] /= den[0]
    for i in range(1, n):
        for q in range(q0, q1):
            x[p, i, q] = (x[p, i, q] - lower[i] * x[p, i - 1, q]) / den[i]
    for i in range(n - 2, -1, -1):
        for q in range(q0, q1):
            x[p, i, q] -= cp[i] * x[p, i + 1, q]
    if mode == 1:
        for q in range(q0, q1):
            coef = (x[p, 0, q] + ratio * x[p, n - 1, q]) * fac
            for i in range(n):
                x[p, i, q] -= coef * z[i]


@nb.njit(parallel=True, cache=True)
def adi_stage(u, out, axis, keep, w, f, src_z, cf_z, src_y, cf_y, src_x, cf_x,
              mode, lower, cp, den, z, ratio, fac, dense):
    """``out <- M^-1 (out or u + sum_a (w_a A_a u + f_a b_a))`` along ``axis`` (0, 1 or 2), line by line.

    ``keep`` reads the previous stage from ``out``; otherwise ``out`` is only written.
    ``M = I - h A_axis`` is given by its factors (see ``implicit._line_solver``). Lines along x are
    solved one row at a time, lines along y or z :data:`WIDTH` of them side by side.
    """
    nz, ny, nx = u.shape
    nxb = (nx + WIDTH - 1) // WIDTH
    tasks = nz * ny if axis == 2 else (nz * nxb if axis == 1 else ny * nxb)
    rows = out.reshape(nz * ny, nx, 1)
    planes = out.reshape(1, nz, ny * nx)
    for t in prange(tasks):
        if axis == 2:
            cz = t // ny
            cy = t - cz * ny
            _segment(u, out, cz, cy, 0, nx, keep, w, f, src_z, cf_z, src_y, cf_y, src_x, cf_x)
            _solve_block(rows, t, 0, 1, mode, lower, cp, den, z, ratio, fac, dense)
            continue
        outer = t // nxb
        x0 = (t - outer * nxb) * WIDTH
        x1 = min(nx, x0 + WIDTH)
        if axis == 1:
            for cy in range(ny):
                _segment(u, out, outer, cy, x0, x1, keep, w, f, src_z, cf_z, src_y, cf_y, src_x, cf_x)
            _solve_block(out, outer, x0, x1, mode, lower, cp, den, z, ratio, fac, dense)
        else:
            for cz in range(nz):
                _segment(u, out, cz, outer, x0, x1, keep, w, f, src_z, cf_z, src_y, cf_y, src_x, cf_x)
            _solve_block(planes, 0, outer * nx + x0, outer * nx + x1, mode, lower, cp, den, z, ratio, fac, dense)
