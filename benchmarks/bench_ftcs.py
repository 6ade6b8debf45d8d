"""FTCS throughput: physconv's Numba loop against numpy and scipy.ndimage, measured in the same run.

    python benchmarks/bench_ftcs.py [--sizes 256 2048] [--repeat 3]

Prints cell updates per second (float64, reflecting walls, r = 0.2 per axis)
for each method and the ratio of physconv to each baseline. The target is
>= 10x plain numpy slicing on 2048^2. py-pde (its numba Euler stepper, Neumann
walls) is measured too when installed: ``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
import scipy.ndimage as ndi

from physconv import kernels
from physconv.grid import Grid
from physconv.solvers import explicit

D, DT = 0.2, 1.0  # r = 0.2 per axis, sum 0.4 <= 1/2


def numpy_padded(u, steps):
    """Plain numpy: pad one ghost cell (u[-1] = u[0]) and add shifted slices."""
    r = D * DT
    for _ in range(steps):
        g = np.pad(u, 1, mode="edge")
        u = u + r * (g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * u)
    return u


def numpy_inplace(u, steps):
    """Plain numpy at its best: preallocated ghost-padded buffer, every operation in place (no temporaries)."""
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
        np.multiply(cur, 1.0 - 4.0 * r, out=g[1:-1, 1:-1])  # reuse the interior as scratch
        out *= r
        out += g[1:-1, 1:-1]
        cur, out = out, cur
    return cur


def numpy_roll(u, steps):
    """Plain numpy with np.roll (periodic walls: same work, different ghosts)."""
    r = D * DT
    for _ in range(steps):
        u = u + r * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4.0 * u)
    return u


def ndimage(u, steps):
    k = kernels.ftcs(D, DT, 1.0, ndim=2)
    for _ in range(steps):
        u = ndi.convolve(u, k, mode="reflect")
    return u


def pypde(u, steps):
    """py-pde's explicit Euler stepper with Neumann walls: the same FTCS scheme."""
    import warnings

    import pde

    n0, n1 = u.shape
    grid = pde.CartesianGrid([[0, n0], [0, n1]], [n0, n1], periodic=False)
    eq = pde.DiffusionPDE(diffusivity=D, bc="auto_periodic_neumann")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eq.solve(pde.ScalarField(grid, u), t_range=steps * DT, dt=DT, solver="euler", tracker=None,
                        backend="numba", adaptive=False).data


def physconv_numba(u, steps):
    return explicit.diffuse(u, Grid(u.shape, boundary="reflecting"), diffusivity=D, dt=DT, steps=steps)


def best_time(fn, u, steps, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(u, steps)
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 2048])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()

    rng = np.random.default_rng(0)
    physconv_numba(rng.random((16, 16)), 2)  # compile (or load the cache) outside the timing
    ref = rng.random((64, 64))
    assert np.allclose(physconv_numba(ref, 5), numpy_padded(ref, 5), atol=1e-13)
    assert np.allclose(physconv_numba(ref, 5), ndimage(ref, 5), atol=1e-13)
    assert np.allclose(physconv_numba(ref, 5), numpy_inplace(ref, 5), atol=1e-13)

    methods = [("physconv (numba)", physconv_numba), ("numpy padded slices", numpy_padded),
               ("numpy in place", numpy_inplace), ("numpy np.roll", numpy_roll), ("scipy.ndimage", ndimage)]
    try:
        assert np.allclose(pypde(ref, 5), physconv_numba(ref, 5), atol=1e-13)  # also compiles its stepper
        methods.append(("py-pde (numba)", pypde))
    except ImportError:
        print("py-pde not installed: its baseline is skipped (pip install -e '.[bench]')")
    print(f"FTCS, float64, reflecting walls; numba threads: {numba.get_num_threads()}; best of {args.repeat}")
    print(f"{'grid':>10} {'method':<22} {'steps':>6} {'seconds':>9} {'cell updates/s':>16} {'physconv speed-up':>18}")
    for n in args.sizes:
        u = rng.random((n, n))
        steps = max(5, int(2e8 // (n * n)))
        rates = {}
        for name, fn in methods:
            t = best_time(fn, u, steps, args.repeat)
            rates[name] = n * n * steps / t
            ratio = rates["physconv (numba)"] / rates[name]
            print(f"{n:>5}x{n:<4} {name:<22} {steps:>6} {t:>9.3f} {rates[name]:>16.3e} {ratio:>17.1f}x")


if __name__ == "__main__":
    main()
