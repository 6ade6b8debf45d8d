"""Speed on a machine that is not idle: each method's time with other processes spinning beside it.

Every repetition times each case on a quiet machine, then starts the spinning processes and times each
case again, so that a drift of the machine hurts both alike; the medians are compared.

Two figures belong beside busy/quiet. The *floor* is what a fair scheduler allows. With ``k`` spinning
processes on ``c`` cores a process gets ``share_1 = min(1, c / (1 + k))`` of a core while one of its
threads runs and ``share_t = min(t, c t / (t + k))`` cores while ``t`` run. A case that took ``s`` on one
thread and ``q`` on ``t`` threads (quiet) has the parallel fraction ``f = (1 - q/s) / (1 - 1/t)``
(Amdahl), so busy it takes at least ``s ((1 - f) / share_1 + f / share_t)``. With 2 threads, 2 spinners
and 2 cores that is 1.5 times the quiet time for serial code and 2 times for code that scales
perfectly: no case that uses both cores can get below 1.5 there.

The *peer* row is numpy and scipy.ndimage doing the same FTCS steps on one thread (checked equal to
physconv's explicit steps first). Its busy/quiet above its floor of 1.5 is what the machine itself
loses when every core is busy (on a virtual machine the same instructions take more CPU time then);
a physconv case at its floor times that factor loses nothing to its own threads. The peer runs twice:
as long as the implicit run, and only a tenth of its steps, as short as a whole explicit run; for a job
of a few tens of milliseconds a few time slices of the scheduler are a large part of its time, and
busy/quiet grows for any code.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time

import numba
import numpy as np

import physconv
from physconv.grid import Grid
from physconv.solvers import explicit

from .timing import load


def _spin(stop):
    while not stop.is_set():
        for _ in range(200_000):
            pass


class Spinners:
    """``k`` processes that keep a core each busy while the block runs."""

    def __init__(self, k: int):
        self.k = k

    def __enter__(self):
        self.stop = multiprocessing.Event()
        self.procs = [multiprocessing.Process(target=_spin, args=(self.stop,), daemon=True) for _ in range(self.k)]
        for p in self.procs:
            p.start()
        time.sleep(0.2)  # let them reach their cores
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for p in self.procs:
            p.join()


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def quiet_and_busy(cases: dict, repeat: int, spinners: int) -> dict:
    """Median seconds per case: ``quiet``, ``busy`` (beside ``spinners`` processes), ``serial`` (one thread,
    quiet), repetitions interleaved."""
    got = {name: {"quiet": [], "busy": [], "serial": []} for name in cases}
    threads = numba.get_num_threads()
    for fn in cases.values():
        fn()  # compile and warm up
    for _ in range(repeat):
        for name, fn in cases.items():
            got[name]["quiet"].append(_time(fn))
        numba.set_num_threads(1)
        try:
            for name, fn in cases.items():
                got[name]["serial"].append(_time(fn))
        finally:
            numba.set_num_threads(threads)
        with Spinners(spinners):
            for name, fn in cases.items():
                got[name]["busy"].append(_time(fn))
    return {name: {k: statistics.median(v) for k, v in t.items()} for name, t in got.items()}


def floor(quiet: float, serial: float, threads: int, spinners: int, cores: int) -> float:
    """The busy/quiet ratio a fair scheduler allows a case with this quiet speed-up (see the module)."""
    share_1 = min(1.0, cores / (1 + spinners))
    share_t = min(threads, cores, cores * threads / (threads + spinners))
    f = 0.0 if threads == 1 else min(1.0, max(0.0, (1 - quiet / serial) / (1 - 1 / threads)))
    return serial * ((1 - f) / share_1 + f / share_t) / quiet


def scenario_cases(steps: int = 300) -> dict:
    """Each method of the salt aquarium alone (and the softmax kernel), as ``physconv.run`` runs it."""
    base = dict(physconv.scenario.load("salt_aquarium").model_dump(mode="json"))
    base["time"] = {"dt": 1.0, "steps": steps, "save_every": steps // 10}
    cases = {}
    for method in ("explicit", "implicit", "spectral", "gaussian"):
        cases[method] = dict(base, methods=[method])
    cases["monte_carlo (10⁶ particles)"] = dict(base, methods=["monte_carlo"],
                                                monte_carlo={"particles": 10**6, "seed": 1})
    cases["monte_carlo counts (10⁹)"] = dict(base, methods=["monte_carlo"],
                                             monte_carlo={"particles": 10**9, "seed": 1, "mode": "counts"})
    kernel = dict(physconv.scenario.load("softmax_edge_detector").model_dump(mode="json"))
    kernel["grid"] = base["grid"]
    cases["kernel steps (softmax edge)"] = dict(kernel, methods=["explicit"], time=base["time"])
    return {name: (lambda s=s: physconv.run(s, progress=False)) for name, s in cases.items()}


def small_cases() -> dict:
    """Grids below the size where the loops go parallel: their time must not depend on the load at all."""
    out = {}
    for label, (g, D, steps) in {"1-D 200 cells x2000": (Grid((200,), 0.05, "reflecting"), 0.001, 2000),
                                 "2-D 64^2 x500": (Grid((64, 64), 1.0, "reflecting"), 0.2, 500)}.items():
        u = np.random.default_rng(5).random(g.shape)
        out[f"small grid, {label}"] = (lambda u=u, g=g, D=D, steps=steps: explicit.diffuse(
            u, g, diffusivity=D, dt=1.0, steps=steps, save_every=max(1, steps // 20)))
    return out


def peer_case(steps: int = 300) -> dict:
    """FTCS on the salt aquarium's grid by numpy and scipy.ndimage (one thread), checked against physconv."""
    import scipy.ndimage as ndi

    s = physconv.scenario.load("salt_aquarium")
    g, u0 = s.make_grid(), s.initial_field(s.make_grid())
    ry, rx = (float(s.diffusivity) / h**2 for h in g.spacing)  # dt = 1
    stencil = np.array([[0, ry, 0], [rx, 1 - 2 * (ry + rx), rx], [0, ry, 0]])

    def ftcs(n=steps):  # reflecting walls between cells: the ghost cell mirrors its neighbour
        u = u0.copy()
        for _ in range(n):
            u = ndi.correlate(u, stencil, mode="reflect")
        return u

    ours = explicit.diffuse(u0, g, diffusivity=float(s.diffusivity), dt=1.0, steps=20)
    if not np.allclose(ftcs(20), ours, rtol=1e-12, atol=1e-12 * float(np.abs(u0).max())):
        raise AssertionError("the peer's FTCS differs from physconv's explicit steps")
    short = max(1, steps // 10)  # a job as short as a whole explicit run: a time slice is a large part of it
    return {f"peer: scipy.ndimage FTCS x{steps}, one thread": ftcs,
            f"peer: scipy.ndimage FTCS x{short}, one thread": lambda: ftcs(short)}


def run(rows: list, repeat: int, quick: bool, spinners: int = 2) -> None:
    """Measure and print every case beside ``spinners`` busy processes; append the rows."""
    cores, threads = os.cpu_count(), numba.get_num_threads()
    print(f"load: {spinners} spinning processes on {cores} cores, {threads} numba threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}; load average {load()}", flush=True)
    cases = {**scenario_cases(100 if quick else 300), **small_cases(), **peer_case(100 if quick else 300)}
    for name, t in quiet_and_busy(cases, repeat, spinners).items():
        ratio = t["busy"] / t["quiet"]
        bound = floor(t["quiet"], t["serial"], threads, spinners, cores)
        rows.append({"task": "busy machine", "method": name, "quiet_s": t["quiet"], "busy_s": t["busy"],
                     "serial_s": t["serial"], "busy_over_quiet": ratio, "fair_share_floor": bound})
        print(f"{name:<30} quiet {t['quiet'] * 1e3:8.1f} ms  busy {t['busy'] * 1e3:8.1f} ms  "
              f"one thread {t['serial'] * 1e3:8.1f} ms  busy/quiet {ratio:5.2f}  floor {bound:4.2f}", flush=True)
