"""Pictures of a result: snapshots, differences, errors over time, profiles, space–time, animation.

Every function reads only the result Dataset, takes ``ax=None`` or returns a
new :class:`matplotlib.figure.Figure`, and never shows a window. Maps are drawn
with ``y`` pointing up (row 0 at the bottom; image initials are stored that way
round, see :class:`physconv.initial.Image`). 3-D fields are shown by their
``z`` slice through the centre of mass of the initial field, and profiles run
through that centre too.

Colour scales (``scale``): ``'linear'``, one scale for every panel;
``'per-frame'``, one scale per saved time, shared by the methods (so they stay
comparable while the field spreads and fades); ``'log'``, one logarithmic
scale over four decades; ``'auto'`` (default), ``'per-frame'`` when the
field's maximum changes by more than :data:`AUTO_RANGE` over the run (a point
source), else ``'linear'``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatterSciNotation

from . import units as _units
from .metrics import compare, methods_of

SCALES = ("auto", "linear", "per-frame", "log")
AUTO_RANGE = 10.0
LOG_DECADES = 4


def centre_of_mass(ds: xr.Dataset) -> dict[str, int]:
    """Cell index per axis of the initial field's centre of mass (of ``|u0|``; the middle if it is zero)."""
    u = np.abs(ds["initial"].values)
    total = u.sum()
    out = {}
    for a, d in enumerate(ds["initial"].dims):
        n = u.shape[a]
        if total > 0:
            w = u.sum(axis=tuple(b for b in range(u.ndim) if b != a))
            out[d] = int(np.clip(np.rint((w * np.arange(n)).sum() / total), 0, n - 1))
        else:
            out[d] = n // 2
    return out


def _field(da: xr.DataArray, ds: xr.Dataset) -> xr.DataArray:
    """A 1-D or 2-D view: the z slice through the centre of mass of a 3-D field."""
    return da.isel(z=centre_of_mass(ds)["z"]) if "z" in da.dims else da


def _slice_note(ds: xr.Dataset) -> str:
    if "z" not in ds["initial"].dims:
        return ""
    z = centre_of_mass(ds)["z"]
    return f" (z slice through the centre of mass, z = {float(ds['z'][z]):g})"


def pick_times(ds: xr.Dataset, count: int = 4) -> list[int]:
    """Indices of ``count`` saved times as evenly spaced in time as the saved frames allow."""
    t = ds["time"].values
    targets = np.linspace(t[0], t[-1], min(count, len(t)))
    return sorted({int(np.argmin(np.abs(t - x))) for x in targets})


NOISY = ("monte_carlo",)  # methods whose maps carry sampling noise: they never set a colour scale
LOG_FLOOR = 1e-12  # a log scale reaches down to the smallest positive value shown, at most this far below the top
ROBUST = (0.5, 99.5)  # percentiles that set the limits when only noisy maps are shown


def _reference(fields: dict) -> dict:
    """The fields that set colour limits: the deterministic methods (all fields when there are none)."""
    calm = {m: f for m, f in fields.items() if m not in NOISY}
    return calm or fields


