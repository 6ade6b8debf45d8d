"""Jitted Monte Carlo loops (private).

Particle positions are ``(ndim, N)`` arrays (int32 cells for lattice walkers,
float64 coordinates for Brownian ones); a removed particle has ``-1`` (or NaN)
as its first coordinate. Wall codes: 0 periodic, 1 reflecting, 2 absorbing.
Random numbers come from :mod:`._random`, keyed by particle (or cell) and step.
"""

import math

import numba as nb
import numpy as np
from numba import prange

from ._random import (
    alias_draw,
    alias_pick,
    binomial,
    binomial_small,
    half_word,
    normal_pair_at,
    stream,
    uniform_at,
    word_at,
)

BLOCK = 4096  # particles per parallel work item (does not affect the results)


@nb.njit(inline="always", cache=True)
def _wall(p, n, kind):
    """Cell index after a jump to ``p``; -1 if removed (jumps reach at most n cells beyond a wall)."""
    if 0 <= p < n:  # inside: the common case, whatever the wall
        return p
    if kind == 0:
        while p < 0:
            p += n
        while p >= n:
            p -= n
        return p
    if kind == 1:
        if p < 0:
            return -1 - p
        if p >= n:
            return 2 * n - 1 - p
        return p
    if p < 0 or p >= n:
        return -1
    return p


