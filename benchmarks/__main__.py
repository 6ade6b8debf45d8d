"""physconv against its peers, measured in one run: ``python -m benchmarks [--quick] [--json FILE]``.

Every peer is first checked to compute the same field as physconv (or, for random walks, a field consistent
with the same exact expectation); then all methods of a task are timed in interleaved repetitions and the
median is reported, with the ratio physconv / peer (above 1: physconv is faster). The machine is shared:
the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os

import numba
import numpy as np

from physconv import Grid, spectral, stats
from physconv import montecarlo as mc
from physconv.solvers import explicit

from . import load as busy_machine
from . import peers
from .timing import interleaved
from .timing import load as _load
from .whole import whole_runs

ROWS: list[dict] = []


KERNEL_NOTE = 0.1  # a method whose calls spend more than this share of their time in the kernel says so
KERNEL_FLOOR = 0.005  # ... and at least this many seconds (the kernel's accounting is coarser than short calls)


def report(task, size, seconds: dict, work: float, unit: str, reference: str = "physconv", checks=None):
    """Rows of (method, work/s, ratio to physconv) for one task; with ``seconds`` from :func:`interleaved`, a
    method whose calls spent over :data:`KERNEL_NOTE` of their time (and :data:`KERNEL_FLOOR`) in the kernel, mapping
    fresh memory, says how much."""
    base = work / seconds[reference]
    system = getattr(seconds, "system", {})
    for name, t in seconds.items():
        rate = work / t
        check = (checks or {}).get(name, "")
        if system.get(name, 0.0) > max(KERNEL_NOTE * t, KERNEL_FLOOR):
            check += f"{'; ' if check else ''}kernel {1e3 * system[name]:.0f} of {1e3 * t:.0f} ms a call"
        row = {"task": task, "size": size, "method": name, "rate": rate, "unit": unit,
               "physconv_over_method": base / rate, "check": check, "system_s": system.get(name)}
        ROWS.append(row)
        print(f"{task:<22}{size:<14}{name:<38}{rate:>12.3e} {unit:<18}{base / rate:>8.2f}x  {check}",
              flush=True)


def bandwidth(quick: bool) -> float:
    """Memory bandwidth of a numba parallel triad a = b + s c (GB/s): the roofline's ceiling."""
    n = 2**23 if quick else 2**25

    @numba.njit(parallel=True)
    def triad(a, b, c, s):
        for i in numba.prange(a.shape[0]):
            a[i] = b[i] + s * c[i]

    a, b, c = np.empty(n), np.random.random(n), np.random.random(n)
    triad(a, b, c, 0.5)
    t = interleaved({"triad": lambda: triad(a, b, c, 0.5)}, 7)["triad"]
    gbs = 24 * n / t / 1e9
    print(f"memory bandwidth (numba parallel triad, {8 * n / 2**20:.0f} MiB arrays): {gbs:.1f} GB/s; one FTCS step "
          f"reads and writes each cell once (16 bytes): roofline {gbs / 16:.2f} G cell-steps/s", flush=True)
    ROWS.append({"task": "bandwidth", "size": f"{n}", "method": "numba triad", "rate": gbs * 1e9, "unit": "B/s"})
    return gbs


def ftcs(n: int, steps: int, repeat: int):
    rng = np.random.default_rng(0)
    u = rng.random((n, n))
    g = Grid((n, n), boundary="reflecting")
    ours = explicit.diffuse(u, g, diffusivity=peers.D, dt=peers.DT, steps=steps)
    methods = {"physconv": lambda: explicit.diffuse(u, g, diffusivity=peers.D, dt=peers.DT, steps=steps),
               "numpy in place": lambda: peers.numpy_inplace(u, steps),
               "scipy.ndimage": lambda: peers.ndimage_steps(u, steps)}
    checks = {"physconv": "reference"}
    if peers.have("pde"):
        methods["py-pde solve (numba)"] = lambda: peers.pypde_solve(u, steps)
    else:
        print("py-pde is not installed (pip install -e '.[bench]'): its rows are skipped")
    for name, fn in methods.items():
        if name != "physconv":
            err = float(np.abs(fn() - ours).max())
            assert err < 1e-12, (name, err)
            checks[name] = f"same field ({err:.0e})"
    report("FTCS reflecting", f"{n}^2 x{steps}", interleaved(methods, repeat), n * n * steps, "cell-steps/s",
           checks=checks)


