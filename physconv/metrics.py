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

Every approximate pair is held against the error theory predicts for it
(:mod:`physconv.theory`): the verdict is ``as predicted`` only when the
measured relative L2 difference is within a factor :data:`PREDICTION_FACTOR`
of the predicted one at every saved time, else ``larger than predicted`` or
``smaller than predicted`` with the worst factor. :func:`compare` reads only
the result Dataset.
"""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

from . import stats
from .grid import Grid
from .predictions import _predictor, _step_kernel, grid_of, is_medium, medium_of, methods_of  # noqa: F401

EXACT_TOL = 1e-10
ALPHA = 1e-6
PREDICTION_FACTOR = 2.0  # "as predicted": measured / predicted error within [1/2, 2] at every saved time


def pairs(methods, medium: bool = False) -> list[tuple[str, str, str]]:
    """``(a, b, kind)`` for the pairs DESIGN §3 and §11 say must agree, among ``methods``; ``medium``: the
    result is of a medium (its implicit is Crank–Nicolson of the medium's operator, compared with
    semidiscrete, not with the heat solution)."""
    out = []
    if {"explicit", "spectral"} <= set(methods):
        out.append(("explicit", "spectral", "exact"))
    for a in ("explicit", "implicit", "spectral"):
        if a in methods and "gaussian" in methods and not (a == "spectral" and "explicit" in methods) \
                and not (medium and a == "implicit"):
            out.append((a, "gaussian", "approx"))
    if {"implicit", "spectral"} <= set(methods) and not medium:
        out.append(("implicit", "spectral", "approx"))
    for a in ("explicit", "implicit"):
        if a in methods and "semidiscrete" in methods:
            out.append((a, "semidiscrete", "approx"))
    return out


def pair_names(methods, medium: bool = False, brownian: bool = False) -> list[tuple[str, str]]:
    """``(name, kind)`` of the rows :func:`compare` makes, in its order: the :func:`pairs`, and with
    ``implicit`` also ``implicit-amplification`` (against its own amplification factor, ADI of a scalar
    D: not for a medium), second when ``spectral`` is run, else first. ``brownian``: Brownian particles
    in a medium, held against the first of semidiscrete and explicit as an approximation (their
    expectation is the continuous equation's, not an exact discrete propagator's)."""
    out = [(f"{a}-{b}", kind) for a, b, kind in pairs(methods, medium)]
    if "implicit" in methods and not medium:
        out.insert(1 if "spectral" in methods else 0, ("implicit-amplification", "exact"))
    ref = brownian_reference(methods) if medium and brownian and "monte_carlo" in methods else None
    if ref is not None:
        out.append((f"monte_carlo-{ref}", "approx"))
    return out


def brownian_reference(methods) -> str | None:
    """What Brownian particles in a medium are compared with: semidiscrete, else explicit, else nothing."""
    return next((m for m in ("semidiscrete", "explicit") if m in methods), None)


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
    medium = is_medium(ds)
    brownian = medium and "monte_carlo" in methods and not ds.attrs.get("mc_lattice", 1)
    named = pair_names(methods, medium, brownian)
    names, kinds = [name for name, _ in named], [kind for _, kind in named]
    nt = ds.sizes["time"]
    maxd, rel = np.zeros((len(names), nt)), np.zeros((len(names), nt))
    pmax, prel = np.full((len(names), nt), np.nan), np.full((len(names), nt), np.nan)
    mass = np.zeros((len(methods), nt))
    predictor = _predictor(ds, grid)
    if "implicit" in methods and not medium:
        from .solvers import implicit

        amplified = implicit.exact_at(ds["initial"].values, grid, diffusivity=float(ds.attrs["diffusivity"]),
                                      dt=float(ds.attrs["dt"]))
    d = np.empty(grid.shape)  # one scratch frame: no temporaries of a frame's size per pair
    for i in range(nt):  # one saved time at a time: a result larger than memory is read frame by frame
        fields = {m: ds[m][i].values for m in methods}
        steps = ds["step"].values[i:i + 1]
        if "implicit" in methods and not medium:
            fields["amplification"] = amplified(steps)[0]
        predictions = predictor(steps, fields)
        for j, name in enumerate(names):
            a, b = (fields[m] for m in name.split("-"))
            np.subtract(a, b, out=d)
            norm = _norm(b) or 1.0
            maxd[j, i] = _max_abs(d)
            rel[j, i] = _norm(d) / norm
            if name in predictions:
                p = predictions[name][0]
                pmax[j, i] = _max_abs(p)
                prel[j, i] = _norm(p) / norm
        mass[:, i] = [fields[m].sum() * grid.cell_volume for m in methods]
    out = xr.Dataset(coords={"time": ds["time"], "step": ds["step"]})
    if names:
        out["max_abs_diff"] = (("pair", "time"), maxd, {"long_name": "max |a - b|"})
        out["rel_l2"] = (("pair", "time"), rel, {"long_name": "||a - b|| / ||b||"})
        out["predicted_max_abs_diff"] = (("pair", "time"), pmax,
                                         {"long_name": "max |a - b| predicted by theory (physconv.theory)"})
        out["predicted_rel_l2"] = (("pair", "time"), prel,
                                   {"long_name": "||a - b|| / ||b|| predicted by theory (physconv.theory)"})
        out["tolerance"] = ("pair", [_tolerance(ds, grid, name, scale) for name in names],
                            {"long_name": "largest max |a - b| / max |u0| of an exact pair that is round-off"})
        out = out.assign_coords(pair=names, pair_kind=("pair", kinds))
    out["mass"] = (("method", "time"), mass)
    m0 = float(ds.attrs["mass_initial"])
    out["mass_drift"] = (("method", "time"), (mass - m0) / (abs(m0) or 1.0), {"long_name": "(M(t) - M(0)) / M(0)"})
    out = out.assign_coords(method=methods)
    attrs = {"scale": scale, "exact_tolerance": EXACT_TOL, "alpha": ALPHA, "prediction_factor": PREDICTION_FACTOR,
             "conserving": int(all(b.conserves_mass for b in grid.boundaries))}
    if "monte_carlo" in methods and not brownian:
        mc_stats = _monte_carlo_stats(ds, grid)
        attrs.update(mc_stats.attrs)
        out = out.merge(mc_stats)
    out.attrs = attrs
    return out


def _norm(a: np.ndarray) -> float:
    """Euclidean norm, without a temporary array."""
    a = a.ravel()
    return float(np.sqrt(np.dot(a, a)))


def _max_abs(a: np.ndarray) -> float:
    return float(max(a.max(), -a.min()))


def _tolerance(ds: xr.Dataset, grid: Grid, pair: str, scale: float) -> float:
    """Round-off allowed for a pair: EXACT_TOL; with float32 storage of ``explicit``, its bound
    (:func:`physconv.solvers.explicit.float32_bound`) relative to ``scale``."""
    if ds.attrs.get("explicit_dtype", "float64") != "float32" or "explicit" not in pair.split("-"):
        return EXACT_TOL
    from .solvers.explicit import float32_bound

    wall = next((b.c for b in grid.boundaries if b.kind == "dirichlet"), 0.0)
    return max(EXACT_TOL, float32_bound(ds["initial"].values, int(ds["step"].values[-1]), wall) / scale)


def prediction_factor(cmp: xr.Dataset, i: int) -> float:
    """Measured over predicted relative L2 difference of pair ``i``, the one furthest from 1 over the times
    after the start (a factor above 1: larger than predicted; below 1: smaller). NaN without a prediction."""
    measured = cmp["rel_l2"].values[i]
    predicted = cmp["predicted_rel_l2"].values[i]
    later = cmp["step"].values > 0
    if not later.any() or np.isnan(predicted[later]).all():
        return float("nan")
    m, p = measured[later], predicted[later]
    tiny = 1e-13
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((m <= tiny) & (p <= tiny), 1.0, m / np.where(p > 0, p, 0.0))
    return float(ratio[np.argmax(np.abs(np.log(ratio)))])


def verdict(cmp: xr.Dataset, i: int) -> str:
    """The verdict on pair ``i``: round-off for exact pairs, against theory for approximate ones."""
    kind = str(cmp["pair_kind"].values[i])
    measured = [cmp[v].values[i] for v in ("max_abs_diff", "rel_l2") if v in cmp] + [cmp.attrs["scale"]]
    if any(np.isnan(np.asarray(m, dtype=float)).any() for m in measured):
        return MISSING
    if kind == "exact":
        worst = float(cmp["max_abs_diff"][i].max()) / cmp.attrs["scale"]
        tol = float(cmp["tolerance"][i]) if "tolerance" in cmp else EXACT_TOL
        if worst > tol:
            return "DISAGREE"
        return "agree to round-off" if tol <= EXACT_TOL else f"agree to float32 round-off (bound {tol:.1e})"
    f = prediction_factor(cmp, i)
    limit = cmp.attrs.get("prediction_factor", PREDICTION_FACTOR)
    if np.isnan(f):
        return "approximation (no prediction)"
    if 1 / limit <= f <= limit:
        return f"as predicted (measured/predicted {f:.2f})"
    return f"larger than predicted (x{f:.3g})" if f > 1 else f"smaller than predicted (x{1 / f:.3g})"


def monte_carlo_reference(ds: xr.Dataset, grid: Grid, frames=slice(None)) -> tuple[str, np.ndarray]:
    """The exact expectation of the Monte Carlo frames (those selected by ``frames``, an index list or
    slice along time; default all) and its name."""
    if not ds.attrs.get("mc_lattice", 1):
        from . import montecarlo as mc

        D = float(ds.attrs["diffusivity"])
        return "cell-averaged heat", mc.expectation(ds["initial"].values, grid, diffusivity=D,
                                                    time=ds["time"].values[frames])
    for name in ("explicit", "spectral"):
        if name in ds:
            return name, ds[name][frames].values
    from . import spectral

    if is_medium(ds) and "kernel" not in ds:
        from . import medium

        steps = np.atleast_1d(ds["step"].values[frames])
        m, u0, dt = medium_of(ds), ds["initial"].values, float(ds.attrs["dt"])
        return "exact lattice", np.array([medium.explicit(m, u0, dt, int(n)) for n in steps]).reshape(
            (len(steps),) + grid.shape)

    return "exact lattice", spectral.propagate(ds["initial"].values, grid, kernel=_step_kernel(ds, grid),
                                               steps=ds["step"].values[frames])


def _monte_carlo_stats(ds, grid) -> xr.Dataset:
    n = int(ds.attrs["mc_particles"])
    per = float(ds.attrs["mass_initial"]) / n / grid.cell_volume  # concentration of one particle
    from concurrent.futures import ThreadPoolExecutor

    def one(i):  # a frame at a time; scipy's special functions release the GIL: frames are checked side by side
        obs = ds["monte_carlo"][i].values
        ex = monte_carlo_reference(ds, grid, [i])[1][0]
        c = stats.check(np.rint(obs / per), ex / per, n, ALPHA)
        return c.max_abs_z, c.z_bound, c.p_value, c.relative_l2, c.expected_relative_l2, c.alive_z

    nt = ds.sizes["time"]
    with ThreadPoolExecutor(max(1, min(nt, os.cpu_count() or 1))) as pool:
        r = np.array(list(pool.map(one, range(nt)))).T
    out = xr.Dataset({
        "mc_max_abs_z": ("time", r[0]), "mc_z_bound": ("time", r[1]), "mc_chi2_p": ("time", r[2]),
        "mc_rel_l2": ("time", r[3]), "mc_expected_rel_l2": ("time", r[4]), "mc_alive_z": ("time", r[5]),
    })
    out.attrs["mc_reference"] = monte_carlo_reference(ds, grid, [])[0]
    return out


MISSING = "NO VERDICT (the comparison holds NaN: values missing or damaged)"
HEADER = ("pair", "kind", "max|diff|/max|u0|", "rel L2 (last)", "predicted", "verdict")


def rows(cmp: xr.Dataset) -> list[tuple[str, ...]]:
    """The rows of :func:`table` (one per pair, and one for Monte Carlo), as text cells under :data:`HEADER`."""
    scale = cmp.attrs["scale"]
    out = []
    for i, pair in enumerate(cmp.coords.get("pair", xr.DataArray([])).values):
        kind = str(cmp["pair_kind"].values[i])
        predicted = float(cmp["predicted_rel_l2"][i, -1])
        out.append((str(pair), kind, f"{float(cmp['max_abs_diff'][i].max()) / scale:.3e}",
                    f"{float(cmp['rel_l2'][i, -1]):.3e}", "" if np.isnan(predicted) else f"{predicted:.3e}",
                    verdict(cmp, i)))
    if "mc_max_abs_z" in cmp:
        later = slice(1, None) if cmp.sizes["time"] > 1 else slice(None)
        zs, bounds = cmp["mc_max_abs_z"][later].values, cmp["mc_z_bound"][later].values
        if np.isnan(zs).any() or np.isnan(bounds).any() or np.isnan(cmp["mc_rel_l2"].values).any():
            out.append((f"monte_carlo-{cmp.attrs.get('mc_reference', '?')}", "stat", "", "", "", MISSING))
            return out
        z, bound = float(zs.max()), float(bounds.min())
        ps = cmp["mc_chi2_p"][later].values
        defined = ps[~np.isnan(ps)]
        p = float(defined.min()) if defined.size else None
        ok = z <= bound and not (p is not None and p <= cmp.attrs["alpha"] / 3)
        if p is None:  # every category pooled into one: only the exact per-cell binomial test speaks
            chi = "exact binomial test per cell only: chi-square undefined, under 5 particles expected per cell"
        else:
            chi = f"min chi2 p {p:.2g}" + ("; exact binomial test alone where under 5 particles are expected "
                                           "per cell" if defined.size < ps.size else "")
        out.append((f"monte_carlo-{cmp.attrs['mc_reference']}", "stat", f"max|z| {z:.2f}",
                    f"{float(cmp['mc_rel_l2'][-1]):.3e}", f"{float(cmp['mc_expected_rel_l2'][-1]):.3e}",
                    f"{'consistent' if ok else 'INCONSISTENT'} (z bound {bound:.2f}, {chi})"))
    return out


def format_rows(header, body, left=(0, 1, 5)) -> str:
    """Columns sized to their content; the columns numbered in ``left`` flush left, the others right."""
    widths = [max(len(r[c]) for r in list(body) + [header]) for c in range(len(header))]
    fmt = lambda r: "  ".join(  # noqa: E731
        (v.ljust(w) if c in left else v.rjust(w)) for c, (v, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([fmt(header)] + [fmt(r) for r in body])


def table(cmp: xr.Dataset) -> str:
    """The comparison as a plain-text table (last saved time; worst case over times for checks).

    For approximate pairs, ``predicted`` is the relative L2 difference theory predicts at the last
    time and the verdict compares measured and predicted at every saved time.
    """
    body = rows(cmp)
    if body:
        lines = [format_rows(HEADER, body)]
    else:
        lines = ["(no pair of methods to compare: run two or more of explicit, implicit, spectral, gaussian)"]
    if any(str(k) == "approx" for k in cmp.coords.get("pair_kind", xr.DataArray([])).values):
        lines.append(f"(approx: 'predicted' is the leading error theory gives (physconv.theory); 'as predicted' "
                     f"means within x{cmp.attrs.get('prediction_factor', PREDICTION_FACTOR):g} at every saved time)")
    if "mc_max_abs_z" in cmp:
        lines.append("(stat: 'predicted' is the relative L2 error expected from binomial counts)")
    lines.append("")
    width = max(len("method"), *(len(str(m)) for m in cmp["method"].values))
    lines.append(f"{'method':<{width}}  {'mass drift (last)':>17}")
    for j, m in enumerate(cmp["method"].values):
        lines.append(f"{m:<{width}}  {float(cmp['mass_drift'][j, -1]):>17.3e}")
    if not cmp.attrs.get("conserving", 1):
        lines.append("(absorbing or dirichlet walls: mass is not conserved, the drift is physical)")
    return "\n".join(lines)
