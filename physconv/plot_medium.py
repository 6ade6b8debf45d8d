"""Where convolution ends, in pictures (DESIGN §11): the n-step propagator from several source cells (columns
of P^n) beside the uniform medium's, and a random medium's large-scale diffusivity D_eff."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from . import medium
from . import units as _units
from .metrics import compare, medium_of, methods_of
from .plot import DISPLAY_CELLS, LINE_STYLES, _axis, _draw, _extent, _field, block_mean

SOLID_COLOUR = "0.55"  # obstacles: mid grey, apart from every colour of the field's palettes


def solids(ax, ds: xr.Dataset) -> None:
    """Draw a medium's solid cells (DESIGN §11) over a map in grey, or shade them on a line's axis."""
    if "solid" not in ds:
        return
    solid = _field(ds["solid"], ds)
    if not solid.values.any():
        return
    from matplotlib.colors import ListedColormap

    if solid.ndim == 2:
        mask = np.ma.masked_equal(block_mean(solid.values.astype(float), DISPLAY_CELLS) >= 0.5, False)
        ax.imshow(mask, origin="lower", extent=_extent(solid), cmap=ListedColormap([SOLID_COLOUR]),
                  interpolation="nearest", aspect="equal", vmin=0, vmax=1)
    else:
        x = solid[solid.dims[0]].values
        h = x[1] - x[0] if len(x) > 1 else 1.0
        for xi in x[solid.values.astype(bool)]:
            ax.axvspan(xi - h / 2, xi + h / 2, color=SOLID_COLOUR, alpha=0.5, lw=0)


def survival(ds: xr.Dataset, ax=None, cmp: xr.Dataset | None = None):
    """The share of the initial mass still in the domain against time, one curve per method (walls or
    obstacles that absorb: the survival curve of a particle released with the initial field). Where salt
    also comes in (dirichlet walls: the mass grows, or starts from nothing) the mass itself is drawn."""
    cmp = compare(ds) if cmp is None else cmp
    from .plot import one_panel

    fig, ax = one_panel(ax)
    t, label = _units.time_axis(ds)
    m0 = float(ds.attrs["mass_initial"])
    mass = cmp["mass"].values
    share = m0 > 0 and bool(np.all(mass <= m0 * (1 + 1e-9)))
    for k, m in enumerate(cmp["method"].values):
        ax.plot(t, mass[k] / (m0 if share else 1.0), color=f"C{k % 10}", ls=LINE_STYLES[k % len(LINE_STYLES)],
                lw=max(3.0 - 0.5 * k, 1.0), label=str(m))
    ax.set_xlabel(label)
    if share:
        ax.set_ylabel("mass inside / initial mass")
        ax.set_ylim(0, 1.05)
        ax.set_title("survival: the salt still inside", fontsize=10)
    else:
        ax.set_ylabel("mass in the domain")
        ax.set_ylim(bottom=0)
        ax.set_title("the salt in the domain (walls add it)", fontsize=10)
    ax.legend(fontsize=7)
    return fig


SOURCES_PER_AXIS = 3  # 3 x 3 source cells in 2-D (5 along a line)


def sources(m, per_axis: int = SOURCES_PER_AXIS) -> list[int]:
    """Flat indices of fluid cells spread evenly over the grid (each the fluid cell nearest its target)."""
    g = m.grid
    count = per_axis if g.ndim > 1 else 5
    axes = [np.rint((np.arange(count) + 0.5) / count * n - 0.5).astype(int) for n in g.shape[-2:]]
    targets = np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(axes), -1).T
    lead = [n // 2 for n in g.shape[:-2]]
    fluid = np.argwhere(~m.solid)
    out = []
    for t in targets:
        point = np.array(lead + list(t))
        out.append(int(np.ravel_multi_index(tuple(fluid[np.argmin(((fluid - point) ** 2).sum(axis=1))]), g.shape)))
    return sorted(set(out))


def columns(m, dt: float, steps: int, cells) -> np.ndarray:
    """Columns ``cells`` of ``P^steps`` (the walls' constant left out): each source cell's n-step propagator."""
    zero = np.zeros(m.grid.shape)
    base = medium.explicit(m, zero, dt, steps)
    out = []
    for c in cells:
        delta = zero.copy()
        delta.flat[c] = 1.0
        out.append(medium.explicit(m, delta, dt, steps) - base)
    return np.array(out)


def propagator_steps(m, dt: float, last: int) -> int:
    """Steps after which a source has spread over about a tenth of the grid's shortest side (at most ``last``)."""
    D = float(m.diffusivity[:, ~m.solid].mean())
    reach = min(n * h for n, h in zip(m.grid.shape, m.grid.spacing)) / (2 * SOURCES_PER_AXIS)
    return int(np.clip(round(reach**2 / (2 * D * dt)), 1, max(1, last)))


def propagator(ds: xr.Dataset, steps: int | None = None) -> Figure:
    """The n-step propagator from several source cells in the result's medium, beside the same sources in
    the uniform medium of its mean D (identical shifted copies: one kernel)."""
    m = medium_of(ds)
    dt = float(ds.attrs["dt"])
    n = propagator_steps(m, dt, int(ds["step"].values[-1])) if steps is None else int(steps)
    cells = sources(m)
    uniform = medium.build(m.grid, m.diffusivity[:, ~m.solid].mean(axis=1), velocity=None if m.velocity is None
                           else m.velocity.reshape(m.grid.ndim, -1).mean(axis=1))
    panels = [("this medium", m, ds), ("uniform: its mean D" + (" and mean velocity" if m.velocity is not None else ""),
                                       uniform, None)]
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    coords = {d: ds[d] for d in ds["initial"].dims}
    for ax, (title, med, with_solids) in zip(axes, panels):
        cols = columns(med, dt, n, cells)
        scaled = cols / np.abs(cols).reshape(len(cols), -1).max(axis=1).reshape((-1,) + (1,) * med.grid.ndim)
        shown = xr.DataArray(scaled.max(axis=0), coords=coords, dims=ds["initial"].dims)
        if shown.ndim == 3:
            shown = shown.isel(z=med.grid.shape[0] // 2)
        if shown.ndim == 2:
            from matplotlib.colors import Normalize

            image = _draw(ax, shown, Normalize(0, 1), cmap="magma")
            if with_solids is not None:
                solids(ax, with_solids)
            at = np.array(np.unravel_index(cells, med.grid.shape))[-2:]
            ys, xs = (ds[d].values[i] for d, i in zip(shown.dims, at))
            ax.plot(xs, ys, "c+", ms=6, mew=1.2, label="source cells")
            ax.set_xlabel(_axis(ds, shown.dims[1]))
            ax.set_ylabel(_axis(ds, shown.dims[0]))
        else:
            for k, col in enumerate(scaled):
                ax.plot(ds[shown.dims[0]], col, color=f"C{k % 10}")
            if with_solids is not None:
                solids(ax, with_solids)
            ax.set_xlabel(_axis(ds, shown.dims[0]))
            image = None
        ax.set_title(title, fontsize=10)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.85, label="each propagator / its own peak")
        axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{ds.attrs.get('title', '')}: where one kernel ends — columns of P^n from {len(cells)} cells, "
                 f"n = {n} steps (t = {_units.time_text(ds, n * dt)})", fontsize=10)
    return fig


