"""Pictures of the inverse problems: the data beside the fitted prediction, the residual map, each mode's
transfer factor against the fitted line; a learned kernel beside the fitted one; a deblurred picture with
its horizon drawn on the spectrum."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..plot import block_mean

CELLS = 512  # maps wider than this are drawn as block means
MAX_POINTS = 20_000  # modes drawn in the transfer panel (the strongest)


def _map(ax, fig, a, title, cmap="viridis", symmetric=False, extent=None, limits=None):
    a = np.asarray(a)
    if a.ndim == 1:
        ax.plot(np.arange(a.size) if extent is None else np.linspace(extent[0], extent[1], a.size), a, lw=1.5)
        ax.set_title(title, fontsize=10)
        return
    if a.ndim == 3:
        a = a[a.shape[0] // 2]
    b = block_mean(a, CELLS)
    kw = {} if limits is None else {"vmin": limits[0], "vmax": limits[1]}
    if symmetric:
        lim = float(np.abs(b).max()) or 1.0
        kw = {"vmin": -lim, "vmax": lim}
    im = ax.imshow(b, origin="lower", cmap=cmap, interpolation="nearest", aspect="equal", extent=extent, **kw)
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=10)


def _extent(grid):
    if grid.ndim < 2:
        return (0, grid.shape[0] * grid.spacing[0])
    return (0, grid.shape[-1] * grid.spacing[-1], 0, grid.shape[-2] * grid.spacing[-2])


def fit_figure(frames, res, reference=None, reference_label="true kernel") -> Figure:
    """A parametric fit (:class:`~physconv.inverse.fit.FitResult`) or a learned kernel
    (:class:`~physconv.inverse.kernel_fit.KernelFit`) on its frames; a learned kernel is drawn beside
    ``reference`` when given (the kernel that made the frames), else beside the one its D_eff implies."""
    from .kernel_fit import KernelFit

    if isinstance(res, KernelFit):
        return _kernel_figure(frames, res, reference, reference_label)
    p = res.parts
    md, m, F, tau = p["modes"], p["model"], p["F"], p["tau"]
    g, _ = m.transfer(res.theta, tau)
    pred_last = md.field(p["predicted_last"])
    last = md.field(F[-1])  # the data on the same modes (a periodic axis's Nyquist mode is not fitted)
    fig = Figure(figsize=(15, 4.2), layout="constrained")
    axes = fig.subplots(1, 4)
    ext = _extent(frames.grid)
    _map(axes[0], fig, last, f"data at t = {frames.times[-1]:.4g}", extent=ext)
    _map(axes[1], fig, pred_last, "fitted propagator's prediction", extent=ext,
         limits=(float(np.min(last)), float(np.max(last))))  # the data's colour scale: alike where they agree
    _map(axes[2], fig, last - pred_last, "residual (data - prediction)", cmap="RdBu_r", symmetric=True, extent=ext)
    ax = axes[3]
    k2 = (md.kappa**2).sum(axis=0)
    # the first interval: the transfer over the longest one is near zero for all but the coarsest modes
    g1 = g[1].real
    reach = float(k2[g1 > 0.01].max()) if np.any(g1 > 0.01) else float(k2.max())
    snr = np.abs(F[0]) / np.sqrt(p["s2"] * p["v"][0] * md.dof)
    inside = np.flatnonzero(k2 <= reach)
    idx = inside[snr[inside] > 10]
    label = "modes > 10x the noise: frame 1 / frame 0"
    if idx.size < 20:  # noisy frames: the strongest modes there are, said in the legend
        idx = inside[np.argsort(snr[inside])[-min(200, inside.size):]]
        label = f"{idx.size} strongest modes (> {snr[idx].min():.2g}x the noise)"
    if idx.size > MAX_POINTS:
        idx = idx[np.argsort(snr[idx])[-MAX_POINTS:]]
    ratio = (F[1, idx] / F[0, idx]).real
    ax.plot(k2[idx], ratio, ".", ms=3 if idx.size < 1000 else 2, alpha=0.5, color="C0", label=label)
    order = np.argsort(k2[idx])
    ax.plot(k2[idx][order], g1[idx][order], "-", color="C3", lw=1.5, label="fitted transfer")
    ax.set_xlabel("|κ|² (1/length²)")
    ax.set_ylabel(f"transfer factor over t = {tau[1]:.4g}")
    ax.set_xlim(0, reach)
    ax.set_ylim(max(min(-0.05, float(np.percentile(ratio, 2)) if ratio.size else 0), -1.0),
                min(max(1.1, float(np.percentile(ratio, 98)) if ratio.size else 0), 2.0))
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"{'+'.join(res.model)}: {res.verdict.split(':')[0]}", fontsize=10)
    est = ", ".join(f"{n} = {v:.4g} ± {s:.2g}" for n, v, s in zip(res.names, res.theta, res.stderr))
    fig.suptitle(f"{frames.source}: {est}", fontsize=11)
    return fig


def _kernel_figure(frames, res, reference=None, reference_label="true kernel") -> Figure:
    """The learned kernel, its standard errors, and beside them the kernel its D_eff and drift imply over
    one frame interval: the FTCS step where that step is stable, else the sampled heat kernel."""
    import textwrap

    from .. import kernels

    k = res.kernel if res.kernel.ndim == 2 else res.kernel.reshape(1, -1)
    fig = Figure(figsize=(12, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    dt = float(np.diff(frames.times)[0])
    D = float(np.mean(res.reading["D_eff"]))
    h = np.asarray(frames.grid.spacing, dtype=float)
    nd = frames.grid.ndim
    if reference is not None:
        ref, label = np.asarray(reference, dtype=float), reference_label
    elif D * dt * np.sum(1 / h**2) <= 0.5:
        ref, label = kernels.ftcs(D, dt, frames.grid.spacing, nd), f"FTCS step at D_eff = {D:.4g}"
    else:
        ref, label = kernels.gaussian(diffusivity=D, time=dt, spacing=frames.grid.spacing, ndim=nd), \
            f"heat kernel at D_eff = {D:.4g}, t = {dt:.4g}"
    ref = ref if ref.ndim == 2 else ref.reshape(1, -1)
    if ref.shape[0] > k.shape[0]:  # the heat kernel's centre, as wide as the learned one
        c0, c1 = (ref.shape[0] - k.shape[0]) // 2, (ref.shape[1] - k.shape[1]) // 2
        ref = ref[c0:c0 + k.shape[0], c1:c1 + k.shape[1]]
        label += " (its centre)"
    elif ref.shape[0] < k.shape[0]:  # a narrower kernel, drawn on the learned one's cells
        pad = [((a - b) // 2, (a - b) // 2) for a, b in zip(k.shape, ref.shape)]
        ref = np.pad(ref, pad)
    lim = float(max(np.abs(k).max(), np.abs(ref).max()))
    for ax, a, title in ((axes[0], k, "learned kernel"), (axes[2], ref, label)):
        im = ax.imshow(a, cmap="viridis", vmin=0, vmax=lim)
        if max(a.shape) <= 5:
            for (i, j), v in np.ndenumerate(a):
                ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=8, color="w" if v < 0.6 * lim else "k")
        ax.set_title(title, fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.8)
    se = res.stderr if res.stderr.ndim == 2 else res.stderr.reshape(1, -1)
    im = axes[1].imshow(se, cmap="magma", vmin=0)
    axes[1].set_title("standard errors", fontsize=10)
    fig.colorbar(im, ax=axes[1], shrink=0.8)
    fig.suptitle("\n".join(textwrap.wrap(f"{frames.source}: {res.reading['reading']}", 140)), fontsize=9)
    return fig


def deblur_figure(blurred, res, grid) -> Figure:
    """Blurred, restored, and the radially averaged power spectrum with the noise and the horizon."""
    fig = Figure(figsize=(14, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    ext = _extent(grid)
    # one grey scale for both, wide enough for the restored picture's contrast (its 0.5-99.5 % range): set by
    # the blurred one alone it saturated the restoration
    lo = min(float(np.min(blurred)), float(np.percentile(res.field, 0.5)))
    hi = max(float(np.max(blurred)), float(np.percentile(res.field, 99.5)))
    for ax, a, title in ((axes[0], blurred, "blurred"), (axes[1], res.field, f"restored ({res.method})")):
        if np.ndim(a) == 1:
            _map(ax, fig, a, title, extent=ext)
            continue
        im = ax.imshow(block_mean(np.asarray(a), CELLS), origin="lower", cmap="gray", vmin=lo, vmax=hi,
                       interpolation="nearest", aspect="equal", extent=ext)
        fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title(title, fontsize=10)
    ax = axes[2]
    k = res.kappa.ravel()
    pw = res.power.ravel()
    pos = k > 0
    edges = np.geomspace(k[pos].min(), k.max() * 1.0001, 40)
    which = np.digitize(k[pos], edges) - 1
    n = np.bincount(which, minlength=len(edges))
    mean = np.bincount(which, pw[pos], minlength=len(edges)) / np.maximum(n, 1)
    centre = np.sqrt(edges[:-1] * edges[1:])
    ok = n[:-1] > 0
    ax.loglog(centre[ok], mean[:-1][ok], "o", ms=3, label="blurred picture (mean |c|²)")
    A, beta = res.power_law
    g = res.transfer.ravel()[pos]
    ks = np.geomspace(k[pos].min(), k.max(), 200)
    Dt = -np.log(np.maximum(g, 1e-300)) / np.maximum(k[pos] ** 2, 1e-300)
    Dt = float(np.median(Dt[np.isfinite(Dt)]))
    ax.loglog(ks, A * ks ** (-beta) * np.exp(-2 * Dt * ks**2), "-", color="C3", label=f"fitted signal × g² (β = {beta:.2f})")
    ax.axhline(res.sigma**2, color="0.4", ls="--", label=f"noise σ² = {res.sigma ** 2:.2g}")
    if np.isfinite(res.horizon):
        ax.axvline(res.horizon, color="k", ls=":", label=f"horizon κ = {res.horizon:.3g} (scale {res.finest_scale:.3g})")
    ax.set_ylim(max(res.sigma**2 / 100, mean[:-1][ok].min() / 10), mean[:-1][ok].max() * 10)
    ax.set_xlabel("|κ| (1/length)")
    ax.set_ylabel("power per mode")
    ax.legend(fontsize=8)
    ax.set_title("what the blur left above the noise", fontsize=10)
    return fig
