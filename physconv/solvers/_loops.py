"""Jitted inner loops of the explicit solver (private).

Contract: contiguous float64 arrays, always 3-D ``(nz, ny, nx)`` (unused axes
have length 1), plus small int64/float64 tables prepared by the caller. No
checks, no allocation of results: the caller owns ``out``. Each ``*_steps``
function ping-pongs between two buffers and returns the index (0 or 1) of the
buffer holding the result.

No jitted function here calls a parallel one: the per-row work lives in
inlined helpers and every parallel function owns its ``prange`` (a cached
function calling a cached parallel one can crash when reloaded from the cache).
"""

import numba as nb
import numpy as np
from numba import prange


@nb.njit(inline="always", cache=True)
def _ftcs_row(u, out, row, r, src_z, cf_z, src_y, cf_y, src_x, cf_x):
    """One row of out = u + sum_a r_a (u[i-1] - 2 u[i] + u[i+1]); a neighbour is alpha * u[src] + beta."""
    nz, ny, nx = u.shape
    rz, ry, rx = r[0], r[1], r[2]
    z = row // ny
    y = row - z * ny
    const = ry * (cf_y[y, 0, 1] + cf_y[y, 1, 1]) + rz * (cf_z[z, 0, 1] + cf_z[z, 1, 1])
    if nz == 1:  # a 2-D (or 1-D) field: no z terms
        _ftcs_line2(u[z, y], u[z, src_y[y, 0]], u[z, src_y[y, 1]], out[z, y], 1.0 - 2.0 * (rz + ry + rx), rx,
                    ry * cf_y[y, 0, 0], ry * cf_y[y, 1, 0], const, src_x, cf_x)
        return
    _ftcs_line(u[z, y], u[z, src_y[y, 0]], u[z, src_y[y, 1]], u[src_z[z, 0], y], u[src_z[z, 1], y], out[z, y],
               1.0 - 2.0 * (rz + ry + rx), rx, ry * cf_y[y, 0, 0], ry * cf_y[y, 1, 0], rz * cf_z[z, 0, 0],
               rz * cf_z[z, 1, 0], const, src_x, cf_x)


@nb.njit(inline="always", cache=True)
def _ftcs_line2(mid, lo, hi, o, c0, rx, wl, wh, const, src_x, cf_x):
    """One row ``o`` of a 2-D field from the row itself and its two neighbour rows (weights given).

    The one-step loop (rows along y) and the fused loop (the same rows seen as planes along z) both
    compute every value here, so their results are bit-identical. Per cell it is :func:`_ftcs_line`
    without the two terms of weight zero of the absent axis (adding zero is exact): 9 operations
    instead of 13, and 5 loads instead of 7.
    """
    nx = mid.shape[0]
    for x in range(1, nx - 1):
        o[x] = c0 * mid[x] + rx * (np.float64(mid[x - 1]) + mid[x + 1]) + wl * lo[x] + wh * hi[x] + const
    for x in (0, nx - 1):
        o[x] = c0 * mid[x] + rx * _x_neighbours(mid, x, src_x, cf_x) + wl * lo[x] + wh * hi[x] + const


@nb.njit(inline="always", cache=True)
def _x_neighbours(mid, x, src_x, cf_x):
    """The sum of end cell ``x``'s two neighbours along x, each ``alpha * mid[src] + beta`` from the table."""
    left = cf_x[x, 0, 0] * mid[src_x[x, 0]] + cf_x[x, 0, 1]
    right = cf_x[x, 1, 0] * mid[src_x[x, 1]] + cf_x[x, 1, 1]
    return left + right


