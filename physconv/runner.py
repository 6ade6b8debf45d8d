"""Run every method of a scenario on the same initial field; return one xarray Dataset.

Layout (DESIGN §5): dims ``time`` then the spatial dims; coords ``time``
(physical), ``step`` (on time) and the cell centres; one data variable per
method, plus ``initial`` (the field at t = 0) and ``kernel`` (the step's
probability kernel, when the scenario gives one). Attributes carry the
scenario text, the walls, D, dt, the mesh ratios, versions and the creation
time, so that a result file explains itself.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from datetime import datetime, timezone
from importlib import metadata

import numpy as np
import xarray as xr
from xarray.core import indexing

from . import __version__
from . import kernels as _k
from .errors import PhysconvError
from .grid import Grid, all_finite
from .run_methods import _METHODS, step_kernel  # noqa: F401  (the methods, each from plain arrays)
from .scenario import Scenario
from . import notebook as _notebook  # noqa: F401  (registers ds.physconv, the notebook view of a result)

LONG_NAMES = {
    "explicit": "concentration, explicit steps (FTCS or kernel)",
    "implicit": "concentration, Crank-Nicolson ADI",
    "spectral": "concentration, exact discrete propagator",
    "semidiscrete": "concentration, exp(tL) of the space-discretised equation",
    "gaussian": "concentration, heat-kernel convolution (continuous space)",
    "monte_carlo": "concentration, Monte Carlo particles",
}
STEPPING = ("explicit", "implicit", "monte_carlo")  # methods whose cost grows with the steps


class RunError(PhysconvError):
    """A method produced NaN or infinite values."""


def run(s, progress: bool | None = None, mc_seed=None, store=None) -> xr.Dataset:
    """Advance the scenario's initial field by each of its methods.

    Parameters
    ----------
    s : Scenario, or what :func:`physconv.scenario.load` takes
        A validated scenario, a scenario file or shipped name, or a dict of its keys (whose
        ``initial`` may be a numpy array).
    progress : bool, optional
        None (default): a progress bar when stderr is a terminal or in a Jupyter
        notebook (a widget there), else one line per method as it starts and as
        it ends, with its time (a log). True: always the bar. False: nothing.
    mc_seed : int or numpy.random.SeedSequence, optional
        Seed of the Monte Carlo method instead of ``monte_carlo.seed`` (ensemble replicas).
    store : path or dict, optional
        A new result file (``.nc``, or ``.zarr``) that each method's frames are written to as they
        are reached, so that memory holds a method's working buffers and one frame, not the whole
        run. The Dataset returned then reads from it lazily (close it when done). Or a dict of
        method name to frames (``target[i] = frame`` as each is reached, ``target[key]`` reads back,
        with ``shape`` and ``dtype``): the Dataset returned reads them back as indexed (a frame read is
        one ``target[key]``; no dask, so it is safe inside a task of a dask cluster).

    Returns
    -------
    xarray.Dataset
    """
    if not isinstance(s, Scenario):
        from .scenario import load

        s = load(s)
    grid = s.make_grid()
    u0 = s.initial_field(grid)
    kernel = step_kernel(s, grid)
    keep = s.saved_steps()
    from ._progress import bar_class, mode

    shown = mode(progress)
    bar_on, lines = shown == "bar", shown == "lines"
    if progress is not False and compiled_code_is_cold():
        _say("first run: building the compiled loops once (up to a minute); later runs reuse them")
    total = s.time.steps * sum(m in STEPPING for m in s.methods)
    tqdm = bar_class()

    file = None
    if isinstance(store, dict):
        file = _Targets(store)
    elif store is not None:
        from .io import FrameFile

        dims, shape = ("time",) + grid.dims, (len(keep),) + grid.shape
        file = FrameFile(store, to_dataset(s, grid, u0, kernel, keep, {}, methods=s.methods),
                         {m: (dims, shape, _attrs(m)) for m in s.methods})
    frames = {}
    try:
        with tqdm(total=total, disable=not bar_on or total == 0, unit="step", desc=s.name, leave=False) as bar:
            for method in s.methods:
                bar.set_postfix_str(method)
                start, clock = bar.n, time.perf_counter()
                if lines:
                    _say(f"{s.name}: {method} started")
                out = None if file is None else _Checked(file[method], method, keep, _per_value(s, grid, u0, method))
                with np.errstate(all="ignore"):  # overflow is reported as a RunError naming the step
                    extra = {"seed": mc_seed} if method == "monte_carlo" and mc_seed is not None else {}
                    result = _METHODS[method](s, grid, u0, kernel, keep,
                                              lambda n, st=start: bar.update(st + n - bar.n), out=out, **extra)
                if file is None:
                    _check_finite(method, result, keep)
                    frames[method] = result
                if lines:
                    _say(f"{s.name}: {method} done in {time.perf_counter() - clock:.2f} s")
    finally:
        if file is not None:
            file.close()
    if isinstance(store, dict):
        return to_dataset(s, grid, u0, kernel, keep, {m: _lazy(store[m]) for m in s.methods})
    if file is not None:
        from .io import open_result

        return open_result(store, lazy=True)
    return to_dataset(s, grid, u0, kernel, keep, frames)


def _lazy(target):
    """Frames read from ``target`` (``target[key]``, ``shape``, ``dtype``) as they are indexed, as xarray's
    file backends read theirs."""
    from xarray.backends import BackendArray

    class Frames(BackendArray):
        def __init__(self):
            self.shape, self.dtype = tuple(target.shape), np.dtype(target.dtype)

        def __getitem__(self, key):
            return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC,
                                                      lambda k: np.asarray(target[k]))

    return indexing.LazilyIndexedArray(Frames())


class _Targets(dict):
    """Frame targets given by the caller, used as a :class:`physconv.io.FrameFile` is (nothing to close)."""

    def close(self) -> None:
        pass


class _Checked:
    """Frames written to ``target`` (``target[i] = frame``) after a check that they are finite."""

    def __init__(self, target, method: str, keep, scale: float = 1.0):
        self.target, self.method, self.keep, self.scale = target, method, keep, scale

    def __setitem__(self, i, frame):
        frame = np.asarray(frame)
        if self.scale != 1.0:
            frame = frame * self.scale
        if not all_finite(frame):
            after = f" (after step {self.keep[i - 1]})" if i else ""
            raise RunError(f"{self.method}: NaN or overflow by step {self.keep[i]}{after}")
        self.target[i] = frame


def _per_value(s, grid, u0, method: str) -> float:
    """What one unit of a method's frames is in concentration: for Monte Carlo counts, one particle
    (as ``ParticleRun.concentration`` converts them), else 1."""
    if method != "monte_carlo":
        return 1.0
    return grid.mass(u0) / int(s.monte_carlo.particles) / grid.cell_volume


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def compiled_code_is_cold() -> bool:
    """True when no compiled loop of physconv is in Numba's cache yet (the first run compiles them)."""
    from pathlib import Path

    return not any(Path(__file__).parent.rglob("*.nbi"))


