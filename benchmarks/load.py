"""Speed on a machine that is not idle: each method's time with other processes spinning beside it.

Every repetition times each case on a quiet machine, then starts the spinning processes and times each
case again, so that a drift of the machine hurts both alike; the medians are compared. Two figures
belong together in a row: busy/quiet, and the *floor* a fair scheduler sets. With ``k`` spinning
processes on ``c`` cores, a process of ``t`` threads gets ``share = min(t, c, c t / (t + k))`` cores, so
a loop whose ``t`` threads ran ``S`` times faster than one thread (on a quiet machine) takes at least
``S / share`` times its quiet time, and never less than its quiet time: floor ``max(1, S / share)``.
With 2 threads, 2 spinners and 2 cores the share is one core and the floor is the speed-up itself: a
loop that scales perfectly cannot get below 2 there. A ratio near its floor means the threads lose
nothing waiting for each other; the failure this row watches for is a ratio several times the floor.
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
    """The busy/quiet ratio a fair scheduler allows a loop with this quiet speed-up (see the module)."""
    share = min(threads, cores, cores * threads / (threads + spinners))
    return max(1.0, serial / quiet / share)


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


def run(rows: list, repeat: int, quick: bool, spinners: int = 2) -> None:
    """Measure and print every case beside ``spinners`` busy processes; append the rows."""
    cores, threads = os.cpu_count(), numba.get_num_threads()
    print(f"load: {spinners} spinning processes on {cores} cores, {threads} numba threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}; load average {load()}", flush=True)
    cases = {**scenario_cases(100 if quick else 300), **small_cases()}
    for name, t in quiet_and_busy(cases, repeat, spinners).items():
        ratio = t["busy"] / t["quiet"]
        bound = floor(t["quiet"], t["serial"], threads, spinners, cores)
        rows.append({"task": "busy machine", "method": name, "quiet_s": t["quiet"], "busy_s": t["busy"],
                     "serial_s": t["serial"], "busy_over_quiet": ratio, "fair_share_floor": bound})
        print(f"{name:<30} quiet {t['quiet'] * 1e3:8.1f} ms  busy {t['busy'] * 1e3:8.1f} ms  "
              f"one thread {t['serial'] * 1e3:8.1f} ms  busy/quiet {ratio:5.2f}  floor {bound:4.2f}", flush=True)