@nb.njit(inline="always", cache=True)
def _ftcs_line(mid, ylo, yhi, zlo, zhi, o, c0, rx, wyl, wyh, wzl, wzh, const, src_x, cf_x):
    """One row ``o`` from the row itself, its two y neighbours and its two z neighbours (weights given).

    Both the one-step loop and the fused (temporally blocked) loop compute every value here, term for
    term in the same order, so their results are bit-identical. Every term is float64, for a float32
    field too (the neighbours' sum is promoted as at the ends, where the table's weights are float64),
    so a chunk's cell computes the same value whether its neighbour is across a periodic wall or not.
    """
    nx = mid.shape[0]
    for x in range(1, nx - 1):
        o[x] = (c0 * mid[x] + rx * (np.float64(mid[x - 1]) + mid[x + 1])
                + wyl * ylo[x] + wyh * yhi[x] + wzl * zlo[x] + wzh * zhi[x] + const)
    for x in (0, nx - 1):
        o[x] = (c0 * mid[x] + rx * _x_neighbours(mid, x, src_x, cf_x)
                + wyl * ylo[x] + wyh * yhi[x] + wzl * zlo[x] + wzh * zhi[x] + const)


@nb.njit(parallel=True, cache=True)
def ftcs_step(u, out, r, src_z, cf_z, src_y, cf_y, src_x, cf_x):
    """One FTCS step from ``u`` into ``out``."""
    nz, ny, nx = u.shape
    for row in prange(nz * ny):
        _ftcs_row(u, out, row, r, src_z, cf_z, src_y, cf_y, src_x, cf_x)


@nb.njit(parallel=True, cache=True)
def ftcs_steps(a, b, nsteps, r, src_z, cf_z, src_y, cf_y, src_x, cf_x):
    """Advance ``a`` by ``nsteps`` FTCS steps using ``b`` as the second buffer."""
    nz, ny, nx = a.shape
    for s in range(nsteps):
        if s % 2 == 0:
            for row in prange(nz * ny):
                _ftcs_row(a, b, row, r, src_z, cf_z, src_y, cf_y, src_x, cf_x)
        else:
            for row in prange(nz * ny):
                _ftcs_row(b, a, row, r, src_z, cf_z, src_y, cf_y, src_x, cf_x)
    return nsteps % 2


@nb.njit(inline="always", cache=True)
def _add_shifted(a, urow, krow, lo, hi, hx):
    """``a[i] += krow[jx] * urow[lo + i + hx - jx]`` for the offsets ``jx`` in order: one kernel row's terms
    for the cells ``lo .. hi - 1``, accumulated offset by offset over the whole row."""
    for jx in range(krow.shape[0]):
        kk = krow[jx]
        seg = urow[lo + hx - jx:hi + hx - jx]
        for i in range(hi - lo):
            a[i] += kk * seg[i]


@nb.njit(inline="always", cache=True)
def _edge_terms(acc0, urow, krow, g, x, src_x, w_x):
    """``acc0`` plus one kernel row's terms for cell ``x`` near a wall: ``(krow[jx] g) gx u[source]`` over the
    images (source, gx) of each offset. Image weights are 0 or +-1, so ``k (gz gy)`` is ``(k gz) gy``."""
    for jx in range(krow.shape[0]):
        kk = krow[jx] * g
        for ix in range(3):
            gx = w_x[x, jx, ix]
            if gx != 0.0:
                acc0 += kk * gx * urow[src_x[x, jx, ix]]
    return acc0


@nb.njit(inline="always", cache=True)
def _sum_into(o, a, add):
    for i in range(o.shape[0]):
        o[i] = a[i] + add[i]