@nb.njit(parallel=True, cache=True)
def lattice_walk(pos, first_step, nsteps, key, offsets, threshold, alias, shape, kinds):
    """Move every live particle ``nsteps`` times by offsets drawn from the alias table.

    Step ``s`` draws from 32 bits of word ``s // 2`` of the particle's stream (the high half for even
    ``s``, the low half for odd), so any split of the steps into calls gives the same walk. A particle's
    coordinates stay in registers for all its steps (up to 3 axes).
    """
    ndim, npart = pos.shape
    n0 = shape[0]
    n1 = shape[1] if ndim > 1 else 1
    n2 = shape[2] if ndim > 2 else 1
    k0 = kinds[0]
    k1 = kinds[1] if ndim > 1 else 1
    k2 = kinds[2] if ndim > 2 else 1
    removing = k0 == 2 or k1 == 2 or k2 == 2  # loop-invariant: walls that never remove skip the check
    nblocks = (npart + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        for i in range(blk * BLOCK, min(npart, (blk + 1) * BLOCK)):
            p0 = np.int64(pos[0, i])
            if p0 < 0:
                continue
            p1 = np.int64(pos[1, i]) if ndim > 1 else np.int64(0)
            p2 = np.int64(pos[2, i]) if ndim > 2 else np.int64(0)
            base = stream(key, i)
            word = word_at(base, first_step >> 1) if first_step & 1 else np.uint64(0)
            for s in range(first_step, first_step + nsteps):
                if not s & 1:
                    word = word_at(base, s >> 1)
                j = alias_pick(half_word(word, s & 1), threshold, alias)
                p0 = _wall(p0 + offsets[j, 0], n0, k0)
                if ndim > 1:
                    p1 = _wall(p1 + offsets[j, 1], n1, k1)
                if ndim > 2:
                    p2 = _wall(p2 + offsets[j, 2], n2, k2)
                if removing and (p0 < 0 or p1 < 0 or p2 < 0):
                    p0 = -1
                    break
            pos[0, i] = p0
            if p0 >= 0:
                if ndim > 1:
                    pos[1, i] = p1
                if ndim > 2:
                    pos[2, i] = p2


@nb.njit(inline="always", cache=True)
def _fold(p, n, kind):
    """Cell of free-walk position ``p`` on an axis of ``n`` cells: wrapped (periodic, kind 0) or
    mirrored about the faces (reflecting, kind 1), for jumps of any length."""
    if 0 <= p < n:
        return p
    if kind == 0:
        return p % n
    q = p % (2 * n)
    return 2 * n - 1 - q if q >= n else q


@nb.njit(parallel=True, cache=True)
def lattice_jump(pos, counter, key, offsets, prob, alias, shape, kinds):
    """Move every particle by one displacement drawn from a multi-step kernel's alias table.

    Uniforms ``2 counter`` and ``2 counter + 1`` of the particle's stream pick
    the table's column and decide between the column and its alias (53 bits
    each: a jump table has up to thousands of columns); the walls fold the free
    displacement (:func:`_fold`).
    """
    ndim, npart = pos.shape
    k = prob.shape[0]
    nblocks = (npart + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        for i in range(blk * BLOCK, min(npart, (blk + 1) * BLOCK)):
            base = stream(key, i)
            j = min(int(uniform_at(base, 2 * counter) * k), k - 1)
            if uniform_at(base, 2 * counter + 1) >= prob[j]:
                j = alias[j]
            for a in range(ndim):
                pos[a, i] = _fold(np.int64(pos[a, i]) + offsets[j, a], shape[a], kinds[a])


@nb.njit(parallel=True, cache=True)
def bin_cells(pos, shape, out):
    """Count the live particles in each cell; ``out`` is a zeroed flat int64 array."""
    ndim, npart = pos.shape
    nchunks = 4
    hist = np.zeros((nchunks, out.shape[0]), dtype=np.int64)
    per = (npart + nchunks - 1) // nchunks
    for c in prange(nchunks):
        for i in range(c * per, min(npart, (c + 1) * per)):
            if pos[0, i] < 0:
                continue
            flat = 0
            for a in range(ndim):
                flat = flat * shape[a] + pos[a, i]
            hist[c, flat] += 1
    for c in range(nchunks):
        out += hist[c]


@nb.njit(parallel=True, cache=True)
def counts_step(counts, key, step, q, prob, alias, shape, offsets, kinds, partial):
    """One step of counts mode: each cell's count split among the kernel's destinations by a chain of
    binomials (``q[j]``: destination ``j``'s share of what the earlier ones left; counts up to the
    tables' size drawn from them, larger ones by :func:`binomial`) and sent there, walls applied.

    The cells are cut into ``len(partial)`` chunks, each adding into its own ``partial`` row; their sum,
    the new counts, goes to ``counts``. Every cell draws from its own stream (``key``, cell, ``step``),
    so the result does not depend on the chunks. Returns the number removed by absorbing walls.
    """
    ncell = counts.shape[0]
    k = offsets.shape[0]
    ndim = shape.shape[0]
    largest = prob.shape[1] - 1
    nchunks = partial.shape[0]
    lost = np.zeros(nchunks, dtype=np.int64)
    for t in prange(nchunks):
        out = partial[t]
        out[:] = 0
        idx = np.empty(ndim, dtype=np.int64)
        for c in range(t * ncell // nchunks, (t + 1) * ncell // nchunks):
            rem = counts[c]
            if rem == 0:
                continue
            rest = c
            for a in range(ndim - 1, -1, -1):
                idx[a] = rest % shape[a]
                rest //= shape[a]
            state = stream(stream(key, c), step)
            for j in range(k):
                if j == k - 1:
                    m = rem
                elif rem == 0 or q[j] <= 0.0:
                    continue
                elif rem <= largest:
                    state, m = binomial_small(state, rem, prob[j], alias[j])
                else:
                    state, m = binomial(state, rem, q[j])
                if m == 0:
                    continue
                rem -= m
                flat = 0
                for a in range(ndim):
                    p = _wall(idx[a] + offsets[j, a], shape[a], kinds[a])
                    if p < 0:
                        flat = -1
                        break
                    flat = flat * shape[a] + p
                if flat < 0:
                    lost[t] += m
                else:
                    out[flat] += m
    for c in prange(ncell):
        total = partial[0, c]
        for t in range(1, nchunks):
            total += partial[t, c]
        counts[c] = total
    return lost.sum()


@nb.njit(parallel=True, cache=True)
def brownian_walk(x, first_step, nsteps, key, sigma, low, high, kinds, bridge, ddt):
    """Gaussian jumps of std ``sigma`` per axis; mirror, wrap or remove at the walls.

    Walls of axis ``a`` lie at ``low[a]`` and ``high[a]`` (periodic and
    reflecting axes have ``low = 0``). With ``bridge``, a particle that stays
    inside a removing axis is still removed with the probability
    ``exp(-x0 x1 / (D dt))`` that the Brownian path crossed the wall between its
    two positions (``x0, x1`` distances to the wall; for each wall of the axis).
    Per step a particle uses uniforms ``[s * 8, s * 8 + 8)`` of its stream:
    4 for the normals of up to 3 axes (Box-Muller pairs), 3 for the bridges.
    """
    ndim, npart = x.shape
    nblocks = (npart + BLOCK - 1) // BLOCK
    jump = np.empty((nblocks, 4))
    for blk in prange(nblocks):
        for i in range(blk * BLOCK, min(npart, (blk + 1) * BLOCK)):
            if math.isnan(x[0, i]):
                continue
            base = stream(key, i)
            for s in range(first_step, first_step + nsteps):
                c = s * 8
                jump[blk, 0], jump[blk, 1] = normal_pair_at(base, c)
                if ndim == 3:
                    jump[blk, 2], jump[blk, 3] = normal_pair_at(base, c + 2)
                dead = False
                for a in range(ndim):
                    x0 = x[a, i]
                    x1 = x0 + sigma[a] * jump[blk, a]
                    L = high[a]
                    if kinds[a] == 0:
                        x1 = x1 % L
                    elif kinds[a] == 1:
                        if x1 < 0.0 or x1 > L:  # mirror images about 0 and L: period 2L
                            x1 = x1 % (2.0 * L)
                            if x1 > L:
                                x1 = 2.0 * L - x1
                    else:
                        lo = low[a]
                        if x1 < lo or x1 > L:
                            dead = True
                        elif bridge:
                            near = (x0 - lo) * (x1 - lo) / ddt
                            far = (L - x0) * (L - x1) / ddt
                            # beyond 40, exp(-40) = 4e-18 leaves 1 - exp exactly 1.0: no draw can remove
                            if min(near, far) <= 40.0:
                                survive = (1.0 - math.exp(-near)) * (1.0 - math.exp(-far))
                                if uniform_at(base, c + 4 + a) >= survive:
                                    dead = True
                    x[a, i] = x1
                if dead:
                    x[0, i] = np.nan
                    break


@nb.njit(parallel=True, cache=True)
def point_cells(x, spacing, shape, out):
    """Cell index per axis of each Brownian particle into ``out`` (int32, like ``x``).

    The first index is -1 for a removed particle and for one alive outside the
    cells (between a face and an absorbing wall half a cell beyond it). A
    particle exactly on a face belongs to the cell inside.
    """
    ndim, npart = x.shape
    for i in prange(npart):
        if math.isnan(x[0, i]):
            out[0, i] = -1
            continue
        outside = False
        for a in range(ndim):
            xa = x[a, i]
            if xa < 0.0 or xa > shape[a] * spacing[a]:
                outside = True
            out[a, i] = min(max(int(xa / spacing[a]), 0), shape[a] - 1)
        if outside:
            out[0, i] = -1


@nb.njit(parallel=True, cache=True)
def stochastic_gather(padded, radius, shape, offsets, prob, alias, key, draws, mean, sq):
    """For each cell, ``draws`` times take the padded value at ``x - d`` with ``d`` drawn from the kernel.

    ``padded`` is 3-D, extended by ``radius`` per axis; accumulates the mean
    and the mean square into ``mean`` and ``sq`` (3-D, the unpadded shape).
    """
    nz, ny, nx = shape[0], shape[1], shape[2]
    for row in prange(nz * ny):
        z = row // ny
        y = row - z * ny
        for xx in range(nx):
            base = stream(key, (z * ny + y) * nx + xx)
            acc = 0.0
            acc2 = 0.0
            for t in range(draws):
                j = alias_draw(uniform_at(base, t), prob, alias)
                v = padded[z + radius[0] - offsets[j, 0], y + radius[1] - offsets[j, 1], xx + radius[2] - offsets[j, 2]]
                acc += v
                acc2 += v * v
            mean[z, y, xx] = acc / draws
            sq[z, y, xx] = acc2 / draws
