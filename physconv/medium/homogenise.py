"""The large-scale diffusivity of a medium: walkers' mean squared displacement grows as ``2 D_eff t`` per
axis at long times (homogenisation, the central limit theorem of the medium; DESIGN §11)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .model import Medium, MediumError


class Homogenised(NamedTuple):
    """``D_eff`` per axis with its standard error, from walkers' displacements between ``t1`` and ``t2``;
    the mean squared displacement per axis at each ``times`` (``msd``, shape (ndim, len(times)))."""

    diffusivity: np.ndarray
    stderr: np.ndarray
    times: np.ndarray
    msd: np.ndarray
    t1: float
    t2: float
    walkers: int


def effective_diffusivity(m: Medium, dt: float, steps: int, walkers: int = 100_000, seed=0, frames: int = 20):
    """``D_eff`` of the medium from ``walkers`` lattice walkers started uniformly over the fluid cells
    (the medium's own stationary distribution), moving with P's probabilities for ``steps`` steps.

    Each walker's unwrapped displacement is tracked; per axis, :math:`D_{eff} = \\overline{(x(t_2)^2 -
    x(t_1)^2)} / (2 (t_2 - t_1))` over the second half of the run (``t1 = t2 / 2``: past the short-time
    regime, where the walkers still feel only their own cell's D), with the standard error of that mean
    over the independent walkers. Walls must keep the walkers (periodic or reflecting); walkers are
    started away from reflecting walls only in the sense that the estimate assumes few reach them.
    """
    from .._threads import threads_for
    from ..montecarlo import _medium_loops
    from ..montecarlo._random import key_of, seed_sequence
    from .walkers import transitions

    if any(b.kind not in ("periodic", "reflecting") for b in m.grid.boundaries) or m.wall != "reflecting":
        raise MediumError("D_eff needs walls and obstacles that keep the walkers (periodic or reflecting)")
    if steps < 2 or walkers < 2:
        raise MediumError("D_eff needs at least 2 steps and 2 walkers")
    g = m.grid
    dest, prob = transitions(m, dt)
    cum = np.cumsum(prob, axis=1)
    last = prob.shape[1] - 1 - np.argmax(prob[:, ::-1] > 0, axis=1)
    cum[np.arange(cum.shape[1]) >= last[:, None]] = np.inf
    coords = np.array(np.unravel_index(np.arange(g.size), g.shape))  # (ndim, cells)
    jump = np.zeros(dest.shape + (g.ndim,), dtype=np.int8)  # -1, 0 or 1 cell: a small table stays in cache
    for a, n in enumerate(g.shape):
        d = np.where(dest >= 0, coords[a][np.maximum(dest, 0)] - coords[a][:, None], 0)
        if g.boundaries[a].kind == "periodic":
            d = (d + n // 2) % n - n // 2 if n > 2 else d
        jump[:, :, a] = d
    dest32 = dest.astype(np.int32)
    fluid = np.flatnonzero(~m.solid.ravel())
    rng = np.random.default_rng(seed_sequence(seed).spawn(1)[0])
    pos = fluid[rng.integers(0, fluid.size, walkers)].astype(np.int32)
    disp = np.zeros((g.ndim, walkers), dtype=np.int64)
    key = key_of(seed)
    marks = np.unique(np.linspace(0, steps, frames + 1).round().astype(int))
    half = int(marks[np.argmin(np.abs(marks - steps / 2))])
    h = np.array(g.spacing)[:, None]
    msd, at_half = [], None
    done = 0
    with threads_for(walkers):
        for target in marks:
            if target > done:
                _medium_loops.walk(pos, disp, done, target - done, key, dest32, cum, jump)
                done = target
            x = disp * h
            msd.append((x**2).mean(axis=1))
            if target == half:
                at_half = x**2
    increments = (disp * h) ** 2 - at_half
    span = (steps - half) * dt
    D = increments.mean(axis=1) / (2 * span)
    se = increments.std(axis=1, ddof=1) / np.sqrt(walkers) / (2 * span)
    return Homogenised(D, se, marks * dt, np.array(msd).T, half * dt, steps * dt, walkers)


def exact_msd(m: Medium, dt: float, marks) -> np.ndarray:
    """The walkers' mean squared displacement per axis at the steps ``marks`` (increasing), exactly: from
    the uniform start over the fluid cells, the first and second moments of the displacement travel with
    P, ``m1' = P m1 + (P∘d) m0`` and ``m2' = P m2 + 2 (P∘d) m1 + (P∘d²) m0`` (d the jump of each entry of P
    along the axis, wraps unfolded). Returns (ndim, len(marks)) in length²."""
    import scipy.sparse as sp

    from .operator import operator

    g = m.grid
    L, _ = operator(m)
    P = (sp.identity(g.size, format="csr") + dt * L).tocoo()
    coords = np.array(np.unravel_index(np.arange(g.size), g.shape))
    m0 = np.where(m.solid.ravel(), 0.0, 1.0)
    m0 /= m0.sum()
    out = np.zeros((g.ndim, len(marks)))
    Pc = P.tocsr()
    nd = g.ndim
    jumps = []
    for a, n in enumerate(g.shape):
        d = (coords[a][P.row] - coords[a][P.col]).astype(float)
        if g.boundaries[a].kind == "periodic" and n > 2:
            d = (d + n // 2) % n - n // 2
        jumps.append((sp.csr_matrix((P.data * d, (P.row, P.col)), shape=P.shape),
                      sp.csr_matrix((P.data * d * d, (P.row, P.col)), shape=P.shape)))
    state = np.zeros((g.size, 1 + 2 * nd))  # columns: m0, then m1 and m2 of each axis
    state[:, 0] = m0
    h2 = np.array(g.spacing) ** 2
    done = 0
    for k, target in enumerate(marks):
        while done < target:
            new = Pc @ state  # one sparse product for every column
            for a, (Pd, Pd2) in enumerate(jumps):
                pd = Pd @ state[:, [0, 1 + a]]
                new[:, 1 + a] += pd[:, 0]
                new[:, 1 + nd + a] += 2 * pd[:, 1] + Pd2 @ state[:, 0]
            state = new
            done += 1
        out[:, k] = state[:, 1 + nd:].sum(axis=0) * h2
    return out
