"""The peers physconv is measured against, each computing the same thing as physconv's method.

Every function takes the initial field (or particles) and a step count and returns its result, so that the
suite can check it against physconv's before timing it. Optional peers (py-pde) are skipped, and said to be,
when not installed.
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import scipy.ndimage as ndi

from physconv import kernels

D, DT = 0.2, 1.0  # r = 0.2 per axis: sum 0.4, well inside the limit


def numpy_inplace(u, steps):
    """Plain numpy at its best: a preallocated ghost-padded buffer, every operation in place, reflecting walls."""
    r = D * DT
    n0, n1 = u.shape
    g = np.empty((n0 + 2, n1 + 2))
    out = np.empty_like(u)
    cur = u.copy()
    for _ in range(steps):
        g[1:-1, 1:-1] = cur
        g[0, 1:-1], g[-1, 1:-1] = cur[0], cur[-1]  # u[-1] = u[0]
        g[1:-1, 0], g[1:-1, -1] = cur[:, 0], cur[:, -1]
        np.add(g[:-2, 1:-1], g[2:, 1:-1], out=out)
        out += g[1:-1, :-2]
        out += g[1:-1, 2:]
        np.multiply(cur, 1.0 - 4.0 * r, out=g[1:-1, 1:-1])
        out *= r
        out += g[1:-1, 1:-1]
        cur, out = out, cur
    return cur


def ndimage_steps(u, steps):
    """scipy.ndimage.convolve with the FTCS kernel and mode 'reflect' (half-sample mirror), step by step."""
    k = kernels.ftcs(D, DT, 1.0, ndim=2)
    for _ in range(steps):
        u = ndi.convolve(u, k, mode="reflect")
    return u


def kernel_ndimage(u, k, steps):
    """Repeated periodic propagation by ``k`` with scipy.ndimage: u'(x) = sum_d k[d] u(x - d)."""
    from scipy import ndimage

    for _ in range(steps):
        u = ndimage.convolve(u, k, mode="wrap")
    return u


