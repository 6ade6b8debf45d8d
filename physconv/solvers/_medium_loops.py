"""The compiled finite-volume step of a medium (:mod:`physconv.medium`): one parallel region per call.

Per cell, with weights already multiplied by dt (``c`` the cell's own; per axis ``f[i]`` the rate from
cell ``i`` into the next and ``r[i]`` from the next into ``i``, the last the wrap face or zero):

    out[i] = c[i] u[i] + f[i-1] u[i-1] + r[i] u[i+1] + ... + add[i]

which is ``P u + dt b`` of :func:`physconv.medium.operator` term for term. Rows run in parallel; the
x-interior of a row has no index arithmetic (it vectorises), its two ends wrap.
"""

from __future__ import annotations

import numba as nb
from numba import prange


@nb.njit(inline="always", cache=True)
def _end(src, z, y, x, ny, nx, c, fy, ry, fx, rx, yl, yh):
    xl, xh = (x - 1) % nx, (x + 1) % nx
    return (c[z, y, x] * src[z, y, x] + fx[z, y, xl] * src[z, y, xl] + rx[z, y, x] * src[z, y, xh]
            + fy[z, yl, x] * src[z, yl, x] + ry[z, y, x] * src[z, yh, x])


@nb.njit(parallel=True, cache=True)
def fv_steps(a, b, nsteps, c, fz, rz, fy, ry, fx, rx, add, has_add):
    """Advance ``a`` by ``nsteps`` steps using ``b`` as the second buffer; 1 if the result is in ``b``."""
    nz, ny, nx = a.shape
    for s in range(nsteps):
        src, dst = (a, b) if s % 2 == 0 else (b, a)
        for row in prange(nz * ny):
            z, y = row // ny, row % ny
            yl, yh = (y - 1) % ny, (y + 1) % ny
            for x in range(1, nx - 1):
                dst[z, y, x] = (c[z, y, x] * src[z, y, x] + fx[z, y, x - 1] * src[z, y, x - 1]
                                + rx[z, y, x] * src[z, y, x + 1]
                                + fy[z, yl, x] * src[z, yl, x] + ry[z, y, x] * src[z, yh, x])
            dst[z, y, 0] = _end(src, z, y, 0, ny, nx, c, fy, ry, fx, rx, yl, yh)
            if nx > 1:
                dst[z, y, nx - 1] = _end(src, z, y, nx - 1, ny, nx, c, fy, ry, fx, rx, yl, yh)
            if nz > 1:
                zl, zh = (z - 1) % nz, (z + 1) % nz
                for x in range(nx):
                    dst[z, y, x] += fz[zl, y, x] * src[zl, y, x] + rz[z, y, x] * src[zh, y, x]
            if has_add:
                for x in range(nx):
                    dst[z, y, x] += add[z, y, x]
    return nsteps % 2