def choose_scale(fields, idx, scale: str = "auto") -> str:
    """Resolve ``'auto'``: per-frame when the frames' maxima span more than AUTO_RANGE (noisy maps aside)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    if scale != "auto":
        return scale
    peaks = [max(float(np.abs(f.isel(time=i)).max()) for f in _reference(fields).values()) for i in idx]
    low = min(peaks)
    return "per-frame" if low == 0 or max(peaks) / low > AUTO_RANGE else "linear"


def _norms(fields, idx, scale):
    """One colour norm per shown time (the same object for all of them unless per-frame), and the names of
    the methods whose maps reach beyond it (drawn clipped).

    The limits come from the deterministic methods only, so that Monte Carlo noise (a few particles in a
    cell among one per cell) never squeezes the other maps into a fraction of the scale; when noisy maps are
    all there is, from their 0.5 and 99.5 percentiles. A log scale runs from the largest value down to the
    smallest positive one shown, at most :data:`LOG_FLOOR` below it.
    """
    ref = _reference(fields)
    robust = all(m in NOISY for m in ref)

    def limits(frames):
        values = [np.asarray(f) for f in frames]
        if robust:
            lo, hi = np.percentile(np.concatenate([v.ravel() for v in values]), ROBUST)
        else:
            lo, hi = min(float(v.min()) for v in values), max(float(v.max()) for v in values)
        return float(lo), float(hi if hi > lo else lo + 1.0)

    def beyond(lo, hi, times):
        span = 1e-9 * (hi - lo)
        return [m for m, f in fields.items() if any(float(f.isel(time=i).max()) > hi + span or
                                                    float(f.isel(time=i).min()) < lo - span for i in times)]

    if scale == "per-frame":
        norms = [Normalize(*limits([f.isel(time=i) for f in ref.values()])) for i in idx]
        clipped = sorted({m for n, i in zip(norms, idx) for m in beyond(n.vmin, n.vmax, [i])})
        return norms, clipped
    lo, hi = limits([f.isel(time=i) for f in ref.values() for i in idx])  # the shown frames, read one by one
    if scale == "log":
        top = hi if hi > 0 else 1.0
        positive = [float(np.min(v[v > 0])) for f in ref.values() for i in idx
                    for v in [np.asarray(f.isel(time=i))] if np.any(v > 0)]
        floor = max(min(positive, default=top * LOG_FLOOR), top * LOG_FLOOR)
        floor = min(floor, top / 10)  # at least one decade
        return [LogNorm(floor, top, clip=True)] * len(idx), []
    return [Normalize(lo, hi)] * len(idx), beyond(lo, hi, idx)


def one_panel(ax=None, figsize=(6, 4)):
    """``(figure, ax)``: the figure that holds ``ax`` (its outermost one, also from a sub-figure), or a new
    figure with one panel."""
    if ax is None:
        ax = Figure(figsize=figsize, layout="constrained").subplots()
    return root_figure(ax), ax


def root_figure(artist) -> Figure:
    """The outermost Figure of an Axes, a sub-figure or a figure (``.figure`` of a sub-figure is its root in
    every matplotlib this package supports; ``get_figure(root=True)`` only from 3.10)."""
    fig = artist if isinstance(artist, Figure) else artist.figure
    while getattr(fig, "figure", fig) is not fig:
        fig = fig.figure
    return fig


def _t(ds: xr.Dataset, i: int) -> str:
    """Saved time ``i`` as the pictures show it (``500``, or ``3.2 h`` in a result with units)."""
    return _units.time_text(ds, float(ds["time"][i]))


def _axis(ds: xr.Dataset, dim: str) -> str:
    """A spatial axis label: ``x``, or ``x [mm]`` in a result with units."""
    return _units.with_unit(dim, _units.of(ds).label("length"))


def _extent(f: xr.DataArray):
    """Cell-edge extent of a 2-D field for imshow with origin='lower'."""
    ys, xs = f[f.dims[0]].values, f[f.dims[1]].values
    dy = ys[1] - ys[0] if len(ys) > 1 else 1.0
    dx = xs[1] - xs[0] if len(xs) > 1 else 1.0
    return (xs[0] - dx / 2, xs[-1] + dx / 2, ys[0] - dy / 2, ys[-1] + dy / 2)


LINE_STYLES = ("-", "--", "-.", ":")
_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


class PowerLabels(LogFormatterSciNotation):
    """Log-axis labels such as ``10⁻¹⁴`` and ``1.27×10⁻¹`` in plain text: the same labels as matplotlib's
    default, without typesetting each one as mathematics (which took a third of the time of a run's picture)."""

    def __call__(self, x, pos=None):
        text = super().__call__(x, pos)
        if not text.startswith("$"):
            return text
        body = text.strip("$").replace("\\mathdefault", "").replace("\\times", "\u00d7").replace("{", "").replace("}", "")
        head, hat, power = body.partition("^")
        return head + power.translate(_SUPERSCRIPT) if hat else head


def log_axis(ax, axis: str = "y") -> None:
    """A logarithmic ``axis`` of ``ax`` labelled with :class:`PowerLabels`."""
    getattr(ax, f"set_{axis}scale")("log")
    a = getattr(ax, f"{axis}axis")
    a.set_major_formatter(PowerLabels(labelOnlyBase=False))
    a.set_minor_formatter(PowerLabels(labelOnlyBase=False))  # labelled only when few decades show


def _draw(ax, f: xr.DataArray, norm, cmap="viridis", style=None):
    """A 2-D map (y up) or a 1-D line; returns the artist. Lines number ``style`` (0, 1, ...) get their
    own colour, dash and width, widest first, so that lines drawn over each other stay visible."""
    if f.ndim == 1:
        k = style or 0
        (line,) = ax.plot(f[f.dims[0]], f, color=f"C{k % 10}", ls=LINE_STYLES[k % len(LINE_STYLES)],
                          lw=max(3.0 - 0.5 * k, 1.0), label=f.name)
        lo, hi = (norm.vmin, norm.vmax)
        if isinstance(norm, LogNorm):
            log_axis(ax)
            ax.set_ylim(lo, hi * 1.5)
        else:
            ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))  # peaks clear of the frame
        return line
    image = ax.imshow(block_mean(np.asarray(f), DISPLAY_CELLS), origin="lower", extent=_extent(f), norm=norm,
                      cmap=cmap, interpolation="nearest", aspect="equal")
    return image


