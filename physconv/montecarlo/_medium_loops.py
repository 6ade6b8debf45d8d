"""Jitted walkers of a medium (private): every cell has its own table of destinations.

``dest[c, j]`` is the flat index of cell ``c``'s ``j``-th destination (-1: removed, or an unused slot)
and ``cum[c, j]`` the probability of going to one of the first ``j + 1`` (the columns of P, DESIGN §11).
Positions are flat cell indices; a removed particle holds -1.
"""

import math

import numba as nb
import numpy as np
from numba import prange

from ._random import binomial, normal_pair_at, stream, uniform_at


GANG = 256  # particles moved step by step together: their independent table lookups overlap in the core


@nb.njit(parallel=True, cache=True)
def walk(pos, disp, first_step, nsteps, key, dest, cum, jump):
    """Move every live particle ``nsteps`` times; step ``s`` of particle ``i`` draws uniform ``s`` of stream
    ``i``, so any split of the steps into calls gives the same walk. Each jump adds to ``disp[a, i]`` its
    displacement along axis ``a`` in cells (``jump[c, j, a]``, wraps unfolded: the unwrapped path, for a mean
    squared displacement); ``disp`` of no axis, shape (0, N), tracks nothing. Particles go in gangs of
    :data:`GANG`, each step for the whole gang in turn: one particle's steps depend on each other, the
    gang's do not, so their table lookups overlap."""
    npart = pos.shape[0]
    k = dest.shape[1]
    ndim = disp.shape[0]
    ngangs = (npart + GANG - 1) // GANG
    for gang in prange(ngangs):
        lo, hi = gang * GANG, min(npart, (gang + 1) * GANG)
        bases = np.empty(hi - lo, dtype=np.uint64)
        for i in range(lo, hi):
            bases[i - lo] = stream(key, i)
        for s in range(first_step, first_step + nsteps):
            for i in range(lo, hi):
                c = pos[i]
                if c < 0:
                    continue
                u = uniform_at(bases[i - lo], s)
                j = 0
                for t in range(k - 1):  # cum increases: the count of those below u is the outcome, no branch
                    j += u >= cum[c, t]
                for a in range(ndim):
                    disp[a, i] += jump[c, j, a]
                pos[i] = dest[c, j]


