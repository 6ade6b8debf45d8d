"""Lattice walkers in a medium: a particle in cell j jumps to cell i with probability P[i, j] and is
removed with the rest of the column (absorbing walls and obstacles), so that the expected counts follow
``explicit`` exactly (DESIGN §11). Counts mode splits each cell's count among its destinations by a
chain of binomials: the same distribution as that many independent particles."""

from __future__ import annotations

import numpy as np

from .model import Medium, MediumError
from .operator import operator
from .stepping import check_dt


def transitions(m: Medium, dt: float):
    """``(dest, prob)``, each ``(cells, k)``: per cell its destinations (flat indices; -1 for removal and
    for unused slots) and their probabilities, the columns of ``P = I + dt L`` and the loss ``1 - sum``."""
    import scipy.sparse as sp

    check_dt(m, dt)
    L, b = operator(m)
    if b.any():
        raise MediumError("walkers have no rule for a fixed value on a wall (dirichlet)")
    P = (sp.identity(L.shape[0], format="csc") + dt * L.tocsc()).tocsc()
    P.sort_indices()
    n = P.shape[0]
    per = np.diff(P.indptr)
    k = int(per.max()) + 1
    dest = np.full((n, k), -1, dtype=np.int64)
    prob = np.zeros((n, k))
    slot = np.arange(P.nnz) - np.repeat(P.indptr[:-1], per)
    col = np.repeat(np.arange(n), per)
    dest[col, slot] = P.indices
    prob[col, slot] = np.maximum(P.data, 0.0)
    loss = np.maximum(1.0 - prob.sum(axis=1), 0.0)
    loss[loss < 1e-15] = 0.0
    prob[np.arange(n), per] = loss  # the removal slot, after the column's destinations
    return dest, prob


def lattice(m: Medium, u0, dt: float, *, steps: int, particles: int, seed=0, keep=None, mode: str = "particles",
            placement: str = "stratified", callback=None, out=None):
    """Walkers with P's probabilities; returns a :class:`~physconv.montecarlo.lattice.ParticleRun`."""
    from .._threads import threads_for
    from ..montecarlo import _medium_loops
    from ..montecarlo._random import key_of
    from ..montecarlo.lattice import ParticleRun, place, record
    from ..solvers.explicit import saved_steps

    g = m.grid
    dest, prob = transitions(m, dt)
    rows = np.arange(g.size)
    last = prob.shape[1] - 1 - np.argmax(prob[:, ::-1] > 0, axis=1)  # each cell's last outcome takes the rest
    counts0 = place(u0, g, particles, seed, placement)
    keep = saved_steps(steps, None) if keep is None else np.asarray(keep)
    key = key_of(seed)
    if mode == "particles":
        if particles > 2**31:
            raise ValueError("particles mode holds at most 2**31 particles in memory; use mode='counts'")
        pos = np.repeat(np.arange(g.size, dtype=np.int64), counts0.ravel())
        cum = np.cumsum(prob, axis=1)
        cum[np.arange(cum.shape[1]) >= last[:, None]] = np.inf  # round-off never walks into an unused slot

        untracked, no_jumps = np.zeros((0, pos.size), dtype=np.int64), np.zeros((1, 1, 0), dtype=np.int8)

        def advance(first, n):
            _medium_loops.walk(pos, untracked, first, n, key, dest, cum, no_jumps)

        def current():
            live = pos[pos >= 0]
            return np.bincount(live, minlength=g.size).astype(np.int64)

        work = particles
    elif mode == "counts":
        counts = counts0.ravel().astype(np.int64)
        tails = np.cumsum(prob[:, ::-1], axis=1)[:, ::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(tails > 0, np.minimum(1.0, prob / tails), 0.0)
        share[rows, last] = 1.0  # not 1 - 1e-16: what is left always goes somewhere
        partial = np.empty((min(4, max(1, g.size // 4096)), g.size), dtype=np.int64)

        def advance(first, n):
            for s in range(first, first + n):
                _medium_loops.counts_step(counts, key, s, dest, share, partial)

        def current():
            return counts.copy()

        work = g.size
    else:
        raise ValueError(f"mode must be 'particles' or 'counts', got {mode!r}")
    with threads_for(work):
        frames = record(keep, g.shape, advance, current, callback, work if mode == "particles" else 40 * work,
                        None, out)
    return ParticleRun(keep, frames, int(particles), g.mass(u0), g.cell_volume)