def ftcs_1d(n: int, steps: int, repeat: int):
    """1-D FTCS on a long line: fused steps in short bands, against numpy and scipy.ndimage."""
    from scipy import ndimage

    u = np.random.default_rng(2).random(n)
    g = Grid((n,), boundary="reflecting")
    lap = np.array([1.0, -2.0, 1.0]) * peers.D * peers.DT + np.array([0.0, 1.0, 0.0])

    def ndimage_1d():
        v = u
        for _ in range(steps):
            v = ndimage.correlate1d(v, lap, mode="reflect")
        return v

    ours = explicit.diffuse(u, g, diffusivity=peers.D, dt=peers.DT, steps=steps)
    methods = {"physconv": lambda: explicit.diffuse(u, g, diffusivity=peers.D, dt=peers.DT, steps=steps),
               "numpy in place": lambda: peers.ftcs_numpy_1d(u, steps), "scipy.ndimage": ndimage_1d}
    checks = {"physconv": "reference"}
    for name, fn in list(methods.items())[1:]:
        err = float(np.abs(fn() - ours).max())
        assert err < 1e-12, (name, err)
        checks[name] = f"same field ({err:.0e})"
    report("FTCS reflecting 1-D", f"{n} x{steps}", interleaved(methods, repeat), n * steps, "cell-steps/s",
           checks=checks)


def kernel_steps(n: int, width: int, steps: int, repeat: int):
    """Repeated propagation by a softmax kernel (periodic), against scipy.ndimage.convolve and numpy rolls."""
    from physconv import kernels

    u = np.random.default_rng(3).random((n, n))
    k = kernels.softmax(np.random.default_rng(4).normal(size=(width, width)))
    ours = explicit.propagate(u, "periodic", kernel=k, steps=steps)
    methods = {"physconv": lambda: explicit.propagate(u, "periodic", kernel=k, steps=steps),
               "scipy.ndimage convolve": lambda: peers.kernel_ndimage(u, k, steps),
               "numpy rolls": lambda: peers.kernel_numpy_rolls(u, k, steps)}
    checks = {"physconv": "reference"}
    for name, fn in list(methods.items())[1:]:
        err = float(np.abs(fn() - ours).max())
        assert err < 1e-12, (name, err)
        checks[name] = f"same field ({err:.0e})"
    report(f"kernel {width}x{width} periodic", f"{n}^2 x{steps}", interleaved(methods, repeat), n * n * steps,
           "cell-steps/s", checks=checks)