@nb.njit(parallel=True, cache=True)
def counts_step(counts, key, step, dest, share, partial):
    """One step of counts mode: each cell's count split among its destinations by a chain of binomials
    (``share[c, j]``: destination ``j``'s share of what the earlier ones left) drawn from the cell's own
    stream (``key``, cell, ``step``); chunks of cells add into their own ``partial`` rows, summed into
    ``counts``. Returns the number removed."""
    ncell = counts.shape[0]
    k = dest.shape[1]
    nchunks = partial.shape[0]
    lost = np.zeros(nchunks, dtype=np.int64)
    for t in prange(nchunks):
        out = partial[t]
        out[:] = 0
        for c in range(t * ncell // nchunks, (t + 1) * ncell // nchunks):
            rem = counts[c]
            if rem == 0:
                continue
            state = stream(stream(key, c), step)
            for j in range(k):
                q = share[c, j]
                if rem == 0:
                    break
                if q >= 1.0:
                    m = rem
                elif q <= 0.0:
                    continue
                else:
                    state, m = binomial(state, rem, q)
                if m == 0:
                    continue
                rem -= m
                d = dest[c, j]
                if d < 0:
                    lost[t] += m
                else:
                    out[d] += m
    for c in prange(ncell):
        total = partial[0, c]
        for t in range(1, nchunks):
            total += partial[t, c]
        counts[c] = total
    return lost.sum()


@nb.njit(inline="always", cache=True)
def _interp(f, z0, z1, wz, y0, y1, wy, x0, x1, wx):
    """Trilinear value of a cell-centred field ``f`` between the cells ``(z0|z1, y0|y1, x0|x1)``."""
    return ((1 - wz) * ((1 - wy) * ((1 - wx) * f[z0, y0, x0] + wx * f[z0, y0, x1])
                        + wy * ((1 - wx) * f[z0, y1, x0] + wx * f[z0, y1, x1]))
            + wz * ((1 - wy) * ((1 - wx) * f[z1, y0, x0] + wx * f[z1, y0, x1])
                    + wy * ((1 - wx) * f[z1, y1, x0] + wx * f[z1, y1, x1])))


@nb.njit(inline="always", cache=True)
def _corner(p, h, n, periodic):
    """``(lower, upper, weight of upper)``: the cell centres around coordinate ``p`` (clamped beyond the first
    and last centre, wrapped on a periodic axis)."""
    f = p / h - 0.5
    i0 = int(math.floor(f))
    w = f - i0
    i1 = i0 + 1
    if periodic:
        return i0 % n, i1 % n, w
    if i0 < 0:
        return 0, 0, 0.0
    if i1 > n - 1:
        return n - 1, n - 1, 0.0
    return i0, i1, w


@nb.njit(inline="always", cache=True)
def _moved(a, k, z, y, x):
    """The cell ``(z, y, x)`` with its index along axis ``a`` set to ``k``."""
    if a == 0:
        return k, y, x
    if a == 1:
        return z, k, x
    return z, y, k


@nb.njit(inline="always", cache=True)
def _obstacle(p, a, old, raw, h, shape, solid, periodic, absorbing):
    """``(coordinate, removed)``: the move of coordinate ``a`` from ``old`` to ``raw``, the other coordinates
    held. At the first solid cell on its way a reflecting obstacle mirrors the move about the cell's near
    face; an absorbing one removes the particle once it passes the cell's centre, where the zero of the
    finite volumes sits (half a cell beyond the face, as for an absorbing domain wall). A particle between a
    face and that centre is alive and in no fluid cell."""
    hh, n = h[a], shape[a]
    c = int(math.floor(old / hh))
    end = int(math.floor(raw / hh))
    step = 1 if raw > old else -1
    z = min(max(int(math.floor(p[0] / h[0])), 0), shape[0] - 1)
    y = min(max(int(math.floor(p[1] / h[1])), 0), shape[1] - 1)
    x = min(max(int(math.floor(p[2] / h[2])), 0), shape[2] - 1)
    k = c % n if periodic else c
    if absorbing and 0 <= k < n:  # already in a solid cell's near half: its centre is the wall
        z, y, x = _moved(a, k, z, y, x)
        if solid[z, y, x]:
            centre = (c + 0.5) * hh
            if (old < centre) != (raw < centre):  # crossed the centre plane, from either side
                return raw, True
    while c != end:
        nxt = c + step
        k = nxt % n if periodic else nxt
        if 0 <= k < n:
            z, y, x = _moved(a, k, z, y, x)
            if solid[z, y, x]:
                if absorbing:
                    centre = (nxt + 0.5) * hh
                    return raw, (step > 0 and raw >= centre) or (step < 0 and raw <= centre)
                face = (c + 1 if step > 0 else c) * hh
                return 2 * face - raw, False
        c = nxt
    return raw, False


@nb.njit(parallel=True, cache=True)
def brownian_step_medium(x, alive, first_step, nsteps, key, dt, h, shape, kinds, D, dD, v, solid, ito, moving,
                         absorbing):
    """Euler–Maruyama steps of ``dx_a = (v_a + ito * dD_a/dx_a) dt + sqrt(2 D_a dt) dW_a`` (fields trilinear
    between cell centres), axis by axis; a move into a solid cell is mirrored about the face it crossed
    (reflecting obstacles) or removes the particle past the cell's centre (absorbing ones, see
    :func:`_obstacle`), one beyond a reflecting wall is mirrored about the wall, a periodic axis wraps, and
    an absorbing wall removes the particle beyond its ghost-cell centre (``alive`` set to 0).

    ``x`` (3, N) coordinates in the padded 3-D layout (unused axes 0, one cell); ``kinds`` wall codes per
    padded axis (0 periodic, 1 reflecting, 2 absorbing). Step ``s`` of particle ``i`` uses normals
    ``3 s`` to ``3 s + 2`` of its stream: any split of the steps gives the same paths."""
    npart = x.shape[1]
    for i in prange(npart):
        if not alive[i]:
            continue
        base = stream(key, i)
        p = (x[0, i], x[1, i], x[2, i])
        for s in range(first_step, first_step + nsteps):
            g0, g1 = normal_pair_at(base, 4 * s)
            g2 = normal_pair_at(base, 4 * s + 2)[0] if shape[0] > 1 else 0.0  # a third normal only in 3-D
            used = 0  # the k-th axis in use takes the k-th normal
            for a in range(3):
                if shape[a] == 1 and kinds[a] != 0:
                    continue
                z0, z1, wz = _corner(p[0], h[0], shape[0], kinds[0] == 0)
                y0, y1, wy = _corner(p[1], h[1], shape[1], kinds[1] == 0)
                x0, x1, wx = _corner(p[2], h[2], shape[2], kinds[2] == 0)
                Da = _interp(D[a], z0, z1, wz, y0, y1, wy, x0, x1, wx)
                drift = _interp(v[a], z0, z1, wz, y0, y1, wy, x0, x1, wx) if moving else 0.0
                if ito:
                    drift += _interp(dD[a], z0, z1, wz, y0, y1, wy, x0, x1, wx)
                noise = g0 if used == 0 else (g1 if used == 1 else g2)
                used += 1
                old = p[a]
                raw = old + drift * dt + math.sqrt(2.0 * max(Da, 0.0) * dt) * noise
                n, hh = shape[a], h[a]
                raw, removed = _obstacle(p, a, old, raw, h, shape, solid, kinds[a] == 0, absorbing)
                if removed:
                    alive[i] = 0
                    break
                length = n * hh
                if kinds[a] == 0:
                    new = raw % length
                elif kinds[a] == 1:
                    new = -raw if raw < 0.0 else raw
                    new = 2 * length - new if new > length else new
                    new = min(max(new, 0.0), length)
                else:
                    if raw < -0.5 * hh or raw > length + 0.5 * hh:
                        alive[i] = 0
                        break
                    new = raw
                p = (new, p[1], p[2]) if a == 0 else ((p[0], new, p[2]) if a == 1 else (p[0], p[1], new))
            if not alive[i]:
                break
        x[0, i], x[1, i], x[2, i] = p