def homogenised(ds: xr.Dataset, walkers: int = 100_000, seed: int = 0):
    """``(figure, Homogenised, exact D_eff)``: the walkers' D_eff with its standard error against the exact
    lattice value, and the result's field coarse-grained beside a uniform run at D_eff."""
    from . import spectral
    from .medium.homogenise import effective_diffusivity, exact_msd

    m = medium_of(ds)
    dt = float(ds.attrs["dt"])
    steps = int(ds["step"].values[-1])
    est = effective_diffusivity(m, dt, steps, walkers, seed)
    marks = np.rint(est.times / dt).astype(int)
    exact = exact_msd(m, dt, marks)
    i1 = int(np.argmin(np.abs(est.times - est.t1)))
    exact_D = (exact[:, -1] - exact[:, i1]) / (2 * (est.t2 - est.t1))
    D = m.diffusivity[:, ~m.solid].mean(axis=1)
    unit = _units.of(ds)
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    later = est.times > 0
    for a, name in enumerate(ds["initial"].dims):
        axes[0].plot(est.times[later], est.msd[a, later] / (2 * est.times[later]), "o", ms=3, color=f"C{a}",
                     label=f"walkers, {name}")
        axes[0].plot(est.times[later], exact[a, later] / (2 * est.times[later]), "-", color=f"C{a}", lw=1,
                     label=f"exact lattice, {name}")
        axes[0].axhline(est.diffusivity[a], color=f"C{a}", ls="--", lw=1)
    axes[0].axhline(float(D.mean()), color="0.3", ls=":", label="D of the fluid (mean)")
    axes[0].set_xlabel(_units.with_unit("time", unit.label("time")))
    axes[0].set_ylabel(_units.with_unit("MSD / (2 t) per axis", unit.label("diffusivity")))
    axes[0].set_ylim(0, 1.15 * float(max(D.max(), (est.msd[:, later] / (2 * est.times[later])).max())))
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"D_eff = {_pm(est.diffusivity, est.stderr)}  (D = {_list(D)}) {unit.label('diffusivity')}",
                      fontsize=9)
    method = next(k for k in ("explicit", "semidiscrete", "spectral", "implicit") if k in methods_of(ds)) \
        if any(k in methods_of(ds) for k in ("explicit", "semidiscrete", "spectral", "implicit")) else methods_of(ds)[0]
    last = ds[method][-1].values
    uniform = spectral.heat(ds["initial"].values, m.grid, diffusivity=est.diffusivity, time=float(ds["time"][-1]))
    block = max(1, round(max(m.grid.shape) / 16))  # blocks of several grains
    limit = max(1, -(-max(m.grid.shape) // block))
    fluid = (~m.solid).astype(float)
    porosity = float(fluid.mean())
    with np.errstate(invalid="ignore", divide="ignore"):  # the pore water's mean concentration per block
        coarse = [block_mean(last, limit) / block_mean(fluid, limit), block_mean(uniform, limit) / porosity]
    from matplotlib.colors import Normalize

    norm = Normalize(0, max(float(np.nanmax(c)) for c in coarse))
    for ax, c, title in zip(axes[1:], coarse, (f"{method}: mean over the pore water of {block} x {block} blocks",
                                               f"uniform medium at D_eff: mass per area / porosity {porosity:.3g}")):
        if c.ndim == 2:
            image = ax.imshow(c, origin="lower", extent=_extent(ds["initial"]), norm=norm, cmap="viridis",
                              interpolation="nearest", aspect="equal")
        else:
            image = None
            ax.plot(c)
        ax.set_title(f"{title}\nt = {_units.time_text(ds, float(ds['time'][-1]))}", fontsize=9)
    if image is not None:
        fig.colorbar(image, ax=axes[1:], shrink=0.85, label="concentration in the pore water")
    fig.suptitle(f"{ds.attrs.get('title', '')}: the medium at large scale — walkers' D_eff ({est.walkers} walkers, "
                 f"t from {est.t1:g} to {est.t2:g}) and the exact lattice value {_list(exact_D)}", fontsize=10)
    return fig, est, exact_D


def _list(a) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in np.atleast_1d(a)) + "]"


def _pm(values, errors) -> str:
    return "[" + ", ".join(f"{v:.4g} ± {e:.2g}" for v, e in zip(values, errors)) + "]"
