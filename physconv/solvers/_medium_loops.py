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

from ._loops import _window, _wrap


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


@nb.njit(parallel=True, cache=True)
def fv_steps_2d_closed(a, b, nsteps, fy, fx):
    """:func:`fv_steps` for a still 2-D medium with no sink (reflecting and periodic walls, reflecting
    obstacles): every column of P sums to one, so a cell's own weight is ``1 -`` the weights of its four
    faces, read with its neighbours' (one stream of memory fewer)."""
    _, ny, nx = a.shape
    for s in range(nsteps):
        src, dst = (a, b) if s % 2 == 0 else (b, a)
        for y in prange(ny):
            yl, yh = (y - 1) % ny, (y + 1) % ny
            _closed_row(dst[0, y], src[0, y], src[0, yl], src[0, yh], fy[0, yl], fy[0, y], fx[0, y], nx)
    return nsteps % 2


@nb.njit(inline="always", cache=True)
def _closed_interior(out, mid, lo, hi, fb, fr, fxr, m):
    """Cells 1 .. m of a row, read through views that start one cell left (``mid``, ``fxr``) or at the
    first (the others): every index is the loop's own, never negative, so the loop vectorises (an index
    that might be negative costs a wrap-around test per read: half the speed)."""
    for i in range(m):
        wl, wr, wb, wt = fxr[i], fxr[i + 1], fb[i], fr[i]
        out[i] = ((1.0 - wl - wr - wb - wt) * mid[i + 1] + wl * mid[i] + wr * mid[i + 2] + wb * lo[i] + wt * hi[i])


@nb.njit(inline="always", cache=True)
def _closed_row(out, mid, lo, hi, fb, fr, fxr, nx):
    """One row of :func:`fv_steps_2d_closed` (the same arithmetic, term for term)."""
    if nx > 2:
        _closed_interior(out[1:], mid, lo[1:], hi[1:], fb[1:], fr[1:], fxr, nx - 2)
    for x in (0, nx - 1):
        if x == nx - 1 and nx == 1:
            break
        xl, xh = (x - 1) % nx, (x + 1) % nx
        wl, wr, wb, wt = fxr[xl], fxr[x], fb[x], fr[x]
        out[x] = ((1.0 - wl - wr - wb - wt) * mid[x] + wl * mid[xl] + wr * mid[xh] + wb * lo[x] + wt * hi[x])


@nb.njit(parallel=True, cache=True)
def fv_blocked_2d_closed(a, b, k, band, ring, fy, fx, periodic):
    """k steps of :func:`fv_steps_2d_closed` from ``a`` (rows, (ny, nx)) into ``b``, temporally blocked as
    :func:`physconv.solvers._loops.ftcs_blocked`: each band of ``band`` rows is advanced k steps at once,
    row v at level s from rows v - 1, v, v + 1 at level s - 1 held in a ring of three rows per level
    (``ring``: (bands * k * 3, nx)), so the field is read and written once per k steps while the weights'
    rows near the band stay in cache. Bands overlap by k rows of halo (computed twice). On a closed axis
    the rows beyond a wall are never needed: the wall's face weighs 0, so the row itself stands in."""
    ny, nx = a.shape
    nbands = (ny + band - 1) // band
    for bi in prange(nbands):
        y0 = bi * band
        y1 = min(ny, y0 + band)
        for j in range(y0 - (k - 1), y1 + k - 1):
            for s in range(1, k + 1):
                v = j - (s - 1)
                vlo, vhi = _window(y0, y1, k - s, ny, periodic)
                if v < vlo or v >= vhi:
                    continue
                y = _wrap(v, ny)
                if periodic:
                    vl, vh = v - 1, v + 1
                else:
                    vl, vh = (v - 1 if v > 0 else v), (v + 1 if v < ny - 1 else v)
                if s == 1:
                    mid, lo, hi = a[y], a[_wrap(vl, ny)], a[_wrap(vh, ny)]
                else:
                    base = (bi * k + s - 1) * 3
                    mid, lo, hi = ring[base + v % 3], ring[base + vl % 3], ring[base + vh % 3]
                out = b[y] if s == k else ring[(bi * k + s) * 3 + v % 3]
                _closed_row(out, mid, lo, hi, fy[_wrap(v - 1, ny)], fy[y], fx[y], nx)
