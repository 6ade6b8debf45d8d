"""Observed frames for the inverse problems: a field at several times, its spacing and its walls.

Read from a physconv result (one method's variable), from any netCDF/Zarr with a ``time`` dimension,
or from two or more ``.npy`` files or pictures with a time step given. Everything is checked here once;
the estimators receive plain arrays.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import PhysconvError
from ..grid import Grid
from ..units import Units, of as _units_of

NOISE = ("gaussian", "poisson", "walk")
MAX_CELLS = 2**26  # frames x cells read at most (64 Mi values, 512 MiB as float64)


class InverseError(PhysconvError):
    """Frames or options an inverse problem cannot use."""


@dataclass(frozen=True)
class Frames:
    """Frames ``data`` (``(T, *shape)``) at ``times`` (``T``, increasing) on ``grid``.

    ``noise`` is ``'gaussian'`` (white, one unknown level, independent between frames), ``'poisson'``
    (independent counts per frame, a camera's photons: variance proportional to the value) or ``'walk'``
    (the frames of one particle walk, physconv's ``monte_carlo``: each frame is exact as the start of the
    next interval, and the step's randomness, proportional to the counts, is the noise);
    ``counts_per_unit`` turns a value into a count when known, else None (the level is estimated).
    """

    data: np.ndarray
    times: np.ndarray
    grid: Grid
    source: str = "frames"
    noise: str = "gaussian"
    counts_per_unit: float | None = None
    units: Units = Units()  # what spacing and times are in (a result's length_units, time_units)

    @property
    def intervals(self) -> np.ndarray:
        """Time since the first frame, per frame (the first 0)."""
        return self.times - self.times[0]


def make(data, times, spacing=1.0, boundary="reflecting", source="frames", noise="gaussian",
         counts_per_unit=None, boundary_value=None, units: Units | None = None) -> Frames:
    """:class:`Frames` from arrays, checked: at least two frames of one shape (1-D to 3-D), finite values
    (NaN refused with where it is), strictly increasing times, at least one frame that is not constant."""
    a = np.asarray(data, dtype=float)
    if a.ndim < 2 or a.shape[0] < 2:
        raise InverseError(f"{source}: at least two frames are needed (got {a.shape[0] if a.ndim else 0}); "
                           "one frame says nothing about how the field moves")
    if not 2 <= a.ndim <= 4:
        raise InverseError(f"{source}: frames must be 1-D, 2-D or 3-D fields, got {a.ndim - 1}-D")
    if a[0].size * a.shape[0] > MAX_CELLS:
        raise InverseError(f"{source}: {a.shape[0]} frames of {a[0].size} cells are more than the {MAX_CELLS} "
                           "values read at most; crop or take fewer frames")
    bad = ~np.isfinite(a)
    if bad.any():
        i = np.argwhere(bad)[0]
        raise InverseError(f"{source}: frame {i[0]} holds {int(bad[i[0]].sum())} missing or non-finite values "
                           f"(the first at cell {tuple(int(v) for v in i[1:])}); fill or crop them first")
    t = np.asarray(times, dtype=float).ravel()
    if t.shape != (a.shape[0],) or not np.all(np.isfinite(t)):
        raise InverseError(f"{source}: {a.shape[0]} frames need {a.shape[0]} finite times, got {np.asarray(times).tolist()}")
    if np.any(np.diff(t) <= 0):
        raise InverseError(f"{source}: the frames' times must increase (got {t.tolist()}); a zero or negative time "
                           "between frames says nothing about a rate")
    if all(np.ptp(f) == 0 for f in a):
        raise InverseError(f"{source}: every frame is constant: a uniform field stays uniform under any "
                           "diffusivity, so the frames carry no information about it")
    if noise not in NOISE:
        raise InverseError(f"noise must be one of {', '.join(NOISE)}, got {noise!r}")
    if noise != "gaussian" and np.any(a < 0):
        raise InverseError(f"{source}: {noise} noise needs counts, but the frames hold negative values")
    try:
        grid = Grid(a.shape[1:], spacing=spacing, boundary=boundary, boundary_value=boundary_value)
    except PhysconvError as exc:
        raise InverseError(f"{source}: {exc}") from None
    return Frames(a, t, grid, source, noise, counts_per_unit, units or Units())


def load(paths, var=None, dt=None, spacing=None, boundary=None, noise=None) -> Frames:
    """Frames from ``paths``: one result or netCDF/Zarr file with a ``time`` dimension, or two or more
    ``.npy`` files or pictures (then ``dt`` is needed; ``spacing`` defaults to 1 and ``boundary`` to
    reflecting, each said in a warning line when taken by default)."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise InverseError("give a result file, or two or more frames (.npy or pictures)")
    for p in paths:
        if not p.exists():
            raise InverseError(f"{p}: no such file")
    if len(paths) == 1 and is_dataset(paths[0]):
        return _from_dataset(paths[0], var, dt, spacing, boundary, noise)
    if len(paths) == 1:
        raise InverseError(f"{paths[0]}: one frame says nothing about how the field moves; give two or more "
                           "frames, or a result file with a time dimension")
    if dt is None:
        raise InverseError("--dt is needed with frames from files: the time between consecutive frames")
    if not (math.isfinite(dt) and dt > 0):
        raise InverseError(f"--dt must be a positive time between frames, got {dt}")
    frames = [read_frame(p) for p in paths]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        listed = ", ".join(f"{p.name} {f.shape}" for p, f in zip(paths, frames))
        raise InverseError(f"the frames have different shapes ({listed}); they must show the same cells")
    if spacing is None:
        warnings.warn("--spacing not given: cells of size 1 (lengths and D in cells)", stacklevel=2)
    if boundary is None:
        warnings.warn("--boundary not given: reflecting walls (no flux through the frame's edges)", stacklevel=2)
    return make(np.stack(frames), dt * np.arange(len(frames)), 1.0 if spacing is None else spacing,
                boundary or "reflecting", source=", ".join(p.name for p in paths), noise=noise or "gaussian")


def is_dataset(path) -> bool:
    """A netCDF file or a Zarr store (a folder), as opposed to one frame."""
    path = Path(path)
    return path.is_dir() or path.suffix.lower() in (".nc", ".nc4", ".h5", ".zarr")


def read_frame(p: Path) -> np.ndarray:
    """One frame from a ``.npy`` file or a picture (y up). A picture's grey levels are read as they are
    stored: 8-bit ones over 255, 16-bit ones over 65535, integer and float ones unscaled, so that frames
    stay comparable (a picture scaled to its own range would change the propagator between frames)."""
    if p.suffix.lower() == ".npy":
        try:
            a = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InverseError(f"{p}: not a readable .npy array ({' '.join(str(exc).split())})") from None
        if a.dtype.kind not in "biuf":
            raise InverseError(f"{p}: a frame must hold real numbers, got {a.dtype}")
        return np.asarray(a, dtype=float)
    from PIL import Image, UnidentifiedImageError

    from ..initial import MAX_IMAGE_PIXELS, picture_size, read_picture

    try:
        rows, cols = picture_size(p)
        if rows * cols > MAX_IMAGE_PIXELS:
            raise InverseError(f"{p} is {cols} x {rows} pixels; at most {MAX_IMAGE_PIXELS} pixels are read")
        with Image.open(p) as im:
            raw = im.mode in ("F", "I") or (im.mode.startswith("I;") and not im.mode.startswith("I;16"))
            if raw:
                return np.flipud(np.asarray(im, dtype=float))
        return read_picture(p, (rows, cols))
    except (ValueError, UnidentifiedImageError, OSError) as exc:
        raise InverseError(f"{p}: {' '.join(str(exc).split())}") from None


def _from_dataset(path: Path, var, dt, spacing, boundary, noise) -> Frames:
    import xarray as xr

    try:
        engine = "zarr" if path.is_dir() else "h5netcdf"
        with xr.open_dataset(path, engine=engine, **({"consolidated": False} if engine == "zarr" else {})) as ds:
            ds = ds.load()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InverseError(f"{path}: not a readable netCDF/Zarr file ({' '.join(str(exc).split())})") from None
    candidates = [v for v in ds.data_vars if "time" in ds[v].dims and ds[v].ndim >= 2]
    if "methods" in ds.attrs:
        try:
            candidates = [m for m in json.loads(ds.attrs["methods"]) if m in ds] or candidates
        except (TypeError, ValueError):
            pass
    if var is None:
        if not candidates:
            raise InverseError(f"{path}: no variable with a time dimension")
        var = candidates[0]
    if var not in ds or "time" not in ds[var].dims:
        raise InverseError(f"{path}: --var {var!r} is not a variable with a time dimension; "
                           f"valid: {', '.join(candidates) or 'none'}")
    da = ds[var].transpose("time", ...)
    times = np.asarray(da["time"].values, dtype=float)
    attrs = ds.attrs
    if spacing is None:
        spacing = tuple(float(s) for s in np.atleast_1d(attrs.get("spacing", 1.0)))
        spacing = spacing[0] if len(spacing) == 1 else spacing
    if boundary is None:
        try:
            boundary = json.loads(attrs["boundary"]) if "boundary" in attrs else "reflecting"
        except (TypeError, ValueError):
            raise InverseError(f"{path}: its boundary attribute is unreadable; give --boundary") from None
        if "boundary" not in attrs:
            warnings.warn(f"{path}: no boundary attribute: reflecting walls assumed (give --boundary)", stacklevel=2)
    if dt is not None:
        times = dt * np.arange(len(times))
    counts = None
    if noise is None:
        noise = "walk" if var == "monte_carlo" else "gaussian"
    if noise == "poisson" and "mc_particles" in attrs and "mass_initial" in attrs:
        cell = float(np.prod(np.broadcast_to(np.asarray(spacing, dtype=float), (da.ndim - 1,))))
        counts = float(attrs["mc_particles"]) / float(attrs["mass_initial"]) * cell
    return make(da.values, times, spacing, boundary, source=f"{path.name}:{var}", noise=noise, counts_per_unit=counts,
                boundary_value=attrs.get("boundary_value"), units=_units_of(attrs))
