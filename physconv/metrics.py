"""How far the methods of a result are from each other, and whether that is what theory says.

DESIGN §3 pairs the methods:

==================  ===========  ==============================================
pair                kind         expected
==================  ===========  ==============================================
explicit–spectral   exact        equal to round-off (<= 1e-10 max|u0|)
implicit–own G      exact        its amplification factor in the basis, to round-off
implicit–gaussian   approx       second order in dt and dx
explicit–gaussian   approx       O(dx^2) (and O(dt)) as the grid is refined
spectral–gaussian   approx       (used when explicit is absent)
monte_carlo–…       statistical  lattice: explicit; Brownian: cell-averaged heat
==================  ===========  ==============================================

:func:`compare` reads only the result Dataset.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from . import stats
from .grid import Grid

EXACT_TOL = 1e-10
ALPHA = 1e-6


def grid_of(ds: xr.Dataset) -> Grid:
    """The grid (with its walls) a result was computed on."""
    boundary = json.loads(ds.attrs["boundary"])
    value = ds.attrs.get("boundary_value")
    return Grid(tuple(ds["initial"].shape), tuple(np.atleast_1d(ds.attrs["spacing"]).tolist()),
                boundary, None if value is None else float(value))


def methods_of(ds: xr.Dataset) -> list[str]:
    return json.loads(ds.attrs["methods"])


def pairs(methods) -> list[tuple[str, str, str]]:
    """``(a, b, kind)`` for the pairs DESIGN §3 says must agree, among ``methods``."""
    out = []
    if {"explicit", "spectral"} <= set(methods):
        out.append(("explicit", "spectral", "exact"))
    for a in ("explicit", "implicit", "spectral"):
        if a in methods and "gaussian" in methods and not (a == "spectral" and "explicit" in methods):
            out.append((a, "gaussian", "approx"))
    if {"implicit", "spectral"} <= set(methods):
        out.append(("implicit", "spectral", "approx"))
    return out


def compare(ds: xr.Dataset) -> xr.Dataset:
    """Differences between the paired methods per saved time, mass drift per method, Monte Carlo statistics.

    Returns
    -------
    xarray.Dataset
        ``max_abs_diff`` and ``rel_l2`` on (pair, time); ``mass`` and ``mass_drift`` on
        (method, time); for Monte Carlo ``mc_max_abs_z``, ``mc_z_bound``, ``mc_chi2_p``
        and ``mc_rel_l2`` / ``mc_expected_rel_l2`` on time. Attribute ``scale`` is max|u0|.
    """
    methods = methods_of(ds)
    grid = grid_of(ds)
    scale = float(np.abs(ds["initial"]).max()) or 1.0
    space = list(grid.dims)
    rows = [(f"{a}-{b}", kind, ds[a].values, ds[b].values) for a, b, kind in pairs(methods)]
    if "implicit" in methods:
        from .solvers import implicit

        own = implicit.exact(ds["initial"].values, grid, diffusivity=float(ds.attrs["diffusivity"]),
                             dt=float(ds.attrs["dt"]), steps=ds["step"].values)
        rows.insert(1 if "spectral" in methods else 0, ("implicit-amplification", "exact", ds["implicit"].values, own))
    names, kinds, maxd, rel = [], [], [], []
    axes = tuple(range(1, 1 + grid.ndim))
    for name, kind, a, b in rows:
        d = a - b
        names.append(name)
        kinds.append(kind)
        maxd.append(np.abs(d).max(axis=axes))
        norm = np.sqrt((b**2).sum(axis=axes))
        rel.append(np.sqrt((d**2).sum(axis=axes)) / np.where(norm > 0, norm, 1.0))
    out = xr.Dataset(coords={"time": ds["time"], "step": ds["step"]})
    if names:
        out["max_abs_diff"] = (("pair", "time"), np.array(maxd), {"long_name": "max |a - b|"})
        out["rel_l2"] = (("pair", "time"), np.array(rel), {"long_name": "||a - b|| / ||b||"})
        out = out.assign_coords(pair=names, pair_kind=("pair", kinds))
    mass = np.array([ds[m].sum(space).values * grid.cell_volume for m in methods])
    out["mass"] = (("method", "time"), mass)
    m0 = float(ds.attrs["mass_initial"])
    out["mass_drift"] = (("method", "time"), (mass - m0) / (abs(m0) or 1.0), {"long_name": "(M(t) - M(0)) / M(0)"})
    out = out.assign_coords(method=methods)
    attrs = {"scale": scale, "exact_tolerance": EXACT_TOL, "alpha": ALPHA,
             "conserving": int(all(b.conserves_mass for b in grid.boundaries))}
    if "monte_carlo" in methods:
        mc_stats = _monte_carlo_stats(ds, grid)
        attrs.update(mc_stats.attrs)
        out = out.merge(mc_stats)
    out.attrs = attrs
    return out


def monte_carlo_reference(ds: xr.Dataset, grid: Grid) -> tuple[str, np.ndarray]:
    """The exact expectation of the Monte Carlo frames and its name."""
    if not ds.attrs.get("mc_lattice", 1):
        from . import montecarlo as mc

        D = float(ds.attrs["diffusivity"])
        return "cell-averaged heat", mc.expectation(ds["initial"].values, grid, diffusivity=D, time=ds["time"].values)
    for name in ("explicit", "spectral"):
        if name in ds:
            return name, ds[name].values
    from . import spectral
    from .kernels import ftcs

    k = ds["kernel"].values if "kernel" in ds else ftcs(float(ds.attrs["diffusivity"]), float(ds.attrs["dt"]),
                                                       grid.spacing)
    return "exact lattice", spectral.propagate(ds["initial"].values, k, boundary=grid, steps=ds["step"].values)


def _monte_carlo_stats(ds, grid) -> xr.Dataset:
    name, exact = monte_carlo_reference(ds, grid)
    n = int(ds.attrs["mc_particles"])
    per = float(ds.attrs["mass_initial"]) / n / grid.cell_volume  # concentration of one particle
    rows = []
    for obs, ex in zip(ds["monte_carlo"].values, exact):
        c = stats.check(np.rint(obs / per), ex / per, n, ALPHA)
        rows.append((c.max_abs_z, c.z_bound, c.p_value, c.relative_l2, c.expected_relative_l2, c.alive_z))
    r = np.array(rows).T
    out = xr.Dataset({
        "mc_max_abs_z": ("time", r[0]), "mc_z_bound": ("time", r[1]), "mc_chi2_p": ("time", r[2]),
        "mc_rel_l2": ("time", r[3]), "mc_expected_rel_l2": ("time", r[4]), "mc_alive_z": ("time", r[5]),
    })
    out.attrs["mc_reference"] = name
    return out


def table(cmp: xr.Dataset) -> str:
    """The comparison as a plain-text table (last saved time; worst case over times for checks)."""
    scale = cmp.attrs["scale"]
    lines = [f"{'pair':<28}{'kind':<8}{'max|diff|/max|u0|':>19}{'rel L2 (last)':>15}  verdict"]
    if "pair" not in cmp.coords and "mc_max_abs_z" not in cmp:
        lines = ["(no pair of methods to compare: run two or more of explicit, implicit, spectral, gaussian)"]
    for i, pair in enumerate(cmp.coords.get("pair", xr.DataArray([])).values):
        kind = str(cmp["pair_kind"].values[i])
        worst = float(cmp["max_abs_diff"][i].max()) / scale
        last = float(cmp["rel_l2"][i, -1])
        verdict = ("agree to round-off" if worst <= EXACT_TOL else "DISAGREE") if kind == "exact" else "approximation"
        lines.append(f"{pair:<28}{kind:<8}{worst:>19.3e}{last:>15.3e}  {verdict}")
    if "mc_max_abs_z" in cmp:
        later = slice(1, None) if cmp.sizes["time"] > 1 else slice(None)
        z = float(cmp["mc_max_abs_z"][later].max())
        bound = float(cmp["mc_z_bound"][later].min())
        p = float(cmp["mc_chi2_p"][later].min())
        ok = z <= bound and p > cmp.attrs["alpha"] / 3
        lines.append(f"{'monte_carlo-' + cmp.attrs['mc_reference']:<28}{'stat':<8}{'max|z| ' + f'{z:.2f}':>19}"
                     f"{float(cmp['mc_rel_l2'][-1]):>15.3e}  "
                     f"{'consistent' if ok else 'INCONSISTENT'} (bound {bound:.2f}, min chi2 p {p:.2g}, "
                     f"expected rel L2 {float(cmp['mc_expected_rel_l2'][-1]):.2e})")
    lines.append("")
    lines.append(f"{'method':<28}{'mass drift (last)':>19}")
    for j, m in enumerate(cmp["method"].values):
        lines.append(f"{m:<28}{float(cmp['mass_drift'][j, -1]):>19.3e}")
    if not cmp.attrs.get("conserving", 1):
        lines.append("(absorbing or dirichlet walls: mass is not conserved, the drift is physical)")
    return "\n".join(lines)
