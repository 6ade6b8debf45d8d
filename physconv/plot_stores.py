"""Pictures of a sweep store (each pair's error against the swept values) and of an ensemble store
(mean, standard error, and the error of the mean falling with the number of replicas R).

Like :mod:`physconv.plot`, every function reads only the store's Dataset and returns a new
:class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

import itertools

import numpy as np
import xarray as xr
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from .plot import DISPLAY_CELLS, block_mean, log_axis
from .sweep import _coord, axes_of

FLOOR = 1e-18  # an error of exactly zero is drawn here on a log axis
Z_LIMIT = 4.0  # the z-map's colour scale: |mean - exact| / sem beyond this is saturated


def _x_values(ds: xr.Dataset, dim: str):
    """Positions and tick labels of the first swept key (numbers as they are, other values in order)."""
    v = ds[dim].values
    if np.issubdtype(v.dtype, np.number):
        return v.astype(float), None
    return np.arange(len(v), dtype=float), [str(x) for x in v]


def _wide(values) -> bool:
    """Positive values over more than a decade: a log axis shows them better."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return v.size > 1 and v.max() / v.min() > 10


def sweep(ds: xr.Dataset, missing: int = 0) -> Figure:
    """One panel per pair of methods (and one for Monte Carlo): its relative L2 difference at the last
    saved step against the first swept key, one line per value of the other keys, theory wide and pale
    beneath (a marker at every value, so that a value between gaps shows its theory too). ``missing``:
    variants not done or damaged, left out of the lines (said in the title)."""
    axes = axes_of(ds)
    (key, dim), others = axes[0], axes[1:]
    x, labels = _x_values(ds, dim)
    panels = [(str(p), "rel_l2", "predicted_rel_l2", {"pair": i}) for i, p in enumerate(ds["pair"].values)] \
        if "pair" in ds.dims else []
    if "mc_rel_l2" in ds:
        panels.append(("monte_carlo vs its expectation", "mc_rel_l2", "mc_expected_rel_l2", {}))
    if not panels:
        fig = Figure(figsize=(6, 2), layout="constrained")
        fig.text(0.5, 0.5, "no pair of methods in this sweep: nothing to compare", ha="center", va="center")
        return fig
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.3 * nrows + 0.6), layout="constrained")
    grid = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    combos = list(itertools.product(*(range(ds.sizes[d]) for _, d in others)))
    kinds = ds["pair_kind"].values if "pair_kind" in ds.coords else None
    handles = {}
    for ax, (title, measured, predicted, sel) in zip(grid, panels):
        kind = str(kinds[sel["pair"]]) if kinds is not None and "pair" in sel else "stat"
        values = []
        for c, combo in enumerate(combos):
            pick = dict(sel, **{d: i for (_, d), i in zip(others, combo)})
            y = ds[measured].isel(pick).isel(frame=-1).values.astype(float)
            p = ds[predicted].isel(pick).isel(frame=-1).values.astype(float) if predicted in ds else np.full_like(y, np.nan)
            label = " ".join(f"{k}={_coord(ds[d][i])}" for (k, d), i in zip(others, combo)) or "measured"
            if not np.isnan(p).all():  # under the measured line, wide and pale: both stay visible where they agree
                (theory,) = ax.plot(x, np.maximum(p, FLOOR), lw=5, alpha=0.3, color=f"C{c % 10}", solid_capstyle="round",
                                    marker="o", ms=9)
                handles.setdefault("theory (wide, pale)", theory)
            (line,) = ax.plot(x, np.maximum(y, FLOOR), marker="o", ms=4, lw=1.2, color=f"C{c % 10}")
            handles.setdefault(label, line)
            values += [y, p]
        bound = _exact_tolerance(ds)
        if kind == "exact" and bound is not None:
            handles.setdefault("round-off bound (exact pairs)", ax.axhline(bound, color="k", lw=0.8, ls=":"))
            values.append([bound])
        if kind == "exact" or _wide(np.concatenate([np.ravel(v) for v in values])):
            log_axis(ax)
        ax.set_title(f"{title} ({kind})", fontsize=9)
        ax.set_xlabel(key)
        ax.set_ylabel("relative L2 difference")
        if labels is not None:
            ax.set_xticks(x, labels)
        elif _wide(x):
            ax.set_xscale("log")
        if labels is None and len(x) <= 6:
            ax.set_xticks(x, [_coord(ds[dim][i]) for i in range(len(x))])
            ax.minorticks_off() if ax.get_xscale() == "log" else None
    for ax in grid[len(panels):]:
        ax.set_visible(False)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=min(4, len(handles)),
               fontsize=8, frameon=False)
    gaps = f" ({missing} variant{'s' * (missing != 1)} not done or damaged: left out)" if missing else ""
    fig.suptitle(f"{ds.attrs.get('title', 'sweep')}: each pair's difference at the last saved step against "
                 f"{key}{gaps}", fontsize=10)
    return fig