@nb.njit(inline="always", cache=True)
def _kernel_row(u, out, row, k, src_z, w_z, src_y, w_y, src_x, w_x, add, acc):
    """One row of out[x] = sum_d k[d] sum_images w * u[source] + add[x].

    ``src_a[i, j, m]`` / ``w_a[i, j, m]``: the m-th image (source cell and
    weight) that target ``i`` sees for kernel offset index ``j`` along axis a.
    A weight of 0 means no image. Away from the walls the row is accumulated
    offset by offset over all its cells at once (``acc``, scratch of length
    nx): each cell still adds its terms in the same order, from 0.
    """
    nz, ny, nx = u.shape
    kz, ky, kx = k.shape
    hz, hy, hx = kz // 2, ky // 2, kx // 2
    z = row // ny
    y = row - z * ny
    lo, hi = 0, 0  # the cells done by the vectorised path
    if hz <= z < nz - hz and hy <= y < ny - hy and nx > 2 * hx:
        lo, hi = hx, nx - hx
        a = acc[lo:hi]
        a[:] = 0.0
        for jz in range(kz):
            for jy in range(ky):
                _add_shifted(a, u[z + hz - jz, y + hy - jy], k[jz, jy], lo, hi, hx)
        _sum_into(out[z, y, lo:hi], a, add[z, y, lo:hi])
    for x in range(nx):
        if lo <= x < hi:
            continue
        acc0 = 0.0
        for jz in range(kz):
            for iz in range(3):
                gz = w_z[z, jz, iz]
                if gz == 0.0:
                    continue
                sz = src_z[z, jz, iz]
                for jy in range(ky):
                    for iy in range(3):
                        gy = w_y[y, jy, iy]
                        if gy == 0.0:
                            continue
                        acc0 = _edge_terms(acc0, u[sz, src_y[y, jy, iy]], k[jz, jy], gz * gy, x, src_x, w_x)
        out[z, y, x] = acc0 + add[z, y, x]


@nb.njit(inline="always", cache=True)
def _kernel_3x3(r0, r1, r2, o, add, k):
    """``o[x] = sum_{jy, jx} k[jy, jx] r_jy[x + 1 - jx] + add[x]`` for 0 < x < nx - 1, the terms added
    to 0 in the order of the offset-by-offset accumulation (so the same values), in one pass."""
    n = o.shape[0] - 2
    a0, a1, a2 = r0[2:], r0[1:-1], r0[:-2]
    b0, b1, b2 = r1[2:], r1[1:-1], r1[:-2]
    c0, c1, c2 = r2[2:], r2[1:-1], r2[:-2]
    out, ad = o[1:-1], add[1:-1]
    k00, k01, k02, k10, k11, k12, k20, k21, k22 = (k[0, 0], k[0, 1], k[0, 2], k[1, 0], k[1, 1], k[1, 2], k[2, 0],
                                                   k[2, 1], k[2, 2])
    for i in range(n):
        out[i] = (0.0 + k00 * a0[i] + k01 * a1[i] + k02 * a2[i] + k10 * b0[i] + k11 * b1[i] + k12 * b2[i]
                  + k20 * c0[i] + k21 * c1[i] + k22 * c2[i]) + ad[i]


@nb.njit(inline="always", cache=True)
def _kernel_plane_row(src, base, mod, v, y, o, k, src_y, w_y, src_x, w_x, add, acc, wrap):
    """Row ``y`` (virtual row ``v``) of one step of a 2-D kernel ``k`` into ``o``: the sums of
    :func:`_kernel_row` for a plane, term for term, reading source row ``t`` at ``src[base + t % mod]``
    (the field itself: ``base = 0, mod = ny``; a ring of rows: ``mod`` = its length).

    Rows away from the walls (all rows with ``wrap``, a periodic axis walked by virtual index) are
    accumulated offset by offset over the whole row; the others use the image tables of real rows.
    """
    ny = src_y.shape[0]
    nx = o.shape[0]
    ky, kx = k.shape
    hy, hx = ky // 2, kx // 2
    lo, hi = 0, 0
    if (wrap or hy <= y < ny - hy) and nx > 2 * hx and ky == 3 and kx == 3:  # the common 3x3: one pass
        lo, hi = 1, nx - 1
        _kernel_3x3(src[base + (v + 1) % mod], src[base + v % mod], src[base + (v - 1) % mod], o, add, k)
    elif (wrap or hy <= y < ny - hy) and nx > 2 * hx:
        lo, hi = hx, nx - hx
        a = acc[lo:hi]
        a[:] = 0.0
        for jy in range(ky):
            _add_shifted(a, src[base + (v + hy - jy) % mod], k[jy], lo, hi, hx)
        _sum_into(o[lo:hi], a, add[lo:hi])
    for x in range(nx):
        if lo <= x < hi:
            continue
        acc0 = 0.0
        for jy in range(ky):
            for iy in range(3):
                gy = w_y[y, jy, iy]
                if gy == 0.0:
                    continue
                t = v + hy - jy if wrap else src_y[y, jy, iy]
                acc0 = _edge_terms(acc0, src[base + t % mod], k[jy], gy, x, src_x, w_x)
        o[x] = acc0 + add[x]


