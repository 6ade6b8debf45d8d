"""Pictures of a result: snapshots, differences, errors over time, profiles, space–time, animation.

Every function reads only the result Dataset (or a kernel), takes ``ax=None``
or returns a new :class:`matplotlib.figure.Figure`, and never shows a window.
3-D fields are shown by their middle ``z`` slice.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from . import kernels as _k
from .metrics import compare, methods_of


def _field(da: xr.DataArray) -> xr.DataArray:
    """A 1-D or 2-D view: the middle z slice of a 3-D field."""
    return da.isel(z=da.sizes["z"] // 2) if "z" in da.dims else da


def _pick_times(ds, count=4):
    n = ds.sizes["time"]
    return sorted(set(np.linspace(0, n - 1, min(count, n)).round().astype(int).tolist()))


def snapshots(ds: xr.Dataset, methods=None, times=None, fig: Figure | None = None) -> Figure:
    """Rows: methods; columns: saved times; one colour scale shared by every panel."""
    methods = methods or methods_of(ds)
    idx = _pick_times(ds) if times is None else list(times)
    fig = fig or Figure(figsize=(2.6 * len(idx) + 1.2, 2.4 * len(methods) + 0.6), layout="constrained")
    axes = fig.subplots(len(methods), len(idx), squeeze=False, sharex=True, sharey=True)
    fields = {m: _field(ds[m]) for m in methods}
    vmin = min(float(f.min()) for f in fields.values())
    vmax = max(float(f.max()) for f in fields.values())
    image = None
    for r, m in enumerate(methods):
        for c, i in enumerate(idx):
            ax = axes[r, c]
            f = fields[m].isel(time=i)
            if f.ndim == 1:
                ax.plot(f[f.dims[0]], f, color="C0")
                ax.set_ylim(vmin, vmax)
            else:
                image = ax.pcolormesh(f[f.dims[1]], f[f.dims[0]], f, vmin=vmin, vmax=vmax, cmap="viridis",
                                      shading="nearest")
                ax.set_aspect("equal")
            if r == 0:
                ax.set_title(f"t = {float(ds['time'][i]):g} (step {int(ds['step'][i])})", fontsize=9)
            if c == 0:
                ax.set_ylabel(m)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="concentration")
    fig.suptitle(ds.attrs.get("title", ""))
    return fig


def differences(ds: xr.Dataset, a: str, b: str, times=None, fig: Figure | None = None) -> Figure:
    """Maps of ``a - b`` at the saved times, with a symmetric colour scale."""
    idx = _pick_times(ds) if times is None else list(times)
    fig = fig or Figure(figsize=(2.8 * len(idx) + 1.2, 3.0), layout="constrained")
    axes = fig.subplots(1, len(idx), squeeze=False)[0]
    d = _field(ds[a] - ds[b])
    lim = float(np.abs(d).max()) or 1.0
    image = None
    for ax, i in zip(axes, idx):
        f = d.isel(time=i)
        if f.ndim == 1:
            ax.plot(f[f.dims[0]], f)
            ax.set_ylim(-lim, lim)
        else:
            image = ax.pcolormesh(f[f.dims[1]], f[f.dims[0]], f, vmin=-lim, vmax=lim, cmap="RdBu_r", shading="nearest")
            ax.set_aspect("equal")
        ax.set_title(f"t = {float(ds['time'][i]):g}", fontsize=9)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label=f"{a} - {b}")
    fig.suptitle(f"{a} - {b}")
    return fig


def errors(ds: xr.Dataset, ax=None, cmp: xr.Dataset | None = None):
    """Max |a - b| / max|u0| against time, log scale, for each pair of methods that must agree.

    ``cmp`` is :func:`physconv.metrics.compare` of ``ds`` when the caller has it already.
    """
    ax = ax or Figure(figsize=(6, 4), layout="constrained").subplots()
    cmp = compare(ds) if cmp is None else cmp
    t = ds["time"].values
    later = t > 0
    if "pair" in cmp.coords:
        for i, pair in enumerate(cmp["pair"].values):
            y = cmp["max_abs_diff"][i].values / cmp.attrs["scale"]
            ax.semilogy(t[later], np.maximum(y[later], 1e-18), marker="o", label=f"{pair} ({cmp['pair_kind'].values[i]})")
    if "mc_rel_l2" in cmp:
        ax.semilogy(t[later], cmp["mc_rel_l2"].values[later], marker="s", label="monte_carlo rel. L2")
        ax.semilogy(t[later], cmp["mc_expected_rel_l2"].values[later], ls="--", color="gray",
                    label="expected (binomial)")
    ax.axhline(cmp.attrs["exact_tolerance"], color="k", lw=0.6, ls=":", label="round-off bound")
    ax.set_xlabel("time")
    ax.set_ylabel("difference")
    ax.legend(fontsize=8)
    ax.set_title("how far apart the methods are")
    return ax


def profiles(ds: xr.Dataset, method: str | None = None, ax=None):
    """The field along the centre line of the last axis, one curve per saved time."""
    method = method or methods_of(ds)[0]
    ax = ax or Figure(figsize=(6, 4), layout="constrained").subplots()
    da = ds[method]
    for d in da.dims[1:-1]:
        da = da.isel({d: da.sizes[d] // 2})
    x = da.dims[-1]
    colors = [f"C{i % 10}" for i in range(ds.sizes["time"])]
    for i in range(ds.sizes["time"]):
        ax.plot(da[x], da.isel(time=i), color=colors[i], label=f"t = {float(ds['time'][i]):g}")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{method} concentration")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(f"centre-line profiles ({method})")
    return ax


def spacetime(ds: xr.Dataset, method: str | None = None, ax=None):
    """For 1-D results: the field as an image of position (horizontal) against time (vertical)."""
    method = method or methods_of(ds)[0]
    da = ds[method]
    if da.ndim != 2:
        raise ValueError("a space-time image needs a 1-D result")
    ax = ax or Figure(figsize=(6, 4), layout="constrained").subplots()
    image = ax.pcolormesh(da["x"], da["time"], da, shading="nearest", cmap="viridis")
    ax.figure.colorbar(image, ax=ax, label="concentration")
    ax.set_xlabel("x")
    ax.set_ylabel("time")
    ax.set_title(f"{method}: space-time")
    return ax


def kernel_picture(weights, temperature: float = 1.0, spacing=1.0, dt: float = 1.0, fig: Figure | None = None) -> Figure:
    """A 2-D kernel: its raw weights, its softmax probabilities, and the drift and diffusion they imply."""
    w = _k.check(weights, 2)
    p = _k.softmax(w, temperature)
    m = _k.moments(p, spacing, dt)
    fig = fig or Figure(figsize=(8, 3.4), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, a, title, fmt in ((axes[0], w, "weights", "{:.3g}"), (axes[1], p, f"softmax, T = {temperature:g}", "{:.3g}")):
        im = ax.imshow(a, cmap="magma")
        for (i, j), v in np.ndenumerate(a):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                    color="w" if v < a.min() + 0.5 * (a.max() - a.min()) else "k")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(f"drift {np.round(m.mean, 4).tolist()} per step,  D_eff diag {np.round(np.diag(m.diffusivity), 5).tolist()}",
                 fontsize=9)
    return fig


def overview(ds: xr.Dataset, cmp: xr.Dataset | None = None) -> Figure:
    """Snapshots of every method, and the differences between them over time (``cmp`` as in :func:`errors`)."""
    methods = methods_of(ds)
    idx = _pick_times(ds)
    fig = Figure(figsize=(2.6 * len(idx) + 1.2, 2.4 * len(methods) + 4.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[2.4 * len(methods) + 0.6, 3.6])
    snapshots(ds, methods, idx, fig=top)
    left, right = bottom.subplots(1, 2)
    errors(ds, ax=left, cmp=cmp)
    profiles(ds, methods[0], ax=right)
    return fig


def animate(ds: xr.Dataset, path, fps: int = 4, methods=None) -> None:
    """A GIF of the methods side by side over the saved times (Pillow writer, no ffmpeg)."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    methods = methods or methods_of(ds)
    fields = {m: _field(ds[m]) for m in methods}
    vmin = min(float(f.min()) for f in fields.values())
    vmax = max(float(f.max()) for f in fields.values())
    fig = Figure(figsize=(3.0 * len(methods), 3.2), layout="constrained")
    axes = fig.subplots(1, len(methods), squeeze=False)[0]
    artists = []
    for ax, m in zip(axes, methods):
        f = fields[m].isel(time=0)
        if f.ndim == 1:
            (line,) = ax.plot(f[f.dims[0]], f)
            ax.set_ylim(vmin, vmax)
            artists.append(line)
        else:
            artists.append(ax.imshow(f, vmin=vmin, vmax=vmax, cmap="viridis", origin="lower"))
        ax.set_title(m)
    label = fig.suptitle("")

    def draw(i):
        for art, m in zip(artists, methods):
            f = fields[m].isel(time=i).values
            art.set_ydata(f) if f.ndim == 1 else art.set_data(f)
        label.set_text(f"{ds.attrs.get('title', '')}: t = {float(ds['time'][i]):g}")
        return artists

    anim = FuncAnimation(fig, draw, frames=ds.sizes["time"], blit=False)
    anim.save(str(path), writer=PillowWriter(fps=fps))
