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

*Frame jumps* (``jumps='auto'``, particles mode): between two saved steps
only the position at the end is seen, and the displacement over ``n`` steps
of a free walker is drawn from the ``n``-th convolution power of the kernel.
Where every wall is periodic, or reflecting with a kernel symmetric along
that axis, the walled walk is exactly the free walk wrapped or mirrored into
the box (the method of images), so one draw per particle and frame gives the
same process at the saved steps as ``n`` single steps — at the cost of one
step. Absorbing walls depend on the path and always walk step by step.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import kernels as _k
from .._interrupt import check as check_interrupt
from .._pace import Pace
from .._threads import ThreadChoice
from .._threads import threads_for
from ..errors import BoundaryError, KernelError
from ..grid import Grid
from ..solvers.explicit import check_stable, saved_steps
from ._random import alias_table, alias_thresholds, key_of, seed_sequence

WALL_CODES = {"periodic": 0, "reflecting": 1, "absorbing": 2}
MAX_PARTICLES = 2**53  # counts stay exact in float64 and in the binomial sampler
MAX_JUMP_TABLE = 2**20  # cells in the support of one frame-jump kernel (16 MiB of alias table)
JUMPS = ("auto", "steps")


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
    rng = np.random.default_rng(seed_sequence(seed).spawn(1)[0])
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
            jumps: str = "auto", callback: Callable[[int], None] | None = None, out=None) -> ParticleRun:
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
    seed : int, sequence of int or numpy.random.SeedSequence
        Same seed, same result, whatever the number of threads (a child of
        ``SeedSequence(s).spawn(R)`` gives independent replicas).
    kernel : ndarray, optional
        A probability kernel; else the FTCS kernel of ``diffusivity`` and ``dt``.
    save_every : int, optional
        Keep every k-th step (and the last); default only the last.
    mode : {'particles', 'counts'}
    placement : {'stratified', 'random'}
        See :func:`place`.
    jumps : {'auto', 'steps'}
        ``'auto'``: particles jump from frame to frame where that is exact
        (:func:`frame_jumps_exact`), else they step; ``'steps'``: always step.
        Both give the same process at the saved steps (not the same draws).
    out : array-like, optional
        Where the counts of each saved step go as it is reached (``out[i] = counts``), instead of
        a new array; it is the run's ``counts``.

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
    if jumps not in JUMPS:
        raise ValueError(f"jumps must be one of {JUMPS}, got {jumps!r}")
    stride = None
    if mode == "particles":
        if particles > 2**31:
            raise ValueError("particles mode holds at most 2**31 particles in memory; use mode='counts'")
        if jumps == "auto" and frame_jumps_exact(grid, k):
            advance, current, stride = _jumping_mover(counts0, grid, key, k, shape, kinds)
        else:
            advance, current = _particle_mover(counts0, grid, key, offsets, probs, shape, kinds)
        work = particles
    elif mode == "counts":
        advance, current = _count_mover(counts0, key, offsets, probs, shape, kinds)
        work = grid.size
    else:
        raise ValueError(f"mode must be 'particles' or 'counts', got {mode!r}")
    cost = work if mode == "particles" else 40 * work  # a cell's multinomial split costs ~40 particle moves
    with threads_for(work):
        frames = record(keep, grid.shape, advance, current, callback, cost, stride, out)
    return ParticleRun(keep, frames, int(particles), grid.mass(u0), grid.cell_volume)


def record(keep, shape, advance, current, callback=None, work: int = 1, stride: int | None = None, out=None):
    """Advance to each saved step in turn (``advance(first, n)``) and keep the counts (``current()``).

    Steps go in chunks sized by measured time (:class:`physconv._pace.Pace`, about 0.1 s each; ``work``:
    particles or cells moved per step, which sizes the first), or of exactly ``stride`` steps when one call
    costs the same however many steps it spans (frame jumps: their draws depend on the span, which must
    not depend on timing); ``callback`` runs after each chunk. The counts go to ``out[i]``
    when given (see :func:`physconv.solvers.explicit.diffuse`), else to a new array.
    """
    frames = np.empty((len(keep),) + tuple(shape), dtype=np.int64) if out is None else out
    done = 0
    pace, threads = Pace(work), ThreadChoice(work)
    for i, target in enumerate(keep):
        while target > done:
            n = min(stride, target - done) if stride else pace.next(target - done)  # a jump's draw is its span's
            with threads.chunk(n):
                advance(done, n)
            if not stride:
                pace.done(n)
            done += n
            check_interrupt()  # one swallowed while compiling is honoured here
            if callback is not None:
                callback(done)
        frames[i] = current().reshape(shape)
    return frames


