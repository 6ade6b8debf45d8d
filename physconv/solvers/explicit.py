"""Explicit time stepping: FTCS diffusion and repeated propagation by a kernel.

Each step is computed by a multithreaded Numba loop that ping-pongs between
two buffers; Python only runs between saved frames.
"""

from __future__ import annotations

import numbers
from typing import Callable, NamedTuple

import numpy as np

from .. import kernels as _k
from .._interrupt import check as check_interrupt
from .._pace import Pace
from .._threads import ThreadChoice
from ..boundary import image_index, wall_value
from ..errors import KernelError, StabilityError
from ..grid import Grid, all_finite, as_boundaries
from . import workspace


class Trajectory(NamedTuple):
    """Saved frames of a run.

    Attributes
    ----------
    steps : ndarray of int, shape (n_saved,)
        Step number of each frame (0, k, 2k, ..., and the last step).
    frames : ndarray, shape (n_saved, *grid.shape)
    """

    steps: np.ndarray
    frames: np.ndarray


def frame_count(steps: int, save_every: int | None) -> int:
    """How many frames :func:`saved_steps` keeps, counted without building them."""
    _check_count(steps, "steps", minimum=0)
    if save_every is None:
        return 1
    _check_count(save_every, "save_every", minimum=1)
    return steps // save_every + 1 + (steps % save_every != 0)


def saved_steps(steps: int, save_every: int | None) -> np.ndarray:
    """Steps at which frames are kept: ``0, k, 2k, ...`` and always the last one."""
    frame_count(steps, save_every)  # checks the arguments
    if save_every is None:
        return np.array([steps], dtype=np.int64)
    s = np.arange(0, steps + 1, save_every, dtype=np.int64)
    return s if s[-1] == steps else np.append(s, np.int64(steps))


def max_stable_dt(diffusivity: float, spacing) -> float:
    """Largest stable FTCS step, :math:`\\Delta t = 1 / (2 D \\sum_a \\Delta x_a^{-2})`."""
    d = np.atleast_1d(np.asarray(spacing, dtype=float))
    return float("inf") if diffusivity == 0 else 1.0 / (2.0 * diffusivity * np.sum(1.0 / d**2))


def check_stable(diffusivity: float, dt: float, spacing) -> tuple[float, ...]:
    """Mesh ratios ``r_a``; raise :class:`StabilityError` unless ``sum(r_a) <= 1/2``."""
    r = _k.ftcs_numbers(diffusivity, dt, spacing)
    if sum(r) > 0.5 * (1 + 1e-12):
        raise StabilityError(
            f"dt = {dt:g} is unstable for the explicit scheme (sum of D dt/dx^2 = {sum(r):.4g} > 1/2); "
            f"the largest stable dt is {max_stable_dt(diffusivity, spacing):.6g}"
        )
    return r


DTYPES = ("float64", "float32")


