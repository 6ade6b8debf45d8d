"""What theory predicts for each approximate pair of a result (:mod:`physconv.theory`), read from the result
alone: the step kernel, the medium (DESIGN §11) and the fields at each saved time."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .grid import Grid


def grid_of(ds: xr.Dataset) -> Grid:
    """The grid (with its walls) a result was computed on."""
    boundary = json.loads(ds.attrs["boundary"])
    value = ds.attrs.get("boundary_value")
    return Grid(tuple(ds["initial"].shape), tuple(np.atleast_1d(ds.attrs["spacing"]).tolist()),
                boundary, None if value is None else float(value))


def methods_of(ds: xr.Dataset) -> list[str]:
    return json.loads(ds.attrs["methods"])


def is_medium(ds: xr.Dataset) -> bool:
    """Whether a result is of a medium (DESIGN §11)."""
    return "medium" in ds.attrs


def _step_kernel(ds: xr.Dataset, grid: Grid) -> np.ndarray:
    """The probability kernel of one step: the scenario's, or FTCS from D and dt."""
    from .kernels import ftcs

    if "kernel" in ds:
        return ds["kernel"].values
    return ftcs(float(ds.attrs["diffusivity"]), float(ds.attrs["dt"]), grid.spacing)


def _predictor(ds: xr.Dataset, grid: Grid):
    """A function of ``steps`` (and the fields at them) giving the predicted ``a - b`` of the approximate
    pairs (physconv.theory)."""
    from . import theory

    methods = set(methods_of(ds))
    u0, dt = ds["initial"].values, float(ds.attrs["dt"])
    medium = is_medium(ds)
    against_sd = theory.semidiscrete_errors(medium_of(ds), dt) if "semidiscrete" in methods else None
    adi_medium = against_sd.adi_at(u0) if against_sd is not None and medium and "implicit" in methods else None
    if "gaussian" not in methods and against_sd is None:
        return lambda steps, fields=None: {}
    D = np.atleast_1d(ds.attrs["diffusivity_per_axis"]).astype(float)
    kernel_error = theory.kernel_error_at(u0, grid, _step_kernel(ds, grid), D, dt, _drift(ds, grid)) \
        if methods & {"explicit", "spectral"} and "gaussian" in methods else None
    implicit_error = theory.implicit_error_at(u0, grid, float(ds.attrs["diffusivity"]), dt) \
        if "implicit" in methods and not medium else None
    adi = theory.adi_semidiscrete_error_at(u0, grid, float(ds.attrs["diffusivity"]), dt) \
        if {"implicit", "semidiscrete"} <= methods and not medium else None

    def predict(steps, fields=None) -> dict[str, np.ndarray]:
        out = {}
        if kernel_error is not None:
            out["explicit-gaussian"] = out["spectral-gaussian"] = kernel_error(steps)
        if implicit_error is not None and "gaussian" in methods:
            out["implicit-gaussian"] = implicit_error(steps)
            if "spectral" in methods:
                out["implicit-spectral"] = out["implicit-gaussian"] - out["spectral-gaussian"]
        if against_sd is not None and fields is not None:
            t = np.asarray(steps, dtype=float) * dt
            u = fields["semidiscrete"]
            if "explicit" in methods:
                out["explicit-semidiscrete"] = against_sd.explicit(u, float(t[0]))[None]
            if "implicit" in methods:
                out["implicit-semidiscrete"] = adi(steps) if adi is not None else adi_medium(float(t[0]))[None]
        return out

    return predict


def _drift(ds: xr.Dataset, grid: Grid):
    """The velocity per axis of a uniform medium's result (None when still)."""
    if "velocity_field" not in ds:
        return None
    v = ds["velocity_field"].values.reshape(grid.ndim, -1)
    return v[:, 0].copy()


def medium_of(ds: xr.Dataset):
    """The :class:`physconv.medium.Medium` a result was computed in (a scalar D's for a plain result)."""
    from . import medium

    grid = grid_of(ds)
    if not is_medium(ds):
        return medium.build(grid, float(ds.attrs["diffusivity"]))
    v = ds["velocity_field"].values if "velocity_field" in ds else None
    return medium.build(grid, ds["diffusivity_field"].values, ds["solid"].values.astype(bool),
                        str(ds.attrs.get("obstacle_wall", "reflecting")), v)
