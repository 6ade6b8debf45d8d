"""Random walkers on the lattice: a kernel is the probability of each jump.

``N`` particles, each carrying ``mass / N``, start in the cells in
proportion to the initial concentration and jump every step by an offset ``d``
drawn with probability ``k[d]``. Walls act on each jump: periodic wraps,
reflecting bounces back, absorbing removes. Binned to cells, the expected
concentration is exactly the ``explicit`` solution (the same kernel applied to
the expected counts); the counts in a cell are binomial around it.

*Counts mode* moves integer counts instead of particles: each step the
``m`` particles of a cell are split among the kernel's destinations by a
multinomial draw (a chain of binomials). That is the same distribution as
``m`` independent particles, at a cost that does not depend on ``m``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import kernels as _k
from .._interrupt import check as check_interrupt
from .._threads import threads_for
from ..errors import BoundaryError, KernelError
from ..grid import Grid
from ..solvers.explicit import check_stable, saved_steps
from ._random import alias_table, key_of

WALL_CODES = {"periodic": 0, "reflecting": 1, "absorbing": 2}
MAX_PARTICLES = 2**53  # counts stay exact in float64 and in the binomial sampler


@dataclass(frozen=True)
class ParticleRun:
    """Binned particle counts at the saved steps of a Monte Carlo run.

    Attributes
    ----------
    steps : ndarray of int, shape (n_saved,)
    counts : ndarray of int64, shape (n_saved, *grid.shape)
        Live particles per cell.
    survivors : ndarray of int, shape (n_saved,), optional
        Particles not removed (Brownian runs; see :attr:`surviving`).
    particles : int
        Particles at the start, N.
    mass : float
        Total initial mass (concentration x volume); each particle carries ``mass / N``.
    cell_volume : float
    """

    steps: np.ndarray
    counts: np.ndarray
    particles: int
    mass: float
    cell_volume: float
    survivors: np.ndarray | None = None

    @property
    def mass_per_particle(self) -> float:
        return self.mass / self.particles

    @property
    def concentration(self) -> np.ndarray:
        """Counts turned into concentration: ``counts * (mass / N) / cell_volume``."""
        return self.counts * (self.mass_per_particle / self.cell_volume)

    @property
    def alive(self) -> np.ndarray:
        """Particles in the cells at each saved step."""
        return self.counts.reshape(len(self.steps), -1).sum(axis=1)

    @property
    def surviving(self) -> np.ndarray:
        """Particles not removed at each saved step; for Brownian particles with absorbing walls
        this includes those alive between a face and the wall half a cell beyond it."""
        return self.alive if self.survivors is None else self.survivors

    def expected_counts(self, concentration: np.ndarray) -> np.ndarray:
        """Concentration turned into expected particle counts (inverse of :attr:`concentration`)."""
        return np.asarray(concentration) * (self.cell_volume / self.mass_per_particle)


def walls(grid: Grid) -> np.ndarray:
    """Wall codes per axis; dirichlet walls have no particle rule and are refused."""
    bad = [str(b) for b in grid.boundaries if b.kind not in WALL_CODES]
    if bad:
        raise BoundaryError(
            f"Monte Carlo particles have no rule for {bad[0]} walls (a fixed value on the wall is not "
            "a particle process); use periodic, reflecting or absorbing"
        )
    return np.array([WALL_CODES[b.kind] for b in grid.boundaries], dtype=np.int64)


def place(u0, grid: Grid, particles: int, seed=0, placement: str = "stratified") -> np.ndarray:
    """Initial particle count per cell, proportional to the concentration.

    ``'stratified'`` (systematic sampling with one uniform offset) gives every
    cell ``floor`` or ``ceil`` of ``N p``, with expectation exactly ``N p``:
    the least placement noise possible. ``'random'`` draws a multinomial, so
    that the counts at every later step are exactly multinomial (calibrated
    chi-square tests).
    """
    u = grid.check_field(u0)
    if np.any(u < 0):
        raise ValueError(f"Monte Carlo needs a non-negative initial field (min {u.min():.4g})")
    if not isinstance(particles, numbers.Integral) or isinstance(particles, bool) or not 1 <= particles <= MAX_PARTICLES:
        raise ValueError(f"particles must be a whole number from 1 to 2**53, got {particles!r}")
    total = u.sum()
    if total <= 0:
        raise ValueError("Monte Carlo needs an initial field with positive mass")
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    p = (u / total).ravel()
    if placement == "random":
        return rng.multinomial(int(particles), p).reshape(grid.shape)
    if placement != "stratified":
        raise ValueError(f"placement must be 'stratified' or 'random', got {placement!r}")
    edges = np.floor(np.concatenate([[0.0], np.cumsum(p)]) * particles + rng.random()).astype(np.int64)
    edges[-1] = edges[0] + particles  # cumsum round-off must not change N
    return np.diff(edges).reshape(grid.shape)


def step_kernel(grid: Grid, kernel=None, diffusivity=None, dt=None) -> np.ndarray:
    """The probability kernel of one step: ``kernel``, or the FTCS kernel of ``D`` and ``dt``."""
    if kernel is not None:
        k = _k.probability(kernel, grid.ndim)
    elif diffusivity is None or dt is None:
        raise ValueError("give a probability kernel, or diffusivity and dt")
    else:
        check_stable(diffusivity, dt, grid.spacing)
        k = _k.ftcs(diffusivity, dt, grid.spacing)
    for a, (w, n, b) in enumerate(zip(k.shape, grid.shape, grid.boundaries)):
        if b.kind != "periodic" and (w - 1) // 2 > n:
            raise KernelError(f"kernel reaches {(w - 1) // 2} cells but axis {a} has only {n}")
    return np.clip(k, 0.0, None)


def _jumps(k: np.ndarray):
    """Offsets (K, ndim) and probabilities (K,) of the kernel's non-zero entries."""
    idx = np.argwhere(k > 0)
    return (idx - (np.array(k.shape) - 1) // 2).astype(np.int64), k[tuple(idx.T)]


def lattice(u0, grid: Grid, *, steps: int, particles: int, seed=0, kernel=None, diffusivity=None, dt=None,
            save_every: int | None = None, mode: str = "particles", placement: str = "stratified",
            callback: Callable[[int], None] | None = None) -> ParticleRun:
    """Random walk of ``particles`` walkers on the grid, binned at the saved steps.

    .. math:: \\mathbb{E}[c_n(x)] = \\sum_d k[d]\\, \\mathbb{E}[c_{n-1}(x - d)] \\quad(\\text{walls as in DESIGN §1})

    Parameters
    ----------
    u0 : ndarray, shape grid.shape, non-negative
    grid : Grid
        Periodic, reflecting or absorbing walls (dirichlet is refused).
    steps : int
    particles : int
        N; each carries ``grid.mass(u0) / N``. Counts mode takes up to 2**53.
    seed : int or sequence of int
        Same seed, same result, whatever the number of threads.
    kernel : ndarray, optional
        A probability kernel; else the FTCS kernel of ``diffusivity`` and ``dt``.
    save_every : int, optional
        Keep every k-th step (and the last); default only the last.
    mode : {'particles', 'counts'}
    placement : {'stratified', 'random'}
        See :func:`place`.

    Returns
    -------
    ParticleRun

    Examples
    --------
    >>> g = Grid((16,), boundary='reflecting')
    >>> run = lattice(np.eye(16)[3], g, steps=10, particles=1000, diffusivity=0.25, dt=1.0)
    >>> int(run.alive[-1])
    1000
    """
    kinds = walls(grid)
    k = step_kernel(grid, kernel, diffusivity, dt)
    offsets, probs = _jumps(k)
    counts0 = place(u0, grid, particles, seed, placement)
    keep = saved_steps(steps, save_every)
    key = key_of(seed)
    shape = np.array(grid.shape, dtype=np.int64)
    if mode == "particles":
        if particles > 2**31:
            raise ValueError("particles mode holds at most 2**31 particles in memory; use mode='counts'")
        advance, current = _particle_mover(counts0, grid, key, offsets, probs, shape, kinds)
        work = particles
    elif mode == "counts":
        advance, current = _count_mover(counts0, key, offsets, probs, shape, kinds)
        work = grid.size
    else:
        raise ValueError(f"mode must be 'particles' or 'counts', got {mode!r}")
    cost = work if mode == "particles" else 40 * work  # a cell's multinomial split costs ~40 particle moves
    with threads_for(work):
        frames = record(keep, grid.shape, advance, current, callback, cost)
    return ParticleRun(keep, frames, int(particles), grid.mass(u0), grid.cell_volume)


CHUNK_MOVES = 20_000_000  # particle (or cell) steps per compiled call: well under a second, so Ctrl-C is prompt


def record(keep, shape, advance, current, callback=None, work: int = 1) -> np.ndarray:
    """Advance to each saved step in turn (``advance(first, n)``) and keep the counts (``current()``).

    Steps go in chunks of at most CHUNK_MOVES / ``work`` (``work``: particles or cells moved per step),
    whatever the save interval; ``callback`` runs after each chunk.
    """
    frames = np.empty((len(keep),) + tuple(shape), dtype=np.int64)
    done = 0
    chunk = max(1, CHUNK_MOVES // max(int(work), 1))
    for i, target in enumerate(keep):
        while target > done:
            n = int(min(chunk, target - done))
            advance(done, n)
            done += n
            check_interrupt()  # one swallowed while compiling is honoured here
            if callback is not None:
                callback(done)
        frames[i] = current().reshape(shape)
    return frames


def _particle_mover(counts0, grid, key, offsets, probs, shape, kinds):
    from . import _loops

    cells = np.repeat(np.arange(grid.size, dtype=np.int64), counts0.ravel())
    pos = np.ascontiguousarray(np.stack(np.unravel_index(cells, grid.shape)).astype(np.int32))
    prob, alias = alias_table(probs)

    def advance(first, n):
        _loops.lattice_walk(pos, first, n, key, offsets, prob, alias, shape, kinds)

    def current():
        out = np.zeros(grid.size, dtype=np.int64)
        _loops.bin_cells(pos, shape, out)
        return out

    return advance, current


def _count_mover(counts0, key, offsets, probs, shape, kinds):
    from . import _loops

    state = {"counts": counts0.ravel().astype(np.int64)}
    order = np.argsort(-probs, kind="stable")  # large probabilities first: shorter binomial chains
    offsets, probs = offsets[order], probs[order]
    tails = np.cumsum(probs[::-1])[::-1].copy()
    split = np.empty((len(state["counts"]), len(probs)), dtype=np.int64)

    def advance(first, n):
        c = state["counts"]
        for s in range(first, first + n):
            _loops.counts_split(c, split, key, s, probs, tails)
            c = np.zeros_like(c)
            _loops.counts_scatter(split, shape, offsets, kinds, c)
        state["counts"] = c

    return advance, lambda: state["counts"]