def diffuse(u0, grid: Grid, *, diffusivity: float, dt: float, steps: int,
            save_every: int | None = None, callback: Callable[[int], None] | None = None,
            dtype="float64", out=None):
    """Forward-time centred-space diffusion.

    .. math:: u^{m+1}_i = u^m_i + \\sum_a r_a\\,(u^m_{i-e_a} - 2u^m_i + u^m_{i+e_a}),
              \\qquad r_a = D\\,\\Delta t/\\Delta x_a^2

    with ghost cells from the grid's boundaries (periodic ``u[-1] = u[n-1]``,
    reflecting ``u[-1] = u[0]``, absorbing ``u[-1] = 0``, dirichlet
    ``u[-1] = 2c - u[0]``). Stable, and a probability kernel, when
    :math:`\\sum_a r_a \\le 1/2`.

    Parameters
    ----------
    u0 : ndarray, shape grid.shape
        Initial concentration (left unmodified).
    grid : Grid
    diffusivity : float
        D in length^2 / time.
    dt : float
        Time step; larger than :func:`max_stable_dt` raises :class:`StabilityError`.
    steps : int
    save_every : int, optional
        Keep every k-th step (and the last); returns a :class:`Trajectory`.
    callback : callable, optional
        Called with the current step number after each chunk of steps.
    dtype : {'float64', 'float32'}
        How the field is stored between steps. With float32 each step is computed in float64 and
        rounded to float32 (relative 2**-24): half the memory traffic. As the step is a contraction
        in the max norm, the difference from float64 stays below ``steps * 2**-24 * max|u|``
        (:func:`float32_bound`); the frames are returned in this dtype.
    out : array-like, optional
        Where the frames go, ``out[i] = frame`` as each is reached (e.g. a variable of an open
        result file, so that a long run does not hold its frames in memory); shape
        ``(n_saved, *shape)``. It is returned in place of a new array.

    Returns
    -------
    ndarray (the field after ``steps``) or Trajectory

    Examples
    --------
    >>> g = Grid((5,), boundary='periodic')
    >>> diffuse([0, 0, 1.0, 0, 0], g, diffusivity=0.25, dt=1.0, steps=1).tolist()
    [0.0, 0.25, 0.5, 0.25, 0.0]
    """
    if str(np.dtype(dtype)) not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    u = grid.check_field(u0).astype(dtype, copy=False)  # _drive reads it in place and never writes it
    r = check_stable(diffusivity, dt, grid.spacing)
    from . import _loops

    blocking = temporal_blocking(grid.shape, u.itemsize)
    if blocking is not None and grid.ndim == 1:
        k, band = blocking
        _, tables = _ftcs_tables(grid.shape, grid.boundaries, r)
        scratch = workspace.take((-(-grid.shape[0] // band), 2, band + 2 * k), u.dtype)
        periodic = grid.boundaries[0].kind == "periodic"
        advance = _fused(k, (grid.shape[0],), lambda src, dst, kk: _loops.ftcs_blocked_1d(
            src, dst, kk, band, scratch, r[0], *tables[4:], periodic))
    elif blocking is None:
        scratch = None
        r3, tables = _ftcs_tables(grid.shape, grid.boundaries, r)

        def advance(a, b, n):
            return _loops.ftcs_steps(a, b, n, r3, *tables)
    else:
        # banded along the first axis: a 2-D field is viewed as (ny, 1, nx), so its planes are rows
        k, band = blocking
        shape, r3, tables, periodic = banded(grid, r)
        rows = (shape[0] * shape[1], shape[2])
        scratch = workspace.take((-(-shape[0] // band) * k * 3 * shape[1], shape[2]), u.dtype)  # the ring
        advance = _fused(k, rows, lambda src, dst, kk: _loops.ftcs_blocked(
            src, dst, shape[1], kk, band, scratch, r3, *tables, periodic))

    return _drive(advance, u, steps, save_every, callback, 0 if blocking is None else blocking[0], out, scratch)


def _fused(k: int, view, call):
    """``advance(a, b, n)`` for :func:`_drive` from a fused loop ``call(src, dst, kk)`` that moves
    ``kk <= k`` steps from ``src`` into ``dst`` (both ``a``/``b`` reshaped to ``view``); returns the
    index of the buffer holding the result."""
    def advance(a, b, n):
        src, dst, done = a.reshape(view), b.reshape(view), 0
        while done < n:
            kk = min(k, n - done)
            call(src, dst, kk)
            src, dst, done = dst, src, done + kk
        return 0 if -(-n // k) % 2 == 0 else 1

    return advance


def banded(grid: Grid, r):
    """How the fused loop (``_loops.ftcs_blocked``) sees a 2-D or 3-D grid: banded along its first axis.

    Returns the 3-D shape (a 2-D grid as ``(ny, 1, nx)``, so its planes are rows), the mesh ratios and
    neighbour tables in that order, and whether the first axis is periodic.
    """
    if grid.ndim == 2:
        shape, bcs, r = (grid.shape[0], 1, grid.shape[1]), (grid.boundaries[0], None, grid.boundaries[1]), \
            (r[0], 0.0, r[1])
    else:
        shape, bcs = grid.shape, grid.boundaries
    return (shape, *_ftcs_tables(shape, bcs, r), grid.boundaries[0].kind == "periodic")


def _ftcs_tables(shape, boundaries, r):
    """Mesh ratios and neighbour tables of the three loop axes (``shape``/``boundaries`` up to 3-D;
    None marks an axis of length 1 with no neighbours)."""
    r3 = np.zeros(3)
    r3[3 - len(r):] = r
    tables = []
    for n, b in zip(_pad3(shape), _pad3(boundaries, None)):
        tables += list(_neighbour_table(n, b))
    return r3, tables


def float32_bound(u0, steps: int, wall: float = 0.0) -> float:
    """Largest difference between float32 and float64 storage after ``steps`` FTCS steps.

    .. math:: |u_{32} - u_{64}| \\le (n + 1)\\, 2^{-24} \\,(\\max|u_0 - c| + |c|)

    A stable step is ``u -> A u + b`` with :math:`\\|A\\|_\\infty \\le 1` (even where a dirichlet
    wall makes a centre weight negative), and with periodic, reflecting or dirichlet walls of value
    ``c`` (``wall``; 0 without dirichlet walls, which absorbing walls need) the constant ``c`` is a
    steady state, so every step keeps ``|u - c| <= max|u0 - c|``. Each stored value (the initial
    field and every step) rounds by at most relative 2**-24, and the later steps never enlarge a
    difference, so the roundings add up at most linearly. Not for absorbing walls mixed with
    dirichlet walls of non-zero value.
    """
    u = np.asarray(u0, dtype=float)
    return float(steps + 1) * 2.0**-24 * (float(np.max(np.abs(u - wall))) + abs(wall))


BLOCK_1D_STEPS, BLOCK_1D_CELLS = 64, 4096  # halo work 2 * 64 / 4096 = 3 %
KERNEL_STEPS_FUSED = 8


def temporal_blocking(shape, itemsize: int = 8) -> tuple[int, int] | None:
    """``(k, band)``: fuse k FTCS steps per sweep over the grid, in bands of ``band`` planes along
    its first axis (cells in 1-D), or None (small enough to run on one thread, step by step).

    Fused steps read and write the grid once per k steps instead of once per step, and open one
    parallel region per k steps. In 2-D and 3-D one band per thread, at least 2k planes thick, each
    keeping 3 planes (rows in 2-D) per level: k = 16 for 2-D grids from 1024 rows up, else 8; in 3-D
    the largest k <= 8 whose planes fit a thread's share of 16 MiB of cache. In 1-D, bands of
    4096 cells stepped 64 times in a window that stays in the first-level cache. Measured on 2 cores
    (``python -m benchmarks``): 2048² from 1.3-1.5 to 3.5-4.3 G cell-steps/s (the single-step memory
    roofline is 2.3), 256² from ~3 to 3-4; 256³ from 1.2-1.4 to 2.2-2.6; 10⁶ cells in 1-D from 2.1
    (one thread: one row) to 6.5. The results are bit-identical to the one-step loop.
    """
    import math

    from .._threads import SERIAL_BELOW

    if math.prod(shape) < SERIAL_BELOW:
        return None
    if len(shape) == 1:  # many short bands, each stepped k times in a window that stays in L1
        return (BLOCK_1D_STEPS, BLOCK_1D_CELLS)
    import numba

    threads = numba.get_num_threads()
    if len(shape) == 2:
        k = 16 if shape[0] >= 1024 else 8
    else:
        plane = math.prod(shape[1:]) * itemsize
        k = min(8, (2**24 // threads) // (3 * plane))
        if k < 2:
            return None
    band = math.ceil(shape[0] / threads)
    return (k, band) if band >= 2 * k else None


def propagate(u0, grid="periodic", *, kernel, steps: int, boundary_value=None,
              save_every: int | None = None, callback: Callable[[int], None] | None = None, out=None):
    """Repeated propagation of ``u0`` by ``kernel``: each step moves the mass at
    ``x`` to ``x + d`` with weight ``k[d]``.

    .. math:: u^{m+1}[x] = \\sum_d k[d]\\, u^m[x - d]

    Walls act as for particles: periodic wraps, reflecting bounces the
    jump back off the wall (for an asymmetric kernel this differs from
    mirror padding), absorbing removes it; dirichlet walls use the odd
    extension about the face, shifted by the wall value. Kernels reach at
    most ``n`` cells across non-periodic axes. On 2-D grids large enough for
    two threads, kernels of three rows advance :data:`KERNEL_STEPS_FUSED`
    steps per sweep over the grid (:func:`kernel_blocking`), with the same
    numbers as one step per sweep.

    Parameters
    ----------
    u0 : ndarray, 1-D, 2-D or 3-D
    grid : Grid, or a boundary spec (a name, one per axis, a mapping of axis names, Boundary objects)
        The walls, in the same place as :func:`diffuse`'s grid (default: periodic).
    kernel : ndarray, odd-sized, same number of axes (a probability kernel
        conserves mass; any finite kernel is accepted)
    boundary_value : float, optional
    steps, save_every, callback, out : see :func:`diffuse`
    """
    u = np.asarray(u0, dtype=np.float64)
    if not all_finite(u):
        raise ValueError("u0 contains NaN or infinite values")
    k = _k.check(kernel, u.ndim)
    bcs = as_boundaries(grid, u.ndim, boundary_value)
    from . import _loops
    from ..convolve import fft_convolve

    tables = []
    for n, w, b in zip(_pad3(u.shape), _pad3(k.shape), _pad3(bcs, None)):
        tables += list(_image_table(n, w, b))
    add = fft_convolve(np.zeros(u.shape), k, bcs) if wall_value(bcs) != 0 else np.zeros(u.shape)
    k3 = np.ascontiguousarray(k.reshape(_pad3(k.shape)))
    add3 = np.ascontiguousarray(add.reshape(_pad3(u.shape)))

    blocking = kernel_blocking(u.shape, k.shape)
    ring = None
    if blocking is None:
        def advance(a, b, n):
            return _loops.kernel_steps(a, b, n, k3, *tables, add3)
    else:
        kk, band = blocking
        ring = workspace.take((-(-u.shape[0] // band) * kk * k.shape[0], u.shape[1]))  # k.shape[0] rows per level
        wrap = bcs[0].kind == "periodic"
        advance = _fused(kk, u.shape, lambda src, dst, n: _loops.kernel_blocked(
            src, dst, n, band, ring, k, *tables[2:], add, wrap))

    return _drive(advance, u, steps, save_every, callback, 0 if blocking is None else blocking[0], out, ring)


def kernel_blocking(shape, kernel_shape) -> tuple[int, int] | None:
    """``(k, band)``: fuse k steps of a 2-D kernel per sweep, in bands of ``band`` rows (one per thread),
    or None (one step per sweep). Only kernels of three rows are fused: wider kernels do enough
    arithmetic per cell that memory is not what limits them (measured: a 7x7 kernel runs as fast on
    2048^2 as on 256^2) while the rows computed twice grow as their radius."""
    if len(shape) != 2 or kernel_shape[0] != 3 or shape[1] <= kernel_shape[1] - 1:
        return None
    blocking = temporal_blocking(shape)
    return None if blocking is None else (min(blocking[0], KERNEL_STEPS_FUSED), blocking[1])


def _drive(advance, u, steps, save_every, callback, multiple: int = 0, out=None, scratch=None):
    """Run ``advance`` chunk by chunk between saved steps; copy only the saved frames (into ``out``
    when given, as each is reached).

    Chunks are sized by measured time (:class:`physconv._pace.Pace`, about 0.1 s each), whatever
    ``save_every`` and the grid's size are: Python (and so Ctrl-C) runs between chunks, and
    ``callback`` after each. Each chunk runs on all the threads or on one, whichever ran faster
    lately (:class:`physconv._threads.ThreadChoice`: short parallel regions lose on a busy machine).

    ``u`` is not copied: the first call reads it and writes its first step (or sweep of fused steps)
    into a new buffer, and only the two buffers are written after, by the loop's threads (a copy
    is one more serial pass over memory: 11 ms on 256^3, where 20 steps take 140 ms). The second
    buffer comes from :mod:`.workspace` and whichever buffer is not returned goes back there, as does
    ``scratch`` (the caller's other work array taken from there, if any).
    ``advance(a, b, n)`` writes ``b`` only when ``n`` is at most one sweep (``multiple``, or 1).
    """
    keep = saved_steps(steps, save_every)
    field = np.ascontiguousarray(u).reshape(_pad3(u.shape))  # the caller's array: read, never written
    bufs = None
    cur, done = 0, 0
    pace = Pace(u.size, multiple or 1)  # whole blocks of fused steps per chunk
    threads = ThreadChoice(u.size)
    # one frame: the buffer itself is the result (no copy); else each saved step is copied out
    frames = out if out is not None or save_every is None else np.empty((len(keep),) + u.shape, dtype=u.dtype)
    for i, target in enumerate(keep):
        while target > done:
            n = pace.next(target - done)
            with threads.chunk(n):
                if bufs is None:  # the first a new array (it may be the result), the second scratch
                    bufs = [workspace.new(field.shape, field.dtype), workspace.take(field.shape, field.dtype)]
                    first = min(n, multiple or 1)
                    if advance(field, bufs[0], first) != 1:
                        raise AssertionError("the first sweep must leave its result in the new buffer")
                    cur = advance(bufs[0], bufs[1], n - first) if n > first else 0
                else:
                    cur ^= advance(bufs[cur], bufs[1 - cur], n)
                field = bufs[cur]
            pace.done(n)
            done += n
            check_interrupt()  # one swallowed while compiling is honoured here
            if callback is not None:
                callback(done)
        if frames is not None:
            frames[i] = field.reshape(u.shape)
    result = save_every is None and out is None
    if bufs is not None:  # the buffer not returned is scratch again (with saved frames both are: the taken one)
        workspace.give_back(bufs[1 - cur] if result else bufs[1])
    if scratch is not None:
        workspace.give_back(scratch)
    if result:
        return (field if bufs is not None else field.copy()).reshape(u.shape)
    return Trajectory(keep, frames)


def _pad3(seq, fill=1):
    """Prefix a per-axis tuple to length 3 (the loops are always 3-D)."""
    seq = tuple(seq)
    return (fill,) * (3 - len(seq)) + seq


def _neighbour_table(n: int, b):
    """For each cell of an axis, its two neighbours as ``alpha * u[src] + beta``.

    Returns ``src`` (n, 2) int64 and ``coef`` (n, 2, 2) float64 holding
    ``(alpha, beta)`` for the lower and upper neighbour.
    """
    src = np.zeros((n, 2), dtype=np.int64)
    coef = np.zeros((n, 2, 2))
    if b is None:  # an unused axis of length 1: its neighbours carry weight r = 0
        return src, coef
    for side, shift in enumerate((-1, 1)):
        s, sign = image_index(n, np.arange(n) + shift, b.kind)
        inside = s >= 0
        src[:, side] = np.where(inside, s, np.arange(n))  # beyond an absorbing wall: weight 0 on the cell itself
        coef[:, side, 0] = np.where(inside, sign, 0.0)
        coef[:, side, 1] = np.where(inside & (sign < 0), 2.0 * b.c, 0.0)
    return src, coef


def _image_table(n: int, w: int, b):
    """For each target cell and kernel offset along an axis, up to 3 (source, weight) images.

    Reflecting walls use the particle (scatter) rule: the jump ``j -> j + d``
    that leaves the box is mirrored back, so target ``x`` receives from
    ``x - d``, ``-1 - x - d`` and ``2n - 1 - x - d``. Other walls gather one
    image by :func:`physconv.boundary.image_index`.
    """
    src = np.zeros((n, w, 3), dtype=np.int64)
    wt = np.zeros((n, w, 3))
    if b is None:
        wt[:, :, 0] = 1.0
        return src, wt
    x = np.arange(n)[:, None]
    d = np.arange(w)[None, :] - (w - 1) // 2
    if b.kind != "periodic" and (w - 1) // 2 > n:
        raise KernelError(f"kernel reaches {(w - 1) // 2} cells but a {b.kind} axis has only {n}")
    if b.kind == "reflecting":
        for m, pos in enumerate((x - d, -1 - x - d, 2 * n - 1 - x - d)):
            ok = (pos >= 0) & (pos < n)
            src[:, :, m] = np.where(ok, pos, 0)
            wt[:, :, m] = ok
        return src, wt
    s, sign = image_index(n, x - d, b.kind)
    src[:, :, 0] = np.maximum(s, 0)
    wt[:, :, 0] = np.where(s >= 0, sign, 0.0)
    return src, wt


def _check_count(v, name, minimum):
    if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {v!r}")
