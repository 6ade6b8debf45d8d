"""The compiled finite-volume step of a medium (:mod:`physconv.medium`): one parallel region per call.

Per cell, with weights already multiplied by dt (``c`` the cell's own, ``w_a[i]`` the face between cell
``i`` and the next along axis ``a``, the last one the wrap face of a periodic axis or zero):

    out[i] = c[i] u[i] + w_a[i-1] u[i-1] + w_a[i] u[i+1] + ... + add[i]

which is ``P u + dt b`` of :func:`physconv.medium.operator` term for term.
"""

from __future__ import annotations

import numba as nb
from numba import prange


@nb.njit(inline="always", cache=True)
def _cell(u, z, y, x, nz, ny, nx, c, wz, wy, wx, add):
    xl, xh = (x - 1) % nx, (x + 1) % nx
    yl, yh = (y - 1) % ny, (y + 1) % ny
    zl, zh = (z - 1) % nz, (z + 1) % nz
    return (c[z, y, x] * u[z, y, x]
            + wx[z, y, xl] * u[z, y, xl] + wx[z, y, x] * u[z, y, xh]
            + wy[z, yl, x] * u[z, yl, x] + wy[z, y, x] * u[z, yh, x]
            + wz[zl, y, x] * u[zl, y, x] + wz[z, y, x] * u[zh, y, x]
            + add[z, y, x])


@nb.njit(parallel=True, cache=True)
def fv_steps(a, b, nsteps, c, wz, wy, wx, add):
    """Advance ``a`` by ``nsteps`` steps using ``b`` as the second buffer; 1 if the result is in ``b``."""
    nz, ny, nx = a.shape
    for s in range(nsteps):
        src, dst = (a, b) if s % 2 == 0 else (b, a)
        for row in prange(nz * ny):
            z, y = row // ny, row % ny
            for x in range(nx):
                dst[z, y, x] = _cell(src, z, y, x, nz, ny, nx, c, wz, wy, wx, add)
    return nsteps % 2
