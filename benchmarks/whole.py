"""Whole runs, start-up included: ``physconv run`` against a py-pde script solving the same problem.

Each run is a fresh Python process (imports, compilation or cache loading, solving, writing the frames to a
file), timed from outside. The problem is a shipped scenario's: physconv's explicit solver alone
(``--set methods=[explicit] --no-plot``) against py-pde's ``solve`` with its numba Euler stepper, the same
initial field, time step and saved frames, written to an HDF5 file by py-pde's ``FileStorage``; and, for
scale, the scenario's whole run (every method and the picture). py-pde's final field is checked equal to
physconv's before anything is timed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PYPDE_SCRIPT = """
import sys, warnings
import numpy as np
import pde
u0, D, dt, steps, every, out = np.load(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), \\
    int(sys.argv[5]), sys.argv[6]
grid = pde.CartesianGrid([[0, n] for n in u0.shape], list(u0.shape), periodic=False)
eq = pde.DiffusionPDE(diffusivity=D, bc="auto_periodic_neumann")
storage = pde.FileStorage(out, write_mode="truncate")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    final = eq.solve(pde.ScalarField(grid, u0), t_range=steps * dt, dt=dt, solver="euler", backend="numba",
                     adaptive=False, tracker=[storage.tracker(interrupts=every * dt)])
np.save(out + ".final.npy", final.data)
"""


def _seconds(cmd, cwd) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def whole_runs(name: str, repeat: int, rows: list) -> None:
    from physconv import io, scenario

    s = scenario.load(name)
    grid = s.make_grid()
    if {b.kind for b in grid.boundaries} != {"reflecting"} or set(grid.spacing) != {1.0} or s.diffusivity is None:
        raise ValueError("the py-pde script solves diffusion with reflecting (Neumann) walls on unit cells only")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.save(tmp / "u0.npy", s.initial_field())
        every, steps, dt = s.time.save_every, s.time.steps, s.time.dt
        (tmp / "pypde.py").write_text(PYPDE_SCRIPT)
        physconv = [sys.executable, "-m", "physconv", "run", name, "--quiet", "--out", str(tmp)]
        runs = {
            "physconv explicit": physconv + ["--no-plot", "--set", "methods=[explicit]"],
            "py-pde solve (numba euler)": [sys.executable, str(tmp / "pypde.py"), str(tmp / "u0.npy"),
                                           repr(float(s.diffusivity)), repr(dt), str(steps), str(every),
                                           str(tmp / "pypde.h5")],
            f"physconv whole run ({len(s.methods)} methods + picture)": physconv,
        }
        for cmd in runs.values():  # once each untimed: caches filled, as for a second run
            subprocess.run(cmd, cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with io.open_result(io.result_path(tmp, s.name, "netcdf")) as ds:  # the whole run's (explicit included)
            ours = ds["explicit"].isel(time=-1).values
        err = float(np.abs(np.load(tmp / "pypde.h5.final.npy") - ours).max())
        assert err < 1e-12, ("py-pde", err)
        times = {k: [] for k in runs}
        for _ in range(repeat):
            for k, cmd in runs.items():
                times[k].append(_seconds(cmd, tmp))
    seconds = {k: statistics.median(v) for k, v in times.items()}
    base = seconds["py-pde solve (numba euler)"]
    for k, t in seconds.items():
        rows.append({"task": "whole run", "size": name, "method": k, "seconds": t, "pypde_over_method": base / t,
                     "check": f"py-pde final field equal to {err:.0e}" if k.startswith("py-pde") else ""})
        print(f"{'whole run':<22}{name:<14}{k:<44}{t:>8.2f} s  py-pde / this {base / t:>6.2f}x", flush=True)
