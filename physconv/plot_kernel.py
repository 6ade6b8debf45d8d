"""The step kernel, and its convolution power becoming the heat kernel (the central limit theorem).

One step of any scenario is a kernel: the FTCS weights ``r_a`` on the
neighbours and ``1 - 2 sum r_a`` at the centre, or the user's weights turned
into probabilities (softmax at temperature T, or divided by their sum). After
``n`` steps a point has spread as the ``n``-th convolution power of that
kernel (computed exactly by :func:`physconv.spectral.propagate`), which the
central limit theorem says tends to the Gaussian of covariance
``n * Sigma`` — the heat kernel of variance ``2 D_eff t`` per axis.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from . import kernels as _k
from . import spectral

MAX_WINDOW = {1: 8193, 2: 1025, 3: 129}  # cells per axis of the window the n-step kernel is drawn in


def n_step_kernel(kernel, steps: int, spacing=1.0, dt: float = 1.0):
    """The ``steps``-th convolution power of ``kernel`` and the heat kernel of the same variance.

    Both live on a periodic window wide enough for ±6 standard deviations
    (capped at :data:`MAX_WINDOW`). Returns ``(power, heat, variance)`` with
    ``variance`` per axis in length² (``2 D_eff t``) and both kernels as
    probabilities per cell (sum 1).
    """
    k = _k.probability(kernel)
    m = _k.moments(k, spacing, dt)
    variance = 2.0 * np.diag(m.diffusivity) * steps * dt
    d = np.broadcast_to(np.asarray(spacing, dtype=float), (k.ndim,))
    half = [int(np.ceil(6 * np.sqrt(v) / da)) + (w - 1) // 2 for v, da, w in zip(variance, d, k.shape)]
    shape = tuple(min(2 * max(h, 7) + 1, MAX_WINDOW[k.ndim]) for h in half)
    delta = np.zeros(shape)
    delta[tuple(s // 2 for s in shape)] = 1.0
    power = spectral.propagate(delta, "periodic", kernel=k, steps=int(steps))
    heat = np.ones(())
    for n, v, da in zip(shape, variance, d):
        x = (np.arange(n) - n // 2) * da
        g = np.exp(-0.5 * x**2 / v) if v > 0 else (x == 0).astype(float)
        heat = np.multiply.outer(heat, g / g.sum())
    return power, heat, variance


def annotated(ax, a, title, fmt="{:.3g}", cmap="magma"):
    """A small kernel as a heat map laid out like its printed matrix (first row on top), each cell labelled
    with its value, the axes with the offsets (a 1-D kernel is one row of x offsets)."""
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    im = ax.imshow(a2, cmap=cmap, origin="upper")
    lo, hi = float(a2.min()), float(a2.max())
    big = float(np.abs(a2).max())
    if a2.size <= 49:
        for (i, j), v in np.ndenumerate(a2):
            ax.text(j, i, fmt.format(_k.clean(v, big)), ha="center", va="center", fontsize=7,
                    color="w" if v < lo + 0.5 * (hi - lo) else "k")
    ax.set_title(title, fontsize=9)
    ny, nx = a2.shape
    ax.set_xticks(range(nx), [f"{d:+d}" if d else "0" for d in range(-(nx // 2), nx // 2 + 1)], fontsize=7)
    ax.set_xlabel("offset x (cells)", fontsize=7)
    if a.ndim == 1:
        ax.set_yticks([])
    else:
        ax.set_yticks(range(ny), [f"{d:+d}" if d else "0" for d in range(-(ny // 2), ny // 2 + 1)], fontsize=7)
        ax.set_ylabel("offset y (cells)", fontsize=7)
    ax.figure.colorbar(im, ax=ax, shrink=0.8)


def _middle(a):
    """The 2-D middle slice of a 3-D array (else the array)."""
    return a[a.shape[0] // 2] if a.ndim == 3 else a


def kernel_figure(weights, probabilities, *, steps: int, spacing=1.0, dt: float = 1.0,
                  weights_title: str = "weights", probabilities_title: str = "probabilities") -> Figure:
    """Step kernel (weights and probabilities), its moments, and the n-step kernel beside the heat kernel.

    Parameters
    ----------
    weights : ndarray
        The kernel as the user gave it (before normalisation).
    probabilities : ndarray
        The probability kernel of one step.
    steps : int
        n, the number of steps whose convolution power is drawn.
    spacing, dt : cell size per axis (length) and step (time).
    """
    w = np.asarray(weights, dtype=float)
    p = _k.probability(probabilities)
    m = _k.moments(p, spacing, dt)
    steps = max(int(steps), 1)
    power, heat, variance = n_step_kernel(p, steps, spacing, dt)
    fig = Figure(figsize=(12, 7.2), layout="constrained")
    axes = fig.subplots(2, 3)
    slice_note = "\n(middle z slice)" if w.ndim == 3 else ""
    if w.shape == p.shape and np.array_equal(w, p):  # FTCS, or a kernel given as probabilities: one panel
        annotated(axes[0, 0], _middle(p), f"{weights_title}\n= {probabilities_title}{slice_note}")
        axes[0, 1].set_axis_off()
        axes[0, 1].text(0.0, 0.5, _moments_text(m), transform=axes[0, 1].transAxes, va="center", fontsize=9)
    else:
        annotated(axes[0, 0], _middle(w), weights_title + slice_note)
        annotated(axes[0, 1], _middle(p), probabilities_title + slice_note)
    P, H = _middle(power), _middle(heat)
    line = axes[0, 2]
    row = P[P.shape[0] // 2] if P.ndim == 2 else P
    hrow = H[H.shape[0] // 2] if H.ndim == 2 else H
    d_last = float(np.broadcast_to(np.asarray(spacing, dtype=float), (p.ndim,))[-1])
    x = (np.arange(len(row)) - len(row) // 2) * d_last
    line.plot(x, row, "o", ms=3, color="C0", label=f"{steps}-step kernel (convolution power)")
    line.plot(x, hrow, "-", color="C3", label=f"heat kernel, variance 2 D_eff t = {variance[-1]:.4g}")
    line.set_xlabel("offset along the last axis (length)")
    line.set_ylabel("probability per cell")
    line.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    line.set_title("through the centre", fontsize=9)
    if P.ndim == 2:
        norm = Normalize(0, max(P.max(), H.max()))
        d2 = np.broadcast_to(np.asarray(spacing, dtype=float), (p.ndim,))[-2:]
        extent = [(-(n // 2) - 0.5) * d for n, d in ((P.shape[1], d2[1]), (P.shape[0], d2[0]))]
        extent = (extent[0], -extent[0], extent[1], -extent[1])
        for ax, a, title in ((axes[1, 0], P, f"{steps}-step kernel"), (axes[1, 1], H, "heat kernel")):
            im = ax.imshow(a, origin="lower", cmap="viridis", norm=norm, extent=extent)
            ax.set_xlabel("offset x (length)")
            ax.set_title(title + (" (middle z slice)" if power.ndim == 3 else ""), fontsize=9)
            fig.colorbar(im, ax=ax, shrink=0.8)
        diff = P - H
        lim = float(np.abs(diff).max()) or 1.0
        im = axes[1, 2].imshow(diff, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim, extent=extent)
        fig.colorbar(im, ax=axes[1, 2], shrink=0.8)
    else:
        axes[1, 0].plot(x, row - hrow, color="C2")
        axes[1, 0].set_xlabel("offset (length)")
        axes[1, 0].set_ylabel("difference")
        axes[1, 1].semilogy(x, np.maximum(row, 1e-300), "o", ms=2, label="n-step")
        axes[1, 1].semilogy(x, np.maximum(hrow, 1e-300), "-", label="heat")
        axes[1, 1].set_ylim(max(hrow.max() * 1e-12, 1e-300), hrow.max() * 2)
        axes[1, 1].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
        axes[1, 1].set_title("log scale: the tails", fontsize=9)
        axes[1, 2].axis("off")
    rel = float(np.abs(power - heat).max() / heat.max())
    axes[1, 2 if P.ndim == 2 else 0].set_title(f"n-step - heat (max {rel:.2e} of the peak)", fontsize=9)
    big = max(float(np.abs(m.covariance).max()), 1e-300)
    drift = [round(_k.clean(v, big), 6) + 0.0 for v in m.mean]
    D = [round(_k.clean(v, big), 6) + 0.0 for v in np.diag(m.diffusivity)]
    fig.suptitle(f"one step: drift {drift} per step, D_eff per axis {D} (length²/time); "
                 f"after {steps} steps the convolution power is within {rel:.1e} of the heat kernel", fontsize=10)
    return fig


def _moments_text(m) -> str:
    """One step's drift and spread in words (numbers cleaned of round-off)."""
    scale = max(float(np.abs(m.covariance).max()), 1e-300)
    mean = [_k.clean(v, scale) for v in m.mean]
    cov = [[_k.clean(v, scale) for v in row] for row in m.covariance]
    D = [_k.clean(v, scale) for v in np.diag(m.diffusivity)]
    return (f"one step:\n  mean jump {np.round(mean, 6).tolist()}\n  covariance {np.round(cov, 6).tolist()}\n"
            f"  D_eff per axis {np.round(D, 6).tolist()}")


def scenario_kernel_figure(ds) -> Figure:
    """:func:`kernel_figure` for a result: its step kernel and its last saved step."""
    spacing = tuple(np.atleast_1d(ds.attrs["spacing"]).astype(float))
    dt = float(ds.attrs["dt"])
    steps = int(ds["step"].values[-1])
    if "kernel" in ds:
        p = ds["kernel"].values
        w = ds["kernel_weights"].values if "kernel_weights" in ds else p
        how = ds.attrs.get("kernel_normalize", "softmax")
        temp = ds.attrs.get("kernel_temperature")
        ptitle = f"probabilities: {_k.describe(how, float(temp) if temp is not None else 1.0)}"
        return kernel_figure(w, p, steps=steps, spacing=spacing, dt=dt, weights_title="weights as given",
                             probabilities_title=ptitle)
    D = float(ds.attrs["diffusivity"])
    k = _k.ftcs(D, dt, spacing)
    r = ", ".join(f"{v:.3g}" for v in np.atleast_1d(ds.attrs["cfl"]))
    return kernel_figure(k, k, steps=steps, spacing=spacing, dt=dt,
                         weights_title=f"FTCS step: r = D dt/dx² = {r}",
                         probabilities_title="probabilities: the FTCS weights themselves")
