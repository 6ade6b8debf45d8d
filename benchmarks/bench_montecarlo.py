"""Monte Carlo throughput: Numba walkers against a vectorised numpy walk, measured in the same run.

    python benchmarks/bench_montecarlo.py [--particles 1000000 10000000] [--steps 20]

Lattice particles with the FTCS kernel (r = 0.2 per axis) on 256^2 with
reflecting walls: particle-steps per second of the walk itself, Numba (all
threads) vs numpy (vectorised: one choice of jump for every particle per step,
then the walls); the end-to-end time of ``montecarlo.lattice`` (placement,
walk, binning) is printed beside it.
Counts mode: cell-steps per second, whatever the number of particles.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from physconv import kernels, montecarlo as mc
from physconv.grid import Grid
from physconv.montecarlo._random import key_of
from physconv.montecarlo.lattice import _jumps, _particle_mover, place, walls

SHAPE = (256, 256)
D, DT = 0.2, 1.0


def numpy_walk(pos, steps, rng):
    """Vectorised numpy random walk with the FTCS kernel and reflecting walls."""
    k = kernels.ftcs(D, DT, 1.0, ndim=2)
    idx = np.argwhere(k > 0)
    offsets = idx - 1
    p = k[tuple(idx.T)]
    cdf = np.cumsum(p)
    n = np.array(SHAPE)[:, None]
    for _ in range(steps):
        j = np.searchsorted(cdf, rng.random(pos.shape[1]) * cdf[-1])
        pos = pos + offsets[j].T
        pos = np.where(pos < 0, -1 - pos, pos)
        pos = np.where(pos >= n, 2 * n - 1 - pos, pos)
    return pos


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--particles", type=int, nargs="+", default=[10**6, 10**7])
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    g = Grid(SHAPE, boundary="reflecting")
    u0 = np.random.default_rng(0).random(SHAPE)
    mc.lattice(u0[:8, :8], Grid((8, 8), boundary="reflecting"), steps=2, particles=100, diffusivity=D, dt=DT)
    mc.lattice(u0[:8, :8], Grid((8, 8), boundary="reflecting"), steps=2, particles=100, diffusivity=D, dt=DT,
               mode="counts")

    print(f"Lattice walkers, FTCS kernel, {SHAPE[0]}x{SHAPE[1]} reflecting; numba threads: {numba.get_num_threads()}")
    print(f"{'particles':>12} {'method':<16} {'steps':>6} {'walk s':>8} {'particle-steps/s':>18} {'speed-up':>9}"
          f" {'end-to-end s':>13}")
    k = kernels.ftcs(D, DT, 1.0, ndim=2)
    offsets, probs = _jumps(k)
    shape = np.array(SHAPE, dtype=np.int64)
    kinds = walls(g)
    for n in args.particles:
        steps = args.steps
        counts0 = place(u0, g, n, 1)
        advance, _ = _particle_mover(counts0, g, key_of(1), offsets, probs, shape, kinds)
        t_numba = timed(lambda: advance(0, steps))  # the walk alone: placement and binning excluded
        t_total = timed(lambda: mc.lattice(u0, g, steps=steps, particles=n, seed=1, diffusivity=D, dt=DT))
        pos = np.stack(np.unravel_index(np.random.default_rng(1).integers(0, g.size, n), SHAPE)).astype(np.int64)
        t_numpy = timed(lambda: numpy_walk(pos, steps, np.random.default_rng(2)))
        r_numba, r_numpy = n * steps / t_numba, n * steps / t_numpy
        print(f"{n:>12.0e} {'physconv numba':<16} {steps:>6} {t_numba:>8.3f} {r_numba:>18.3e}"
              f" {r_numba / r_numpy:>8.1f}x {t_total:>13.3f}")
        print(f"{n:>12.0e} {'numpy walk':<16} {steps:>6} {t_numpy:>8.3f} {r_numpy:>18.3e} {1.0:>8.1f}x")

    print("\nCounts mode (multinomial split per cell), same grid and kernel")
    print(f"{'particles':>12} {'steps':>6} {'seconds':>9} {'cell-steps/s':>14}")
    for n in (10**6, 10**9, 10**12):
        steps = 50
        t_setup = timed(lambda: mc.lattice(u0, g, steps=0, particles=n, seed=1, diffusivity=D, dt=DT, mode="counts"))
        t = timed(lambda: mc.lattice(u0, g, steps=steps, particles=n, seed=1, diffusivity=D, dt=DT, mode="counts"))
        t -= t_setup
        print(f"{n:>12.0e} {steps:>6} {t:>9.3f} {g.size * steps / t:>14.3e}")


if __name__ == "__main__":
    main()
