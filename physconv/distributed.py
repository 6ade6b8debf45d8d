"""Grids larger than one machine: the explicit solver over a chunked ``dask.array``.

Each exchange gives every chunk a halo of ``k`` steps' reach from its
neighbours (``dask.array.map_overlap``), advances the padded chunk ``k``
steps with the same compiled loop as :func:`physconv.solvers.explicit.diffuse`,
and trims the halo. Information travels at most one kernel reach per step,
so after ``k`` steps the trimmed chunk is exactly what the whole array would
hold: the result equals the single-array solver (to the last bit, as every
cell sees the same neighbours in the same order; a kernel with dirichlet walls
sums its ghost cells' constant in another order, within n 2**-52 max(|u0|,
|value|) after n steps).

Walls: a periodic axis takes its halo from the other end (``boundary=
'periodic'``, also for a single chunk); on every other axis the chunks at the
ends get no halo there (``boundary='none'``): their outer faces are the real
walls, and the compiled loop applies the axis's own rule (reflecting = the
half-sample mirror, absorbing = zero ghost cells, dirichlet = the odd
extension about the face) exactly as on the whole grid. Inside the box the
halo's far edge needs some ghost rule too; what it is does not matter, as
its influence travels one reach per step and is trimmed with the halo.

Memory per worker: a few chunks (the chunk, its halo, the loop's second
buffer). With ``store``, every saved frame is written to a Zarr array chunk
by chunk as it is computed, so no process holds the whole grid.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import kernels as _k
from ._threads import threads_for
from .grid import Grid

MAX_HALO_STEPS = 32  # steps per exchange when not given: fewer exchanges, halos of at most 32 reaches
MAX_TASKS = 100_000  # a run's task graph: about 0.4 ms and 4-8 KiB per task (measured), so ~40 s and < 1 GiB
MAX_CHUNKS = 4096  # chunks of a run: more make a graph of more than MAX_TASKS tasks within a few exchanges
BYTES_PER_TASK = 8 * 2**10  # peak memory per task of the graph while it is computed (measured 4-7.7 KiB)


def task_count(shape, chunks, reach, keep, periodic=None) -> int:
    """Tasks of the graph :func:`diffuse` builds: the tasks of one exchange, counted on a small proxy
    array cut into as many chunks along each axis with the same walls (``periodic``: a flag per axis;
    dask's halos across a periodic wall take several more tasks), times the exchanges (each save
    interval in steps of at most the halo's depth), plus the frames. Above :data:`MAX_CHUNKS` chunks
    the proxy is not built and 4 tasks per chunk and exchange (the fewest measured) are counted."""
    import dask.array as da

    counts = [-(-n // min(c, n)) for n, c in zip(shape, chunks)]
    smallest = [min(min(c, n), n % min(c, n) or min(c, n)) for n, c in zip(shape, chunks)]
    depth = min([s // r for s, r in zip(smallest, reach) if r > 0] or [MAX_HALO_STEPS])
    halo = max(1, min(MAX_HALO_STEPS, depth))
    targets = np.asarray(keep, dtype=np.int64)
    exchanges = int(np.sum(-(-np.diff(np.concatenate([[0], targets])) // halo)))
    periodic = [False] * len(shape) if periodic is None else list(periodic)
    if math.prod(counts) > MAX_CHUNKS:
        per_exchange = 4 * math.prod(counts)
    else:
        proxy = da.zeros(tuple(2 * m for m in counts), chunks=2)
        overlap = proxy.map_overlap(lambda b: b, depth={a: int(r > 0) for a, r in enumerate(reach)}, trim=True,
                                    boundary={a: "periodic" if p else "none" for a, p in enumerate(periodic)},
                                    dtype=proxy.dtype, meta=np.empty((0,) * len(shape)))
        per_exchange = len(overlap.__dask_graph__()) - math.prod(counts)
    return per_exchange * exchanges + 2 * math.prod(counts) + len(targets)  # + the field's chunks, the frames


def chunks_that_fit(shape, chunks, reach, keep, periodic=None, limit: int = MAX_TASKS):
    """The smallest chunks, ``chunks`` scaled up by a common factor (capped at the grid), whose graph has
    at most ``limit`` tasks, or None if even one chunk per axis has more."""
    factor = 1.0
    while True:
        trial = [min(n, max(c, math.ceil(c * factor))) for n, c in zip(shape, chunks)]
        if math.prod(-(-n // c) for n, c in zip(shape, trial)) <= MAX_CHUNKS \
                and task_count(shape, trial, reach, keep, periodic) <= limit:
            return trial
        if trial == list(shape):
            return None
        factor *= 1.25


def diffuse(u0, grid: Grid, *, steps: int, chunks, diffusivity: float | None = None, dt: float | None = None,
            kernel=None, save_every: int | None = None, halo_steps: int | None = None, store=None,
            dtype="float64"):
    """Explicit diffusion (FTCS, or any probability kernel) of a chunked array.

    .. math:: u^{m+1} = u^m * k \\quad(\\text{walls of } \\texttt{grid}),
              \\qquad k = \\text{FTCS kernel of } D, \\Delta t \\text{ or } \\texttt{kernel}

    Parameters
    ----------
    u0 : ndarray or dask.array.Array, shape grid.shape
    grid : Grid
    steps : int
    chunks : int, tuple or dask chunks
        Chunk shape (sizes need not divide the grid).
    diffusivity, dt : float
        For FTCS (length² / time, time); or give ``kernel``.
    kernel : ndarray, optional
        A probability kernel (odd size along every axis).
    save_every : int, optional
        Keep every k-th step and the last (as for :func:`physconv.solvers.explicit.diffuse`).
    halo_steps : int, optional
        Steps per exchange; the halo is this many kernel reaches wide, at most the smallest chunk.
        Default: as many as the chunks and the save interval allow, up to :data:`MAX_HALO_STEPS`.
    dtype : {'float64', 'float32'}
        Storage between steps (FTCS only), as for :func:`physconv.solvers.explicit.diffuse`.
    store : str or Path, optional
        A Zarr store to write the frames to (array ``u``, shape ``(frames, *grid.shape)``, chunked
        like the field), computed as the frames are reached.

    Returns
    -------
    dask.array.Array
        Shape ``(frames, *grid.shape)`` with frames at steps ``0, k, 2k, ..., steps``
        (only ``steps`` without ``save_every``); lazy unless ``store`` was given (then it reads
        the store).

    Examples
    --------
    >>> g = Grid((40, 30), boundary="reflecting")
    >>> u = np.random.default_rng(0).random(g.shape)
    >>> out = diffuse(u, g, steps=20, chunks=(16, 11), diffusivity=0.2, dt=1.0).compute()
    >>> from physconv.solvers import explicit
    >>> bool((out[-1] == explicit.diffuse(u, g, diffusivity=0.2, dt=1.0, steps=20)).all())
    True
    """
    import dask.array as da

    from .solvers.explicit import check_stable, saved_steps

    if kernel is None:
        if diffusivity is None or dt is None:
            raise ValueError("give diffusivity and dt, or a probability kernel")
        check_stable(diffusivity, dt, grid.spacing)
        k = _k.ftcs(diffusivity, dt, grid.spacing)
        step = {"diffusivity": diffusivity, "dt": dt, "storage": str(np.dtype(dtype))}
    else:
        k = _k.probability(kernel, grid.ndim)
        step = {"kernel": k}
    reach = [(w - 1) // 2 for w in k.shape]
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}")
    x = u0 if isinstance(u0, da.Array) else da.from_array(grid.check_field(u0), chunks=chunks)
    x = x.astype(dtype if kernel is None else float).rechunk(chunks)
    if x.shape != grid.shape:
        raise ValueError(f"the field has shape {x.shape}, the grid {grid.shape}")
    smallest = [min(c) for c in x.chunks]
    most = min([s // r for s, r in zip(smallest, reach) if r > 0] or [MAX_HALO_STEPS])
    if most < 1:
        raise ValueError(f"chunks {tuple(smallest)} are smaller than the kernel's reach {tuple(reach)}")
    if halo_steps is None:
        halo_steps = min(MAX_HALO_STEPS, most)
    elif not 1 <= halo_steps <= most:
        raise ValueError(f"halo_steps must be from 1 to {most} (the smallest chunk over the kernel's reach)")
    keep = saved_steps(steps, save_every)
    frames, done = [], 0
    for target in keep:
        while done < target:
            n = int(min(halo_steps, target - done))
            x = _exchange(x, grid, step, reach, n)
            done += n
        frames.append(x)
    out = da.stack(frames)
    if store is None:
        return out
    return _write(out, Path(store))


def _exchange(x, grid: Grid, step: dict, reach, n):
    """``n`` steps of every chunk with a halo of ``n`` reaches from its neighbours."""
    from .boundary import Boundary

    depth = {a: n * r for a, r in enumerate(reach)}
    boundary = {a: "periodic" if b.kind == "periodic" else "none" for a, b in enumerate(grid.boundaries)}
    walls = tuple(Boundary("reflecting") if b.kind == "periodic" else b for b in grid.boundaries)  # module notes
    return x.map_overlap(_advance_chunk, depth=depth, boundary=boundary, trim=True, dtype=x.dtype,
                         meta=np.empty((0,) * x.ndim, dtype=x.dtype), n=n, spacing=grid.spacing, walls=walls,
                         **step)


def _advance_chunk(block, *, n, spacing, walls, diffusivity=None, dt=None, kernel=None, storage="float64"):
    """The single-array solver on one padded chunk (one thread: the chunks run side by side)."""
    from .solvers import explicit

    g = Grid(block.shape, spacing, walls)
    with threads_for(0):
        if kernel is None:
            return explicit.diffuse(block, g, diffusivity=diffusivity, dt=dt, steps=n, dtype=storage)
        return explicit.propagate(block, g, kernel=kernel, steps=n)


def _write(frames, path: Path):
    import dask.array as da
    import zarr

    root = zarr.open_group(str(path), mode="w")
    target = root.create_array("u", shape=frames.shape, chunks=tuple(c[0] for c in frames.chunks),
                               dtype=frames.dtype, fill_value=math.nan)
    da.store(frames, target, lock=False)
    return da.from_zarr(str(path), component="u")
