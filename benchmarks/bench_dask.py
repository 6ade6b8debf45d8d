"""Scale-out on Dask: strong scaling of a sweep and of a chunked explicit run, and the Dask path's overhead.

    python -m benchmarks.bench_dask [--quick]

Every figure is a median over interleaved repetitions in this one run; the load average is printed
before and after. Rows:

* a 16-variant sweep (4 diffusivities x 4 Monte Carlo seeds) on a LocalCluster of 1 and of 2 worker
  processes (one thread each; the cluster is started before timing);
* a chunked explicit run (4096^2, 4 row bands) on 1 and 2 workers, against the single-array solver on
  one and on two threads (checked equal first);
* one variant through the sweep path (task, transfer, Zarr region write) against ``runner.run``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from physconv import Grid, distributed, runner, scenario, sweep
from physconv.solvers import explicit

from .timing import interleaved
from .timing import load as _load

SCENARIO = """\
name: bench
grid: {shape: [128, 128]}
boundary: reflecting
diffusivity: 0.2
initial: {kind: random_cubes, seed: 1, cube: 8}
time: {dt: 1.0, steps: 400, save_every: 50}
methods: [explicit, implicit, spectral, monte_carlo]
monte_carlo: {particles: 1000000, seed: 1, jumps: steps}
"""


def _clients(workers):
    import logging

    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    return {n: Client(LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   silence_logs=logging.ERROR)) for n in workers}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_dask", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions")
    args = ap.parse_args(argv)
    repeat = 2 if args.quick else 3
    n = 1024 if args.quick else 4096
    steps = 40 if args.quick else 200
    print(f"physconv Dask benchmark; {os.cpu_count()} cores; load average before: {_load()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="physconv-bench-dask-"))
    clients = _clients((1, 2))
    try:
        path = work / "bench.yaml"
        path.write_text(SCENARIO)
        axes = [sweep.parse_axis("diffusivity=0.05,0.1,0.15,0.2"), sweep.parse_axis("monte_carlo.seed=1,2,3,4")]
        plan = sweep.plan(path, axes)
        counter = iter(range(10**6))

        def sweep_on(workers):
            def go():
                store = work / f"s{next(counter)}.zarr"
                sweep.run(plan, store, clients[workers], say=lambda line: None, threads=1)
                shutil.rmtree(store)
            return go

        t = interleaved({1: sweep_on(1), 2: sweep_on(2)}, repeat)
        print(f"sweep, 16 variants (128^2, 400 steps, 4 methods): 1 worker {t[1]:.2f} s, 2 workers {t[2]:.2f} s, "
              f"speed-up {t[1] / t[2]:.2f}", flush=True)

        import dask.array as da

        grid = Grid((n, n), boundary="reflecting")
        chunks = (n // 4, n)
        field = da.random.default_rng(0).random(grid.shape, chunks=chunks)  # made where it is used
        u0 = field.compute()
        ref = explicit.diffuse(u0, grid, diffusivity=0.2, dt=1.0, steps=steps)
        for client in clients.values():
            got = client.compute(distributed.diffuse(field, grid, steps=steps, chunks=chunks, diffusivity=0.2,
                                                     dt=1.0)).result()[-1]
            assert np.array_equal(got, ref), "the chunked run must equal the single-array solver"
        import numba

        def direct(threads):
            def go():
                before = numba.get_num_threads()
                numba.set_num_threads(threads)
                try:
                    explicit.diffuse(u0, grid, diffusivity=0.2, dt=1.0, steps=steps)
                finally:
                    numba.set_num_threads(before)
            return go

        def chunked(workers):
            return lambda: clients[workers].compute(distributed.diffuse(
                field, grid, steps=steps, chunks=chunks, diffusivity=0.2, dt=1.0)).result()

        t = interleaved({"direct 1 thread": direct(1), "direct 2 threads": direct(min(2, numba.config.NUMBA_NUM_THREADS)),
                           "dask 1 worker": chunked(1), "dask 2 workers": chunked(2)}, repeat)
        cells = n * n * steps
        for name, secs in t.items():
            print(f"explicit {n}^2 x{steps}, chunks {chunks}: {name:<17} {secs:7.2f} s  "
                  f"{cells / secs / 1e9:6.2f} G cell-steps/s", flush=True)
        print(f"  strong scaling 1 -> 2 workers: {t['dask 1 worker'] / t['dask 2 workers']:.2f}; "
              f"dask 2 workers / direct 2 threads: {t['dask 2 workers'] / t['direct 2 threads']:.2f} (time ratio)",
              flush=True)

        one = sweep.plan(path, [sweep.parse_axis("diffusivity=0.2")])
        s = scenario.load(path, ["diffusivity=0.2"])

        def through_dask():
            store = work / f"o{next(counter)}.zarr"
            sweep.run(one, store, clients[1], say=lambda line: None, threads=1)
            shutil.rmtree(store)

        def direct_run():
            before = numba.get_num_threads()
            numba.set_num_threads(1)
            try:
                runner.run(s, progress=False)
            finally:
                numba.set_num_threads(before)

        t = interleaved({"dask": through_dask, "direct": direct_run}, repeat + 2)
        print(f"one variant: direct runner.run {t['direct']:.2f} s, through the sweep path {t['dask']:.2f} s, "
              f"overhead {t['dask'] / t['direct']:.2f}x", flush=True)
    finally:
        for client in clients.values():
            cluster = client.cluster
            client.close()
            cluster.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