def ftcs_devito(n: int, steps: int, repeat: int, ndim: int = 2):
    """Against Devito: its zero halo is physconv's absorbing wall; its best of three settings, all autotuned."""
    if not peers.have("devito"):
        print("Devito is not installed (pip install -e '.[bench]'): its rows are skipped")
        return
    shape = (n,) * ndim
    D = peers.D if ndim < 3 else 0.1  # stable: the sum of D dt / dx^2 over the axes stays below 1/2
    u = np.random.default_rng(0).random(shape)
    g = Grid(shape, boundary="absorbing")
    ours = explicit.diffuse(u, g, diffusivity=D, dt=peers.DT, steps=steps)
    methods = {"physconv": lambda: explicit.diffuse(u, g, diffusivity=D, dt=peers.DT, steps=steps)}
    checks = {"physconv": "reference"}
    settings = (("Devito default", "advanced"), ("Devito blocklevels=1", ("advanced", {"blocklevels": 1})),
                ("Devito blocklevels=1 blockrelax", ("advanced", {"blocklevels": 1, "blockrelax": True})))
    for label, opt in settings:
        op = peers.DevitoFTCS(shape, opt, diffusivity=D)
        err = float(np.abs(op(u, steps) - ours).max())
        assert err < 1e-12, (label, err)
        methods[label] = lambda op=op: op(u, steps)
        checks[label] = f"same field ({err:.0e}), autotuned"
    seconds = interleaved(methods, repeat)
    best = min((k for k in seconds if k.startswith("Devito")), key=seconds.get)
    seconds[f"{best} (best)"] = seconds.pop(best)
    seconds.system[f"{best} (best)"] = seconds.system.pop(best)
    checks[f"{best} (best)"] = checks.pop(best)
    report("FTCS absorbing", f"{n}^{ndim} x{steps}", seconds, u.size * steps, "cell-steps/s", checks=checks)


def float32_storage(shape, steps: int, repeat: int):
    """float32 storage against float64 (same loop): its speed, and its difference against the bound."""
    u = np.random.default_rng(0).random(shape)
    g = Grid(shape, boundary="reflecting")
    D = 0.1 if len(shape) == 3 else peers.D
    run = {dt: (lambda dt=dt: explicit.diffuse(u, g, diffusivity=D, dt=peers.DT, steps=steps, dtype=dt))
           for dt in ("float64", "float32")}
    err = float(np.abs(run["float32"]().astype(float) - run["float64"]()).max())
    bound = explicit.float32_bound(u, steps)
    assert err <= bound
    size = f"{shape[0]}^{len(shape)}"
    seconds = interleaved({f"physconv {k}": f for k, f in run.items()}, repeat)
    report("FTCS float32 storage", f"{size} x{steps}", seconds, u.size * steps, "cell-steps/s",
           reference="physconv float64",
           checks={"physconv float64": "reference", "physconv float32": f"max diff {err:.1e} <= bound {bound:.1e}"})


def spectral_flat(n: int, repeat: int):
    """spectral.diffuse at 10 and 10^5 steps against two transforms (its floor)."""
    u = np.random.default_rng(1).random((n, n))
    for wall in ("periodic", "reflecting"):
        g = Grid((n, n), boundary=wall)
        methods = {"two transforms": lambda: spectral.inverse(spectral.forward(u, g.boundaries), g.boundaries, u.shape),
                   "spectral 10 steps": lambda: spectral.diffuse(u, g, diffusivity=0.2, dt=1.0, steps=10),
                   "spectral 1e5 steps": lambda: spectral.diffuse(u, g, diffusivity=0.2, dt=1.0, steps=100_000)}
        t = interleaved(methods, repeat)
        for name, s in t.items():
            ratio = s / t["two transforms"]
            ROWS.append({"task": f"spectral {wall}", "size": f"{n}^2", "method": name, "seconds": s,
                         "over_two_transforms": ratio})
            print(f"{'spectral ' + wall:<22}{f'{n}^2':<14}{name:<28}{1e3 * s:>10.1f} ms  {ratio:>6.2f} x two transforms",
                  flush=True)


def gaussian(n: int, repeat: int):
    u = np.random.default_rng(2).random((n, n))
    g = Grid((n, n), boundary="periodic")
    sigma = 4.0
    ours = spectral.heat(u, g, diffusivity=0.2, time=sigma**2 / 0.4)
    methods = {"physconv": lambda: spectral.heat(u, g, diffusivity=0.2, time=sigma**2 / 0.4),
               "ndimage.gaussian_filter": lambda: peers.gaussian_ndimage(u, sigma),
               "signal.fftconvolve": lambda: peers.gaussian_fftconvolve(u, sigma)}
    checks = {"physconv": "reference"}
    for name, fn in list(methods.items())[1:]:
        err = float(np.abs(fn() - ours).max())
        assert err < 1e-12, (name, err)
        checks[name] = f"same field ({err:.0e})"
    report("gaussian (heat)", f"{n}^2 s=4", interleaved(methods, repeat), n * n, "cells/s", checks=checks)