def _particle_mover(counts0, grid, key, offsets, probs, shape, kinds):
    from . import _loops

    pos = _positions(counts0, grid)
    prob, alias = alias_table(probs)
    threshold = alias_thresholds(prob)

    def advance(first, n):
        _loops.lattice_walk(pos, first, n, key, offsets, threshold, alias, shape, kinds)

    return advance, _binner(pos, grid, shape)


def _positions(counts0, grid):
    """Cell coordinates ``(ndim, N)`` (int32) of the particles placed as ``counts0``, in cell order."""
    cells = np.repeat(np.arange(grid.size, dtype=np.int32), counts0.ravel())
    pos = np.empty((grid.ndim, len(cells)), dtype=np.int32)
    for a in range(grid.ndim):
        np.remainder(cells // int(np.prod(grid.shape[a + 1:])), grid.shape[a], out=pos[a])
    return pos


def _binner(pos, grid, shape):
    from . import _loops

    def current():
        out = np.zeros(grid.size, dtype=np.int64)
        _loops.bin_cells(pos, shape, out)
        return out

    return current


def frame_jumps_exact(grid: Grid, k: np.ndarray) -> bool:
    """Whether the walled walk is the free walk folded into the box: every axis periodic, or
    reflecting with ``k`` symmetric along it (then the walk and its mirror image move alike)."""
    return all(b.kind == "periodic" or (b.kind == "reflecting" and np.array_equal(k, np.flip(k, a)))
               for a, b in enumerate(grid.boundaries))


def jump_kernel(k: np.ndarray, steps: int) -> np.ndarray:
    """The ``steps``-th convolution power of the probability kernel ``k`` on its whole support
    (``steps * (w - 1) + 1`` cells per axis), negative round-off clipped and the sum made 1."""
    from ..spectral import propagate

    shape = tuple(steps * (w - 1) + 1 for w in k.shape)
    delta = np.zeros(shape)
    delta[tuple(n // 2 for n in shape)] = 1.0
    power = np.clip(propagate(delta, "periodic", kernel=k, steps=int(steps)), 0.0, None)
    return power / power.sum()


def _longest_jump(k: np.ndarray) -> int:
    """Most steps per jump whose kernel support stays within :data:`MAX_JUMP_TABLE` cells."""
    steps = 1
    while steps < 2**40 and np.prod([(2 * steps) * (w - 1) + 1 for w in k.shape]) <= MAX_JUMP_TABLE:
        steps *= 2
    return steps


def _jumping_mover(counts0, grid, key, k, shape, kinds):
    from . import _loops

    pos = _positions(counts0, grid)
    tables = {}

    def advance(first, n):
        if n not in tables:
            offsets, probs = _jumps(jump_kernel(k, n))
            tables[n] = (offsets.astype(np.int32), *alias_table(probs))
        _loops.lattice_jump(pos, first, key, *tables[n], shape, kinds)

    return advance, _binner(pos, grid, shape), _longest_jump(k)


SMALL_COUNTS = 64  # counts mode: a cell's count up to this is split with tables of the binomials ...
TABLE_BYTES = 2**19  # ... as long as the tables of all the kernel's binomials fit in this
COUNT_CHUNKS = 4  # counts mode: at most this many chunks of cells, each adding into its own copy of the grid


def count_chain(offsets, probs):
    """The destinations in the order counts mode splits a count among them (large probabilities first: shorter
    binomial chains) and ``q[j]``, destination ``j``'s share of what the earlier ones left."""
    order = np.argsort(-probs, kind="stable")
    offsets, probs = np.ascontiguousarray(offsets[order]), probs[order]
    tails = np.cumsum(probs[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return offsets, np.where(tails > 0, np.minimum(1.0, probs / tails), 0.0)


def _count_mover(counts0, key, offsets, probs, shape, kinds):
    from . import _loops
    from ._random import binomial_tables

    counts = counts0.ravel().astype(np.int64)
    offsets, q = count_chain(offsets, probs)
    largest = min(SMALL_COUNTS, int(np.sqrt(TABLE_BYTES / 16 / max(1, len(q) - 1))) - 1)
    prob, alias = binomial_tables(q[:-1], largest)
    partial = np.empty((min(COUNT_CHUNKS, max(1, counts.size // 4096)), counts.size), dtype=np.int64)

    def advance(first, n):
        for s in range(first, first + n):
            _loops.counts_step(counts, key, s, q, prob, alias, shape, offsets, kinds, partial)

    return advance, lambda: counts