LEGEND_CURVES = 6  # profiles: up to this many saved times get a legend (beside the panel), more a colour bar of time
DISPLAY_CELLS = 512  # a map panel is a few hundred pixels wide: larger fields are drawn as block means


def block_mean(a: np.ndarray, limit: int) -> np.ndarray:
    """``a`` with each axis longer than ``limit`` cells replaced by means over blocks of ``ceil(n / limit)``
    cells (the last block may be shorter), so a picture of a huge field costs what a small one does."""
    for axis in range(a.ndim):
        n = a.shape[axis]
        if n > limit:
            starts = np.arange(0, n, -(-n // limit))
            counts = np.diff(np.append(starts, n)).astype(float)
            shape = [1] * a.ndim
            shape[axis] = len(starts)
            a = np.add.reduceat(a, starts, axis=axis) / counts.reshape(shape)
    return a


def row_height(ds: xr.Dataset) -> float:
    """Inches per row of maps: a 2.25-inch-wide panel keeps the field's aspect ratio (between 0.8 and 2.4
    inches, labels included), so that a long thin aquarium leaves no empty bands; 2.4 for lines."""
    f = _field(ds["initial"], ds)
    if f.ndim != 2:
        return 2.4
    x0, x1, y0, y1 = _extent(f)
    return float(np.clip(2.25 * (y1 - y0) / (x1 - x0), 0.65, 2.25)) + 0.15


def snapshots(ds: xr.Dataset, methods=None, times=None, fig: Figure | None = None, scale: str = "auto") -> Figure:
    """Maps: rows are methods, columns evenly spaced saved times, colour bars on every scale used.
    Lines (1-D results): one panel per time with every method drawn over the others."""
    methods = methods or methods_of(ds)
    idx = pick_times(ds) if times is None else list(times)
    fields = {m: _field(ds[m], ds) for m in methods}
    maps = fields[methods[0]].ndim == 3  # time and two space axes
    rows = len(methods) if maps else 1
    fig = fig or Figure(figsize=(2.7 * len(idx) + 1.4, row_height(ds) * rows + 1.2), layout="constrained")
    axes = fig.subplots(rows, len(idx), squeeze=False, sharex=True, sharey=True)
    scale = choose_scale(fields, idx, scale)
    norms, clipped = _norms(fields, idx, scale)
    extend = "both" if clipped else "neither"
    for c, i in enumerate(idx):
        artist = None
        axes[0, c].set_title(f"t = {_t(ds, i)} (step {int(ds['step'][i])})", fontsize=9)
        for r, m in enumerate(methods):
            ax = axes[r if maps else 0, c]
            artist = _draw(ax, fields[m].isel(time=i), norms[c], style=None if maps else r)
            if "solid" in ds:
                from .plot_medium import solids

                solids(ax, ds)
            if c == 0:
                ax.set_ylabel(f"{m}\n{_axis(ds, fields[m].dims[-2])}" if maps else "concentration")
            ax.set_xlabel(_axis(ds, fields[m].dims[-1]) if ax in axes[-1] else "")
            if maps:
                ax.locator_params(axis="x", nbins=4)  # neighbouring panels' end labels do not run together
        if scale == "per-frame" and maps:
            fig.colorbar(artist, ax=axes[:, c], location="bottom", shrink=0.9, aspect=15, extend=extend, pad=0.01,
                         label=f"concentration at t = {_t(ds, i)}")
    if scale != "per-frame" and maps:
        fig.colorbar(artist, ax=axes, shrink=0.8, label="concentration" + (" (log)" if scale == "log" else ""),
                     extend=extend)
    if not maps:
        axes[0, 0].legend(fontsize=7)
    what = {"linear": "one colour scale", "per-frame": "one colour scale per time", "log": "log colour scale"}[scale]
    if clipped:
        ref = ", ".join(_reference(fields)) if not all(m in NOISY for m in _reference(fields)) else \
            f"the {ROBUST[0]:g}-{ROBUST[1]:g} percentiles"
        what += f" set by {ref}; {', '.join(clipped)} clipped to it"
    if not maps:
        what = "methods drawn over each other" + ("" if scale == "linear" else f", {scale} scale")
    fig.suptitle(f"{ds.attrs.get('title', '')}: {what}{_slice_note(ds)}", fontsize=10)
    return fig


def differences(ds: xr.Dataset, a: str, b: str, times=None, fig: Figure | None = None) -> Figure:
    """Maps of ``a - b`` at evenly spaced saved times after the start (where every pair agrees: the same
    initial field), with a symmetric colour scale."""
    if times is None:
        later = np.flatnonzero(ds["time"].values > ds["time"].values[0])
        idx = [int(later[j]) for j in pick_times(ds.isel(time=later))] if later.size else [0]
    else:
        idx = list(times)
    fig = fig or Figure(figsize=(2.8 * len(idx) + 1.4, 3.2), layout="constrained")
    axes = fig.subplots(1, len(idx), squeeze=False)[0]
    d = _field(ds[a] - ds[b], ds)
    lim = float(np.abs(d).max()) or 1.0
    artist = None
    for ax, i in zip(axes, idx):
        artist = _draw(ax, d.isel(time=i), Normalize(-lim, lim), cmap="RdBu_r")
        ax.set_title(f"t = {_t(ds, i)}", fontsize=9)
    if d.ndim == 3:
        fig.colorbar(artist, ax=axes, shrink=0.8, label=f"{a} - {b}")
    else:
        axes[0].set_ylabel(f"{a} - {b}")
    fig.suptitle(f"{a} - {b}{_slice_note(ds)}", fontsize=10)
    return fig


def errors(ds: xr.Dataset, ax=None, cmp: xr.Dataset | None = None):
    """``max |a - b| / max |u0|`` over time for each pair that must agree; for approximate pairs also
    the difference theory predicts (dashed). ``cmp`` is :func:`physconv.metrics.compare` of ``ds``; drawn on
    ``ax`` when given. Returns the Figure."""
    fig, ax = one_panel(ax)
    cmp = compare(ds) if cmp is None else cmp
    log_axis(ax)
    t, label = _units.time_axis(ds)
    later = t > 0
    scale = cmp.attrs["scale"]
    if "pair" in cmp.coords:
        for i, pair in enumerate(cmp["pair"].values):
            color = f"C{i % 10}"
            kind = str(cmp["pair_kind"].values[i])
            y = cmp["max_abs_diff"][i].values / scale
            ax.plot(t[later], np.maximum(y[later], 1e-18), marker="o", ms=3, color=color, label=f"{pair} ({kind})")
            p = cmp["predicted_max_abs_diff"][i].values / scale
            if not np.isnan(p[later]).all():
                ax.plot(t[later], np.maximum(p[later], 1e-18), ls="--", color=color, lw=1,
                            label=f"{pair}: theory")
    ax.axhline(cmp.attrs["exact_tolerance"], color="k", lw=0.6, ls=":", label="round-off bound (exact pairs)")
    if "tolerance" in cmp and float(cmp["tolerance"].max()) > cmp.attrs["exact_tolerance"]:
        steps = cmp["step"].values.astype(float)  # the bound grows with the steps: (n + 1) 2**-24 (...)
        ax.plot(t[later], float(cmp["tolerance"].max()) * (steps[later] + 1) / (steps[-1] + 1), color="k",
                    lw=0.8, ls="-.", label="float32 round-off bound (explicit)")
    ax.set_xlabel(label)
    ax.set_ylabel("max |a - b| / max |u0|")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    ax.set_title("how far apart the methods are (dashed: theory)", fontsize=10)
    return fig


def monte_carlo_errors(ds: xr.Dataset, ax=None, cmp: xr.Dataset | None = None):
    """Relative L2 error of the Monte Carlo frames against their exact expectation, and the binomial expectation."""
    fig, ax = one_panel(ax)
    cmp = compare(ds) if cmp is None else cmp
    t, label = _units.time_axis(ds)
    later = t > 0
    shown = np.concatenate([cmp["mc_rel_l2"].values[later], cmp["mc_expected_rel_l2"].values[later]])
    shown = shown[np.isfinite(shown) & (shown > 0)]
    if shown.size and shown.max() > 10 * shown.min():  # a log axis only where the values span a decade
        log_axis(ax)
    ax.plot(t[later], cmp["mc_rel_l2"].values[later], marker="s", ms=3, color="C3", label="measured")
    ax.plot(t[later], cmp["mc_expected_rel_l2"].values[later], ls="--", color="gray", label="expected (binomial)")
    ax.set_xlabel(label)
    ax.set_ylabel("||mc - exact|| / ||exact||  (relative L2)")
    ax.set_title(f"monte_carlo against {cmp.attrs['mc_reference']}", fontsize=10)
    ax.legend(fontsize=7)
    return fig


def profiles(ds: xr.Dataset, method: str | None = None, ax=None):
    """The field along the last axis through the initial centre of mass, one curve per saved time."""
    method = method or methods_of(ds)[0]
    fig, ax = one_panel(ax)
    da = ds[method]
    at = centre_of_mass(ds)
    through = []
    for d in da.dims[1:-1]:
        da = da.isel({d: at[d]})
        through.append(f"{d} = {float(ds[d][at[d]]):g}")
    x = da.dims[-1]
    n = ds.sizes["time"]
    cmap = colormaps["viridis"]
    if "solid" in ds:  # the solid cells the line crosses, shaded
        from .plot_medium import solids

        line = ds["solid"].isel({d: at[d] for d in ds["solid"].dims[:-1]})
        solids(ax, xr.Dataset({"solid": line, "initial": line}))
    for i in range(n):
        ax.plot(da[x], da.isel(time=i), color=cmap(i / max(n - 1, 1)), label=f"t = {_t(ds, i)}")
    first, rest = float(np.abs(da.isel(time=0)).max()), float(np.abs(da.isel(time=slice(1, None))).max()) if n > 1 else 0
    if rest > 0 and first > AUTO_RANGE * rest:  # a point source: keep the spreading visible, say what is cut
        lo = float(da.isel(time=slice(1, None)).min())
        ax.set_ylim(min(lo, 0.0) - 0.05 * rest, 1.15 * rest)
        ax.text(0.02, 0.97, f"t = 0 off scale (peak {first:.4g})", transform=ax.transAxes, va="top", fontsize=7)
    ax.set_xlabel(_axis(ds, x))
    ax.set_ylabel(f"{method} concentration")
    if n <= LEGEND_CURVES:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    else:  # too many times for a legend: a colour bar of time
        from matplotlib.cm import ScalarMappable

        t, label = _units.time_axis(ds)
        ax.figure.colorbar(ScalarMappable(Normalize(float(t[0]), float(t[-1])), cmap), ax=ax, label=label)
    where = f"\nat {', '.join(through)} (centre of mass)" if through else ""
    ax.set_title(f"profiles along {x}{where}", fontsize=10)
    return fig


def spacetime(ds: xr.Dataset, method: str | None = None, ax=None):
    """For 1-D results: the field as an image of position (horizontal) against time (vertical)."""
    method = method or methods_of(ds)[0]
    da = ds[method]
    if da.ndim != 2:
        raise ValueError("a space-time image needs a 1-D result")
    fig, ax = one_panel(ax)
    t, label = _units.time_axis(ds)
    image = ax.pcolormesh(da["x"], t, da, shading="nearest", cmap="viridis")
    ax.figure.colorbar(image, ax=ax, label="concentration")
    ax.set_xlabel(_axis(ds, "x"))
    ax.set_ylabel(label)
    ax.set_title(f"{method}: space-time")
    return fig


def overview(ds: xr.Dataset, cmp: xr.Dataset | None = None, scale: str = "auto") -> Figure:
    """Snapshots of every method, the differences between them over time and profiles."""
    methods = methods_of(ds)
    idx = pick_times(ds)
    cmp = compare(ds) if cmp is None else cmp
    with_mc = "mc_rel_l2" in cmp
    rows = len(methods) if ds[methods[0]].ndim >= 3 else 1  # maps: one row per method; lines: overlaid
    height = row_height(ds) * rows
    fig = Figure(figsize=(max(2.7 * len(idx) + 1.4, 13 if with_mc else 10), height + 5.2),
                 layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[height + 1.2, 4.0])
    snapshots(ds, methods, idx, fig=top, scale=scale)
    leaking = "medium" in ds.attrs and not cmp.attrs.get("conserving", 1)
    panels = list(bottom.subplots(1, (3 if with_mc else 2) + leaking))
    if leaking:
        from .plot_medium import survival

        survival(ds, ax=panels.pop(), cmp=cmp)
    if "pair" in cmp.coords:
        errors(ds, ax=panels[0], cmp=cmp)
    else:  # one method (or Monte Carlo beside nothing to check against): no pair to draw
        panels[0].set_axis_off()
        why = ("monte_carlo is held against its exact expectation (next panel);\nno other pair to compare: run two "
               "or more of\nexplicit, implicit, spectral, semidiscrete, gaussian") if with_mc else \
            "no pair of methods to compare\n(run two or more)"
        panels[0].text(0.5, 0.5, why, ha="center", va="center", transform=panels[0].transAxes, fontsize=9)
    if with_mc:
        monte_carlo_errors(ds, ax=panels[1], cmp=cmp)
    profiles(ds, methods[0], ax=panels[-1])
    return fig


def animate(ds: xr.Dataset, path=None, fps: int = 4, methods=None, scale: str = "auto"):
    """A GIF of the methods side by side over the saved times, with a colour bar (one palette for every
    frame, see :mod:`physconv._gif`), written to ``path`` when given. Returns a
    :class:`physconv.notebook.Animation`, which a notebook plays inline."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from . import _gif

    methods = methods or methods_of(ds)
    fields = {m: _field(ds[m], ds) for m in methods}
    every = list(range(ds.sizes["time"]))
    scale = choose_scale(fields, every, scale)
    norms, clipped = _norms(fields, every, scale)
    fig = Figure(figsize=(3.0 * len(methods) + 1.0, 3.4), layout="constrained")
    axes = fig.subplots(1, len(methods), squeeze=False)[0]
    shared = norms[0] if scale != "per-frame" else Normalize(norms[0].vmin, norms[0].vmax)
    artists = [_draw(ax, fields[m].isel(time=0), shared) for ax, m in zip(axes, methods)]
    for ax, m in zip(axes, methods):
        ax.set_title(m)
        ax.set_xlabel(_axis(ds, fields[m].dims[-1]))
        if fields[m].ndim == 3:
            ax.locator_params(axis="x", nbins=4)
    axes[0].set_ylabel(_axis(ds, fields[methods[0]].dims[-2]) if fields[methods[0]].ndim == 3 else "concentration")
    if fields[methods[0]].ndim == 3:
        fig.colorbar(artists[0], ax=axes, shrink=0.8, extend="both" if clipped else "neither",
                     label="concentration" + (f" ({', '.join(clipped)} clipped)" if clipped else ""))
    label = fig.suptitle("")

    def draw(i):
        if scale == "per-frame":
            shared.vmin, shared.vmax = norms[i].vmin, norms[i].vmax
        for art, ax, m in zip(artists, axes, methods):
            f = fields[m].isel(time=i).values
            if f.ndim == 1:
                art.set_ydata(f)
                ax.set_ylim(shared.vmin, shared.vmax)
            else:
                art.set_data(block_mean(f, DISPLAY_CELLS))
                art.set_norm(shared)
        label.set_text(f"{ds.attrs.get('title', '')}: t = {_t(ds, i)}{_slice_note(ds)}")
        return artists

    canvas = FigureCanvasAgg(fig)

    def frames():
        for i in range(ds.sizes["time"]):
            draw(i)
            canvas.draw()
            if i == 0:  # the panels stay where the first frame's layout put them: laid out once, not per frame
                fig.set_layout_engine("none")
            yield np.asarray(canvas.buffer_rgba())

    from .notebook import Animation, gif_bytes

    movie = Animation(gif_bytes(lambda f: _gif.write(frames(), f, fps)))
    if path is not None:
        movie.save(path)
    return movie