def walks(particles: int, steps: int, repeat: int):
    """Step-by-step walkers against numpy walks; and frame jumps (two frames, the same process seen at
    the saved steps): one draw per particle and frame from the n-step kernel, mirrored at the walls."""
    shape = (256, 256)
    g = Grid(shape, boundary="reflecting")
    u0 = np.random.default_rng(3).random(shape)
    exact = explicit.diffuse(u0, g, diffusivity=peers.D, dt=peers.DT, steps=steps)
    counts0 = mc.place(u0, g, particles, 0)
    start = np.stack(np.unravel_index(np.repeat(np.arange(g.size), counts0.ravel()), shape))

    def ours(jumps):
        return lambda: mc.lattice(u0, g, steps=steps, particles=particles, seed=1, diffusivity=peers.D,
                                  dt=peers.DT, save_every=steps // 2, jumps=jumps)

    def binned(pos):
        return np.bincount(np.ravel_multi_index(pos, shape), minlength=g.size).reshape(shape)

    rng = np.random.default_rng(4)
    methods = {"physconv lattice": ours("steps"),
               f"physconv frame jumps ({steps // 2} steps)": ours("auto"),
               "numpy walk (integers)": lambda: peers.numpy_walk_integers(start.astype(np.int16), steps, shape, rng),
               "numpy walk (choice)": lambda: peers.numpy_walk_choice(start.astype(np.int64), steps, shape, rng)}
    checks = {}
    expected = exact * particles / u0.sum()
    for name, fn in methods.items():
        out = fn()
        counts = out.counts[-1] if name.startswith("physconv") else binned(out)
        check = stats.check(counts, expected, particles, 1e-6)
        assert check.passed, (name, check)
        checks[name] = f"consistent with explicit (max|z| {check.max_abs_z:.1f})"
    report("lattice walk", f"{particles:.0e} x{steps}", interleaved(methods, repeat), particles * steps,
           "particle-steps/s", reference="physconv lattice", checks=checks)


def counts_mode(steps: int, repeat: int):
    """Counts mode (a multinomial split of every cell's count per step) at 10^6 and 10^12 particles on 256^2,
    against the same process in numpy (``Generator.multinomial`` over the cells)."""
    shape = (256, 256)
    g = Grid(shape, boundary="reflecting")
    u0 = np.random.default_rng(3).random(shape)
    exact = explicit.diffuse(u0, g, diffusivity=peers.D, dt=peers.DT, steps=steps)
    for particles in (10**6, 10**12):
        counts0 = mc.place(u0, g, particles, 0)
        rng = np.random.default_rng(6)
        methods = {"physconv counts mode": lambda n=particles: mc.lattice(u0, g, steps=steps, particles=n, seed=1,
                                                                          diffusivity=peers.D, dt=peers.DT,
                                                                          mode="counts", save_every=steps).counts[-1],
                   "numpy multinomial": lambda c=counts0, r=rng: peers.numpy_counts(c, steps, shape, r)}
        checks = {}
        expected = exact * particles / u0.sum()
        for name, fn in methods.items():
            check = stats.check(fn(), expected, particles, 1e-6)
            assert check.passed, (name, check)
            checks[name] = f"consistent with explicit (max|z| {check.max_abs_z:.1f})"
        report("counts mode", f"{particles:.0e} x{steps}", interleaved(methods, repeat), g.size * steps,
               "cell-steps/s", reference="physconv counts mode", checks=checks)


def _media(quick: bool, repeat: int):
    from . import media

    for n, steps in ((256, 200), (1024, 20)) if quick else ((256, 1000), (2048, 100)):
        media.explicit_step(n, steps, repeat, report)
    media.walks(10**5 if quick else 10**6, 20 if quick else 100, repeat, report)
    ROWS.extend(media.semidiscrete_vs_implicit(128 if quick else 256, 50.0 if quick else 200.0))


def _inverse(quick: bool, repeat: int):
    from . import inverse

    inverse.diffusivity(512 if quick else 1024, repeat, report)
    inverse.kernel(256 if quick else 512, 10, repeat, report)
    inverse.deblurring(repeat, report)


def _notebook(quick: bool, repeat: int):
    from . import notebook

    notebook.animation(repeat, report, quick)


def _ftcs_sizes(quick: bool):
    return ((256, 200), (1024, 20)) if quick else ((256, 1000), (2048, 200))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, few repetitions (about a minute)")
    ap.add_argument("--json", metavar="FILE", help="also write every row as JSON")
    ap.add_argument("--only", nargs="+", metavar="TASK",
                    choices=("ftcs", "devito", "devito3d", "ftcs1d", "kernel", "float32", "spectral", "gaussian", "walks", "counts", "load",
                             "whole", "media", "inverse", "notebook"),
                    help="run only these tasks (default: all)")
    args = ap.parse_args(argv)
    repeat = 3 if args.quick else 5
    print(f"physconv benchmark suite; {os.cpu_count()} cores, numba threads {numba.get_num_threads()}; "
          f"load average before: {_load()}", flush=True)
    if args.quick:
        print("--quick: smaller grids and fewer steps and repetitions; a quick ratio shows the direction, the "
              "full run (benchmarks/README.md) the size", flush=True)
    explicit.diffuse(np.ones((8, 8)), Grid((8, 8), boundary="reflecting"), diffusivity=0.2, dt=1.0, steps=2)
    bandwidth(args.quick)
    print(f"{'task':<22}{'size':<14}{'method':<38}{'rate':>12} {'':<18}{'physconv/method':>8}")
    q = args.quick
    tasks = {
        "ftcs": lambda: [ftcs(n, s, repeat) for n, s in _ftcs_sizes(q)],
        "devito": lambda: [ftcs_devito(n, s, repeat) for n, s in _ftcs_sizes(q)],
        "devito3d": lambda: ftcs_devito(64 if q else 256, 20, repeat, ndim=3),
        "ftcs1d": lambda: ftcs_1d(10**5 if q else 10**6, 100 if q else 1000, repeat),
        # quick: the full grid with fewer steps; a 256^2 grid with 5 steps measured only the calls' overhead
        # (0.25-0.42x scipy, against 6-8x at full size)
        "kernel": lambda: [kernel_steps(1024, w, 8 if q else 20, repeat) for w in (3, 7)],
        "float32": lambda: (float32_storage((1024, 1024) if q else (2048, 2048), 20 if q else 200, repeat),
                            float32_storage((64, 64, 64) if q else (256, 256, 256), 20, repeat)),
        "spectral": lambda: spectral_flat(512 if q else 1024, repeat),
        "gaussian": lambda: gaussian(512 if q else 1024, repeat),
        "walks": lambda: walks(10**5 if q else 10**6, 20 if q else 100, repeat),
        "counts": lambda: counts_mode(10 if q else 50, repeat),
        "media": lambda: _media(q, repeat),
        "inverse": lambda: _inverse(q, repeat),
        "notebook": lambda: _notebook(q, repeat),
        "load": lambda: busy_machine.run(ROWS, repeat, q),
        "whole": lambda: whole_runs("salt_aquarium", repeat, ROWS) if peers.have("pde") else print(
            "py-pde is not installed: the whole-run comparison is skipped"),
    }
    for name in args.only or tasks:
        tasks[name]()
    print(f"load average after: {_load()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load_average": _load(), "rows": ROWS}, f, indent=1, default=float)


if __name__ == "__main__":
    main()