def _last(ds: xr.Dataset, name: str) -> np.ndarray:
    """The last frame of a reduced variable; a 3-D field by its plane through the exact field's peak."""
    a = ds[name].isel(frame=-1).values
    if a.ndim == 3:
        z = int(np.unravel_index(np.argmax(ds["exact"].isel(frame=-1).values), a.shape)[0])
        a = a[z]
    return a


def ensemble(ds: xr.Dataset) -> Figure:
    """The ensemble's last frame (exact expectation, mean, standard error of the mean, and
    (mean - exact) / sem), and the relative L2 error of the mean of R' replicas against R' beside what
    the replicas' spread predicts (spread / sqrt(R'))."""
    exact, mean, sem = (_last(ds, v) for v in ("exact", "mean", "sem"))
    z = (mean - exact) / np.where(sem > 0, sem, np.inf)
    R = int(ds.attrs.get("replicas", ds.sizes.get("replica", 0)))
    t = float(ds["time"].isel(replica=0).values[-1])
    fig = Figure(figsize=(13, 6.6 if exact.ndim == 2 else 6), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.15, 1))
    if exact.ndim == 2:
        maps = top.subplots(1, 4)
        shared = Normalize(float(exact.min()), float(exact.max()))  # from the exact field: noise never sets it
        for ax, a, title, norm, cmap in ((maps[0], exact, "exact expectation", shared, "viridis"),
                                         (maps[1], mean, f"mean of {R} replicas", shared, "viridis"),
                                         (maps[2], sem, "standard error of the mean", None, "magma"),
                                         (maps[3], np.clip(z, -Z_LIMIT, Z_LIMIT), "(mean - exact) / sem",
                                          TwoSlopeNorm(0.0, -Z_LIMIT, Z_LIMIT), "RdBu_r")):
            image = ax.imshow(block_mean(a, DISPLAY_CELLS), origin="lower", norm=norm, cmap=cmap,
                              interpolation="nearest", aspect="equal")
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            top.colorbar(image, ax=ax, shrink=0.8)
    else:
        left, right = top.subplots(1, 2)
        cells = np.arange(exact.size)
        left.fill_between(cells, mean - 2 * sem, mean + 2 * sem, color="C0", alpha=0.3, lw=0,
                          label="mean ± 2 standard errors")
        left.plot(cells, mean, color="C0", lw=1, label=f"mean of {R} replicas")
        left.plot(cells, exact, color="k", lw=1, ls="--", label="exact expectation")
        left.set_xlabel("cell")
        left.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
        right.plot(cells, z, color="C3", lw=0.8)
        for k in (-2, 2):
            right.axhline(k, color="k", lw=0.5, ls=":")
        right.set_xlabel("cell")
        right.set_title("(mean - exact) / standard error (dotted: ±2)", fontsize=9)
    top.suptitle(f"{ds.attrs.get('title', 'ensemble')}: the last saved frame (t = {t:g})", fontsize=10)
    ax = bottom.subplots()
    used = ds["replicas_used"].values
    err = ds["mean_rel_l2"].values
    ax.plot(used, err, marker="o", color="C0", label="relative L2 error of the mean of the first R' replicas")
    if "spread_rel_l2" in ds:
        ax.plot(used, ds["spread_rel_l2"].values, ls="--", color="k", lw=1,
                label="predicted by the replicas' spread: spread / sqrt(R')")
    log_axis(ax)
    ax.set_xscale("log")
    ax.set_xticks(used, [str(n) for n in used])
    ax.minorticks_off()
    ax.set_xlabel("replicas R'")
    ax.set_ylabel("relative L2 error")
    from .ensemble import slope_line

    ax.set_title(slope_line(float(ds.attrs["error_slope"]) if "error_slope" in ds.attrs else None), fontsize=9)
    ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


def _exact_tolerance(ds):
    """The largest round-off bound of the exact pairs over the variants (None if no variant has one)."""
    from .sweep import compare_attrs

    if "compare_attrs" not in ds:
        return None
    dims = ds["compare_attrs"].dims
    found = [compare_attrs(ds, i).get("exact_tolerance") for i in np.ndindex(*(ds.sizes[d] for d in dims))]
    found = [float(v) for v in found if v is not None]
    return max(found) if found else None
