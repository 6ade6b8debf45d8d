"""Monte Carlo ensembles read back: the replicas reduced to mean ± standard error, and the error of the
mean falling as 1/√R.

An ensemble store (``physconv sweep SCENARIO --replicas R``) holds R independent runs of the scenario's
Monte Carlo method. With :math:`c_r` replica r's frame and :math:`\\mu` the exact expectation,

.. math::
    \\bar c_R = \\frac1R \\sum_{r<R} c_r, \\qquad
    \\mathbb{E}\\,\\lVert \\bar c_R - \\mu \\rVert_2^2 = \\frac1R \\sum_x \\operatorname{Var} c(x),

so the relative L2 error of the mean falls as :math:`R^{-1/2}` with the constant
:math:`\\sqrt{\\sum_x s(x)^2} / \\lVert \\mu \\rVert_2` (s: the replicas' sample standard deviation per cell),
which :func:`reduce` stores beside the measured errors of the first 1, 2, 4, ..., R replicas.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import xarray as xr

MIN_FIT = 3  # values of R' (1, 2, 4, ..., R) a slope is fitted to


def reduce(store: Path, p) -> dict:
    """Mean, standard deviation and standard error per cell over the replicas, the exact expectation,
    and the relative L2 error of the mean of the first R' replicas (R' = 1, 2, 4, ..., R) at the last
    frame, with the error the replicas' spread predicts for it and the fitted slope of log(error)
    against log(R') (-1/2 expected). Written to the store (its other attributes kept)."""
    import dask.array as da

    ds = xr.open_zarr(store, consolidated=False)
    frames = ds["monte_carlo"].data  # (replica, frame, *space), one chunk per replica and frame
    R = frames.shape[0]
    mean, std = da.compute(frames.mean(axis=0), frames.std(axis=0, ddof=1))
    exact = expectation(p.variants[0].scenario)
    used = sorted({2**j for j in range(int(math.log2(R)) + 1)} | {R})
    last = frames[:, -1]
    norm = float(np.linalg.norm(exact[-1]))
    err = [float(np.linalg.norm(np.asarray(last[:n].mean(axis=0)) - exact[-1]) / norm) for n in used]
    spread = float(np.sqrt(np.sum(std[-1] ** 2)) / norm)
    slope = float(np.polyfit(np.log(used), np.log(err), 1)[0]) if len(used) >= MIN_FIT else None
    space = tuple(ds["monte_carlo"].dims[2:])
    out = xr.Dataset({"mean": (("frame",) + space, mean), "std": (("frame",) + space, std),
                      "sem": (("frame",) + space, std / np.sqrt(R)), "exact": (("frame",) + space, exact),
                      "mean_rel_l2": ("replicas_used", np.array(err)),
                      "spread_rel_l2": ("replicas_used", spread / np.sqrt(used))},
                     coords={"replicas_used": np.array(used)})
    out.attrs = dict(ds.attrs, replicas=R)  # to_zarr replaces the store's attributes: keep them
    out.attrs.pop("error_slope", None)
    if slope is not None:  # JSON has no NaN: a slope that cannot be fitted is left out
        out.attrs["error_slope"] = slope
    ds.close()
    out.to_zarr(store, mode="a", zarr_format=2, consolidated=False)
    return {"replicas": R, "used": used, "rel_l2": err, "spread": [spread / math.sqrt(n) for n in used],
            "slope": slope}


def slope_line(slope) -> str:
    """The fitted slope, or why there is none."""
    if slope is None:
        return f"no slope of log(error) against log(R') fitted: it needs at least {MIN_FIT} values of R' (R >= 3)"
    return f"fitted slope of log(error) against log(R'): {slope:.3f} (1/sqrt(R) is -0.5)"


def expectation(s) -> np.ndarray:
    """The exact expectation of the scenario's Monte Carlo frames: the lattice walk's kernel powers, or
    the cell-averaged heat solution for Brownian particles."""
    grid = s.make_grid()
    u0 = s.initial_field(grid)
    keep = s.saved_steps()
    if not s.monte_carlo.lattice:
        from .montecarlo import expectation as brownian_expectation

        return brownian_expectation(u0, grid, diffusivity=s.diffusivity, time=keep * s.time.dt)
    from . import kernels, spectral

    k = s.step_kernel()
    k = kernels.ftcs(s.diffusivity, s.time.dt, grid.spacing) if k is None else k
    return np.asarray(spectral.propagate(u0, grid, kernel=k, steps=keep))


def is_reduced(ds: xr.Dataset) -> bool:
    """Whether the store holds the reduction (a run interrupted before it does not)."""
    return all(v in ds for v in ("mean", "sem", "exact", "mean_rel_l2"))


def summary(ds: xr.Dataset) -> dict:
    """The numbers of a reduced ensemble store (for the table and ``--json``)."""
    used = ds["replicas_used"].values.tolist()
    last = {v: ds[v].isel(frame=-1).values for v in ("mean", "sem", "exact")}
    z = (last["mean"] - last["exact"]) / np.where(last["sem"] > 0, last["sem"], np.inf)
    spread = ds["spread_rel_l2"].values.tolist() if "spread_rel_l2" in ds else [None] * len(used)
    return {"replicas": int(ds.attrs.get("replicas", ds.sizes.get("replica", 0))),
            "replicas_used": used, "mean_rel_l2": ds["mean_rel_l2"].values.tolist(), "spread_rel_l2": spread,
            "error_slope": float(ds.attrs["error_slope"]) if "error_slope" in ds.attrs else None,
            "last_frame": {"time": float(ds["time"].isel(replica=0).values[-1]),
                           "max_sem": float(last["sem"].max()), "max_abs_z": float(np.abs(z).max()),
                           "cells": int(z.size)}}


def table(ds: xr.Dataset) -> str:
    """The error of the mean of the first R' replicas against what their spread predicts, and the slope."""
    from . import metrics

    s = summary(ds)
    rows = [(str(n), f"{e:.3e}", "" if p is None else f"{p:.3e}", "" if p is None else f"{e / p:.2f}")
            for n, e, p in zip(s["replicas_used"], s["mean_rel_l2"], s["spread_rel_l2"])]
    text = metrics.format_rows(("replicas R'", "rel L2 of the mean", "spread/sqrt(R')", "ratio"), rows, left=())
    last = s["last_frame"]
    return (f"{ds.attrs.get('title', 'ensemble')}: {s['replicas']} replicas, last frame t = {last['time']:g}\n"
            f"{text}\n{slope_line(s['error_slope'])}\n"
            f"largest standard error of the mean {last['max_sem']:.3e}; largest |mean - exact| / sem over "
            f"{last['cells']} cells {last['max_abs_z']:.2f}")