def effective_diffusivity(s: Scenario, grid: Grid, kernel) -> np.ndarray:
    """D per axis: the scenario's, a uniform medium's (its mean over the fluid cells when it is not
    uniform), or the kernel's ``diag(Sigma) / (2 dt)``."""
    m = s.medium(grid)
    if m is not None:
        return m.diffusivity[:, ~m.solid].mean(axis=1)
    if kernel is None:
        return np.full(grid.ndim, float(s.diffusivity))
    return np.diag(_k.moments(kernel, grid.spacing, s.time.dt).diffusivity).copy()


def _check_finite(method, frames, keep):
    bad = ~np.isfinite(frames.reshape(len(frames), -1)).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        after = f" (after step {keep[i - 1]})" if i else ""
        raise RunError(f"{method}: NaN or overflow by step {keep[i]}{after}")


def _attrs(method: str) -> dict:
    return {"long_name": LONG_NAMES[method], "units": "1"}


def to_dataset(s: Scenario, grid: Grid, u0, kernel, keep, frames: dict, methods=None) -> xr.Dataset:
    """Assemble the result Dataset (DESIGN §5); ``methods`` (default: those of ``frames``) names the
    methods of the result, also when their frames are written elsewhere."""
    methods = list(frames) if methods is None else list(methods)
    dims = grid.dims
    units = s.unit_system()
    coords = {"time": ("time", keep * s.time.dt, {"long_name": "time", "units": units.cf("time"), "axis": "T"}),
              "step": ("time", keep, {"long_name": "time step number"})}
    for name, c, d in zip(dims, grid.coords().values(), grid.spacing):
        coords[name] = (name, c, {"long_name": f"cell-centre {name}", "units": units.cf("length"),
                                  "axis": name.upper(), "spacing": d})
    data = {m: (("time",) + dims, f if isinstance(f, indexing.LazilyIndexedArray) else np.asarray(f, dtype=float),
                _attrs(m)) for m, f in frames.items()}  # frames read as indexed stay so
    data["initial"] = (dims, u0, {"long_name": "initial concentration", "units": "1"})
    if kernel is not None:
        kdims = tuple(f"k{d}" for d in dims)
        data["kernel"] = (kdims, kernel, {"long_name": "probability kernel of one step"})
        if s.kernel is not None:
            data["kernel_weights"] = (kdims, s.kernel_weights(), {"long_name": "kernel weights as given"})
    medium = s.medium(grid)
    if medium is not None:
        data.update(_medium_variables(medium, dims, units))
    ds = xr.Dataset(data, coords=coords)
    r = [float(v) for v in np.atleast_1d(_mesh_ratios(s, grid, kernel))]
    ds.attrs = {
        "title": s.name,
        "description": s.description,
        "Conventions": "CF-1.10",
        "scenario": s.text,
        "methods": json.dumps(methods),
        "boundary": json.dumps({name: b.kind for name, b in zip(grid.dims, grid.boundaries)}),
        "walls": json.dumps({name: {"rule": b.describe(), "positions": list(pos)}
                             for name, b, pos in zip(grid.dims, grid.boundaries, grid.wall_positions())}),
        "spacing": np.array(grid.spacing),
        "dt": s.time.dt,
        "steps": s.time.steps,
        "cfl": np.array(r),
        "diffusivity_per_axis": effective_diffusivity(s, grid, kernel),
        "mass_initial": grid.mass(u0),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "software": f"physconv {__version__}",
        "versions": json.dumps(dict(_versions())),
        **units.attrs(),
    }
    if not units.dimensionless:
        ds.attrs["diffusivity_units"] = units.cf("diffusivity")
    if s.diffusivity is not None and medium is None:
        ds.attrs["diffusivity"] = float(s.diffusivity)
    if medium is not None:
        ds.attrs.update({"medium": "uniform" if medium.uniform else "non-uniform", "obstacle_wall": medium.wall})
    if s.dtype != "float64":
        ds.attrs["explicit_dtype"] = s.dtype
    if s.kernel is not None:
        made = s.kernel_probabilities()
        ds.attrs.update({"kernel_normalize": made.method, "kernel_temperature": float(s.kernel.temperature)})
    if s.boundary_value is not None:
        ds.attrs["boundary_value"] = float(s.boundary_value)
    if "monte_carlo" in methods:
        m = s.monte_carlo
        ds.attrs.update({"mc_particles": m.particles, "mc_seed": m.seed, "mc_mode": m.mode,
                         "mc_lattice": int(m.lattice), "mc_placement": m.placement, "mc_bridge": int(m.bridge)})
    return ds


def _medium_variables(m, dims, units) -> dict:
    """The medium's arrays (DESIGN §11), so that a result can rebuild its operator."""
    axis = ("axis",) + dims
    out = {"solid": (dims, m.solid.astype(np.int8), {"long_name": "solid cell (1) or fluid (0)"}),
           "diffusivity_field": (axis, m.diffusivity, {"long_name": "diffusivity per axis and cell",
                                                       "units": units.cf("diffusivity")})}
    if m.velocity is not None:
        out["velocity_field"] = (axis, m.velocity, {"long_name": "velocity per axis at the cell centres",
                                                    "units": units.cf("velocity")})
    return out


def _mesh_ratios(s, grid, kernel):
    """``D_a dt / dx_a^2`` per axis (for a kernel: its effective D)."""
    D = effective_diffusivity(s, grid, kernel)
    return D * s.time.dt / np.array(grid.spacing) ** 2


@functools.cache
def _versions() -> dict:
    """Versions of Python and the packages that make a result (read once per process: 3 ms each)."""
    out = {"python": sys.version.split()[0]}
    for pkg in ("physconv", "numpy", "scipy", "numba", "xarray", "h5netcdf", "zarr"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out