@nb.njit(parallel=True, cache=True)
def kernel_blocked(a, b, nsteps, band, ring, k, src_y, w_y, src_x, w_x, add, wrap):
    """``nsteps`` steps of a 2-D kernel from ``a`` (ny, nx) into ``b``, temporally blocked along y.

    As :func:`ftcs_blocked` with a kernel reaching ``R = ky // 2`` rows: each band of ``band`` rows is
    advanced ``nsteps`` steps at once, row v at level s from rows v - R .. v + R at level s - 1, held
    in a ring of 2R + 1 rows per level; bands overlap by R rows per remaining level (computed twice).
    With ``wrap`` (periodic y) rows are indexed virtually. ``ring``: scratch rows
    (bands * nsteps * (2R + 1), nx). Bit-identical to :func:`kernel_steps`.
    """
    ny, nx = a.shape
    R = k.shape[0] // 2
    W = 2 * R + 1
    nbands = (ny + band - 1) // band
    for bi in prange(nbands):
        acc = np.empty(nx)
        y0 = bi * band
        y1 = min(ny, y0 + band)
        for j in range(y0 - (nsteps - 1) * R, y1 + (nsteps - 1) * R):  # j: the row level 1 reaches
            for s in range(1, nsteps + 1):
                v = j - (s - 1) * R
                vlo, vhi = _window(y0, y1, (nsteps - s) * R, ny, wrap)
                if v < vlo or v >= vhi:
                    continue
                y = v % ny
                if s == 1:
                    src, base, mod = a, 0, ny
                else:
                    src, base, mod = ring, (bi * nsteps + s - 1) * W, W
                o = b[y] if s == nsteps else ring[(bi * nsteps + s) * W + v % W]
                _kernel_plane_row(src, base, mod, v, y, o, k, src_y, w_y, src_x, w_x, add[y], acc, wrap)


