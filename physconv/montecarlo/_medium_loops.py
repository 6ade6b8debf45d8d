"""Jitted walkers of a medium (private): every cell has its own table of destinations.

``dest[c, j]`` is the flat index of cell ``c``'s ``j``-th destination (-1: removed, or an unused slot)
and ``cum[c, j]`` the probability of going to one of the first ``j + 1`` (the columns of P, DESIGN §11).
Positions are flat cell indices; a removed particle holds -1.
"""

import numba as nb
import numpy as np
from numba import prange

from ._random import binomial, stream, uniform_at


GANG = 256  # particles moved step by step together: their independent table lookups overlap in the core


@nb.njit(parallel=True, cache=True)
def walk(pos, first_step, nsteps, key, dest, cum):
    """Move every live particle ``nsteps`` times; step ``s`` of particle ``i`` draws uniform ``s`` of stream
    ``i``, so any split of the steps into calls gives the same walk. Particles go in gangs of
    :data:`GANG`, each step for the whole gang in turn: one particle's steps depend on each other, the
    gang's do not, so their table lookups overlap."""
    npart = pos.shape[0]
    k = dest.shape[1]
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


@nb.njit(parallel=True, cache=True)
def walk_tracked(pos, disp, first_step, nsteps, key, dest, cum, jump):
    """:func:`walk`, adding to ``disp[a, i]`` each jump's displacement along axis ``a`` in cells (``jump[c, j, a]``,
    wraps unfolded): the unwrapped path of every particle, for its mean squared displacement."""
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