def kernel_numpy_rolls(u, k, steps):
    """The same with numpy: a sum of rolled copies, one per kernel offset."""
    h = [w // 2 for w in k.shape]
    for _ in range(steps):
        acc = np.zeros_like(u)
        for idx in np.ndindex(k.shape):
            acc += k[idx] * np.roll(u, [i - c for i, c in zip(idx, h)], axis=tuple(range(u.ndim)))
        u = acc
    return u


def ftcs_numpy_1d(u, steps):
    """1-D reflecting FTCS in numpy, in place with one temporary."""
    u = u.copy()
    for _ in range(steps):
        lap = np.empty_like(u)
        lap[1:-1] = u[:-2] - 2 * u[1:-1] + u[2:]
        lap[0], lap[-1] = u[1] - u[0], u[-2] - u[-1]
        u += D * DT * lap
    return u


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def pypde_solve(u, steps):
    """py-pde's ``solve`` with its numba Euler stepper, Neumann walls: the same FTCS update."""
    import pde

    n0, n1 = u.shape
    grid = pde.CartesianGrid([[0, n0], [0, n1]], [n0, n1], periodic=False)
    eq = pde.DiffusionPDE(diffusivity=D, bc="auto_periodic_neumann")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eq.solve(pde.ScalarField(grid, u), t_range=steps * DT, dt=DT, solver="euler", tracker=None,
                        backend="numba", adaptive=False).data


def gaussian_ndimage(u, sigma):
    """scipy.ndimage.gaussian_filter, periodic, truncated at 8 sigma (below round-off)."""
    return ndi.gaussian_filter(u, sigma, mode="wrap", truncate=8.0)


def gaussian_fftconvolve(u, sigma):
    """scipy.signal.fftconvolve of the wrap-padded field with the sampled Gaussian."""
    from scipy.signal import fftconvolve

    k = kernels.gaussian(variance=sigma**2, truncate=8.0)
    r = k.shape[0] // 2
    return fftconvolve(np.pad(u, r, mode="wrap"), k, mode="valid")


def walk_offsets():
    k = kernels.ftcs(D, DT, 1.0, ndim=2)
    idx = np.argwhere(k > 0)
    return idx - 1, k[tuple(idx.T)]


def numpy_walk_choice(pos, steps, shape, rng):
    """Vectorised numpy walk, moves drawn with Generator.choice, reflecting walls."""
    offsets, p = walk_offsets()
    n = np.array(shape)[:, None]
    for _ in range(steps):
        j = rng.choice(len(p), size=pos.shape[1], p=p)
        pos = pos + offsets[j].T
        pos = np.where(pos < 0, -1 - pos, pos)
        pos = np.where(pos >= n, 2 * n - 1 - pos, pos)
    return pos


def numpy_walk_integers(pos, steps, shape, rng):
    """Vectorised numpy walk at its best: one small random integer per move (the five FTCS moves at r = 0.2
    are equally likely), in place, narrow integers."""
    offsets, p = walk_offsets()
    assert np.allclose(p, p[0]), "the integer walk needs equally likely moves"
    n = np.array(shape, dtype=pos.dtype)[:, None]
    table = offsets.T.astype(pos.dtype)
    for _ in range(steps):
        j = rng.integers(0, len(p), size=pos.shape[1], dtype=np.uint8)
        pos += table[:, j]
        np.copyto(pos, -1 - pos, where=pos < 0)
        np.copyto(pos, 2 * n - 1 - pos, where=pos >= n)
    return pos


def numpy_counts(counts, steps, shape, rng):
    """Counts mode in numpy: every cell's count split among the five FTCS moves by ``Generator.multinomial``
    (vectorised over the cells), then the moves added up with mirrored walls."""
    offsets, p = walk_offsets()
    counts = counts.reshape(shape)
    for _ in range(steps):
        split = rng.multinomial(counts, p)
        new = np.zeros_like(counts)
        for j, (dy, dx) in enumerate(offsets):
            moved = split[..., j]
            y = np.arange(shape[0]) + dy
            x = np.arange(shape[1]) + dx
            y = np.where(y < 0, -1 - y, np.where(y >= shape[0], 2 * shape[0] - 1 - y, y))
            x = np.where(x < 0, -1 - x, np.where(x >= shape[1], 2 * shape[1] - 1 - x, x))
            np.add.at(new, (y[:, None], x[None, :]), moved)
        counts = new
    return counts


class DevitoFTCS:
    """Devito's generated C/OpenMP for the same FTCS update, float64, zero halo (= physconv's absorbing walls).

    ``opt`` is Devito's optimisation setting; the operator is compiled (and autotuned) once, outside the timing.
    """

    def __init__(self, shape, opt, autotune="aggressive", diffusivity=D):
        import os

        os.environ.setdefault("DEVITO_LANGUAGE", "openmp")
        os.environ.setdefault("DEVITO_LOGGING", "ERROR")
        from devito import Eq, Grid, Operator, TimeFunction

        grid = Grid(shape=tuple(shape), extent=tuple(n - 1.0 for n in shape), dtype=np.float64)
        self.u = TimeFunction(name="u", grid=grid, space_order=2)
        self.op = Operator([Eq(self.u.forward, self.u + diffusivity * DT * self.u.laplace)], opt=opt)
        self.autotune = autotune
        self.tuned = False

    def __call__(self, u0, steps):
        self.u.data[:] = 0.0
        self.u.data[0, :] = u0
        if not self.tuned:
            self.op.apply(time_M=steps - 1, autotune=self.autotune)
            self.tuned = True
            self.u.data[:] = 0.0
            self.u.data[0, :] = u0
        self.op.apply(time_M=steps - 1)
        return np.array(self.u.data[steps % 2])