@nb.njit(parallel=True, cache=True)
def kernel_steps(a, b, nsteps, k, src_z, w_z, src_y, w_y, src_x, w_x, add):
    """Advance ``a`` by ``nsteps`` kernel steps using ``b`` as the second buffer."""
    nz, ny, nx = a.shape
    rows = nz * ny
    nblocks = min(rows, 64)  # each block of rows owns one accumulator row
    plane = k.shape[0] == 1 and nz == 1  # 1-D and 2-D: the plane loop, shared with kernel_blocked
    for s in range(nsteps):
        src, dst = (a, b) if s % 2 == 0 else (b, a)
        for blk in prange(nblocks):
            acc = np.empty(nx)
            for row in range(blk * rows // nblocks, (blk + 1) * rows // nblocks):
                if plane:
                    _kernel_plane_row(src[0], 0, ny, row, row, dst[0, row], k[0], src_y, w_y, src_x, w_x, add[0, row],
                                      acc, False)
                else:
                    _kernel_row(src, dst, row, k, src_z, w_z, src_y, w_y, src_x, w_x, add, acc)
    return nsteps % 2


@nb.njit(inline="always", cache=True)
def _wrap(v, n):
    """``v mod n`` for ``-n <= v < 2n`` without a division (a plane's index in the fused loop, once per
    row: the divisions by the runtime ``n`` cost 3-8 % of a 256^2 or 256^3 run)."""
    if v < 0:
        return v + n
    if v >= n:
        return v - n
    return v


@nb.njit(inline="always", cache=True)
def _window(lo, hi, halo, n, wrap):
    """The cells ``[lo - halo, hi + halo)`` a band of a fused sweep computes at one level, cut at the
    walls unless the axis wraps."""
    vlo, vhi = lo - halo, hi + halo
    if not wrap:
        vlo, vhi = max(vlo, 0), min(vhi, n)
    return vlo, vhi


@nb.njit(parallel=True, cache=True)
def ftcs_blocked(a, b, ny, k, band, ring, r, src_z, cf_z, src_y, cf_y, src_x, cf_x, periodic_z):
    """k FTCS steps of ``a`` into ``b``, temporally blocked along the first axis.

    ``a`` and ``b`` hold a field of shape (nz, ny, nx) as rows, shape (nz * ny, nx). Each band of
    ``band`` planes is advanced k steps at once: plane v at level s is computed from planes v - 1,
    v, v + 1 at level s - 1, held in a ring of three planes per level, so the grid is read and
    written once per k steps instead of once per step. Bands overlap by a halo of k planes (computed
    twice), so they need no synchronisation. Planes are indexed virtually (``v``); on a periodic axis
    plane ``v`` is ``v mod nz``, elsewhere the halo stops at the walls and the ghost planes come from
    ``src_z``/``cf_z`` as in the one-step loop. ``ring`` is scratch rows, (bands * k * 3 * ny, nx).
    A 2-D field is passed with ny = 1, so its planes are rows. Needs ``2 k <= band <= nz``.
    """
    nx = a.shape[1]
    nz = a.shape[0] // ny
    rz, ry, rx = r[0], r[1], r[2]
    c0 = 1.0 - 2.0 * (rz + ry + rx)
    nbands = (nz + band - 1) // band
    for bi in prange(nbands):
        z0 = bi * band
        z1 = min(nz, z0 + band)
        for j in range(z0 - (k - 1), z1 + k - 1):  # j: the plane level 1 reaches in this sweep
            for s in range(1, k + 1):
                v = j - (s - 1)
                vlo, vhi = _window(z0, z1, k - s, nz, periodic_z)
                if v < vlo or v >= vhi:
                    continue
                z = _wrap(v, nz)  # the real plane
                if periodic_z:  # neighbours at level s - 1: virtual v -/+ 1, else the table
                    vl, vh = v - 1, v + 1
                    wzl, wzh, cl, ch = rz, rz, 0.0, 0.0
                else:
                    vl, vh = src_z[z, 0], src_z[z, 1]
                    wzl, wzh = rz * cf_z[z, 0, 0], rz * cf_z[z, 1, 0]
                    cl, ch = cf_z[z, 0, 1], cf_z[z, 1, 1]
                # first row of each plane: level s - 1 in a (s = 1) or the ring, level s in b (s = k) or the ring
                if s == 1:
                    src, pm, pl, ph = a, z * ny, _wrap(vl, nz) * ny, _wrap(vh, nz) * ny
                else:
                    src, base = ring, ((bi * k + s - 1) * 3) * ny
                    pm, pl, ph = base + (v % 3) * ny, base + (vl % 3) * ny, base + (vh % 3) * ny
                if s == k:
                    dst, po = b, z * ny
                else:
                    dst, po = ring, ((bi * k + s) * 3 + v % 3) * ny
                if ny == 1:  # planes of one row (a 2-D field): as the one-step loop's rows
                    _ftcs_line2(src[pm], src[pl], src[ph], dst[po], c0, rx, wzl, wzh,
                                ry * (cf_y[0, 0, 1] + cf_y[0, 1, 1]) + rz * (cl + ch), src_x, cf_x)
                    continue
                for y in range(ny):  # term for term as _ftcs_row
                    const = ry * (cf_y[y, 0, 1] + cf_y[y, 1, 1]) + rz * (cl + ch)
                    _ftcs_line(src[pm + y], src[pm + src_y[y, 0]], src[pm + src_y[y, 1]], src[pl + y], src[ph + y],
                               dst[po + y], c0, rx, ry * cf_y[y, 0, 0], ry * cf_y[y, 1, 0], wzl, wzh, const,
                               src_x, cf_x)


@nb.njit(inline="always", cache=True)
def _ftcs_span(prev, out, i0, i1, d, c0, rx):
    """out[i + d] = c0 prev[i] + rx (prev[i - 1] + prev[i + 1]) for i in [i0, i1).

    Written on slices whose length bounds the loop: so the compiler proves the loop vectorisable
    (indexing the whole arrays with runtime offsets ran 5x slower, one cell at a time). The sum of the
    two neighbours is taken in float64 also for a float32 field, as at the ends (:func:`_x_neighbours`,
    whose table weights are float64): every value of a step is computed in float64 and rounded once.
    """
    o = out[i0 + d:i1 + d]
    p = prev[i0 - 1:i1 + 1]
    for j in range(o.shape[0]):
        o[j] = c0 * p[j + 1] + rx * (np.float64(p[j]) + p[j + 2])


@nb.njit(parallel=True, cache=True)
def ftcs_blocked_1d(a, b, k, band, scratch, rx, src_x, cf_x, periodic):
    """k FTCS steps of a 1-D field ``a`` into ``b``, temporally blocked in bands of ``band`` cells.

    Each band is copied with a halo of k cells into a window (``scratch[band index]``, two rows of
    ``band + 2k``), advanced k steps there, level by level on a range that shrinks by one cell per
    side per level, and its middle written to ``b``. Windows are indexed virtually: on a periodic
    axis cell ``v`` is ``v mod n``; otherwise the window stops at the walls and their ghost cells
    come from ``src_x``/``cf_x`` as in the one-step loop. Per cell the same products and sums as
    :func:`_ftcs_line` (which adds four zero terms for the absent axes: adding zero is exact).
    """
    n = a.shape[0]
    c0 = 1.0 - 2.0 * rx
    nbands = (n + band - 1) // band
    for bi in prange(nbands):
        x0 = bi * band
        x1 = min(n, x0 + band)
        lo, hi = _window(x0, x1, k, n, periodic)  # the window, virtual cells
        prev, nxt = scratch[bi, 0], scratch[bi, 1]
        for v in range(lo, hi):
            prev[v - lo] = a[v % n]
        for s in range(1, k + 1):
            vlo, vhi = _window(x0, x1, k - s, n, periodic)
            # level s of window cells [vlo, vhi): interior cells by one plain loop, wall cells by the table
            dst, shift = (b, 0) if s == k else (nxt, lo)
            ilo, ihi = (vlo, vhi) if periodic else (max(vlo, 1), min(vhi, n - 1))
            _ftcs_span(prev, dst, ilo - lo, ihi - lo, lo - shift, c0, rx)  # level k: [x0, x1), real cells
            for w in (0, n - 1):  # the end cells (every virtual copy of them in a periodic window), as
                v = vlo + (w - vlo) % n if periodic else w  # the one-step loop: neighbours as float64
                while vlo <= v < vhi:
                    i = v - lo
                    if periodic:
                        left, right = 1.0 * prev[i - 1], 1.0 * prev[i + 1]
                    else:
                        left = prev[i - 1] if v > 0 else cf_x[v, 0, 0] * prev[src_x[v, 0] - lo] + cf_x[v, 0, 1]
                        right = prev[i + 1] if v < n - 1 else cf_x[v, 1, 0] * prev[src_x[v, 1] - lo] + cf_x[v, 1, 1]
                    dst[v - shift] = c0 * prev[i] + rx * (left + right)
                    v += n if periodic else vhi
            prev, nxt = nxt, prev
