"""Cross-correlation is convolution with the flipped kernel; template matching is correlation.

Sliding a template over a scene and summing products is a cross-correlation,

.. math:: (t \\star u)[x] = \\sum_d t[d]\\, u[x + d] = (\\mathrm{flip}(t) * u)[x],

so :func:`physconv.convolve.fft_correlate` is :func:`fft_convolve` with the
kernel flipped. With the template's mean removed, the correlation peaks where
the scene looks most like the template; normalised cross-correlation (NCC)
also divides by the scene's local spread, so it is 1 exactly at a copy of the
template. What lies beyond the border is the boundary's padding: zeros
(linear correlation) or the wrapped scene (circular), which agree everywhere
but within a template's half-width of the border.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..convolve import fft_correlate


def correlate(scene, template, boundary: str = "absorbing") -> np.ndarray:
    """Cross-correlation of ``scene`` with ``template`` (zeros beyond the border by default)."""
    return fft_correlate(np.asarray(scene, dtype=float), np.asarray(template, dtype=float), boundary)


def match(scene, template) -> tuple[int, ...]:
    """Position of the best match: the peak of the correlation with the zero-mean template."""
    t = np.asarray(template, dtype=float)
    c = correlate(scene, t - t.mean())
    return tuple(int(i) for i in np.unravel_index(np.argmax(c), c.shape))


def normalized(scene, template) -> np.ndarray:
    """Normalised cross-correlation at every position (template centred there; zeros beyond the border).

    .. math:: \\mathrm{NCC}[x] = \\frac{\\sum_d (t[d] - \\bar t)\\, u[x + d]}
              {\\lVert t - \\bar t\\rVert\\, \\sqrt{\\sum_d u[x + d]^2 - n\\, \\bar u_x^2}}

    with :math:`\\bar u_x` the scene's mean under the template; 0 where the scene is flat there.
    """
    u = np.asarray(scene, dtype=float)
    t = np.asarray(template, dtype=float)
    t0 = t - t.mean()
    box = np.ones_like(t)
    n = t.size
    local_sum = correlate(u, box)
    local_sq = correlate(u * u, box)
    spread = np.maximum(local_sq - local_sum**2 / n, 0.0)
    denom = np.sqrt(spread) * np.linalg.norm(t0)
    out = np.zeros_like(u)
    ok = denom > 1e-12 * max(1.0, float(np.sqrt(local_sq.max())))
    out[ok] = correlate(u, t0)[ok] / denom[ok]
    return out


def planted_scene(shape=(128, 160), template_size=15, positions=((40, 50), (90, 120), (8, 80)),
                  noise: float = 0.3, seed: int = 0):
    """A noisy scene with copies of a random template centred at ``positions``; returns (scene, template)."""
    rng = np.random.default_rng(seed)
    t = rng.random((template_size, template_size))
    u = noise * rng.standard_normal(shape)
    h = template_size // 2
    for y, x in positions:
        u[y - h:y + h + 1, x - h:x + h + 1] = t
    return u, t


def insight(seed: int = 0):
    """Numbers and figure for ``physconv insight correlate``."""
    from scipy.signal import correlate as scipy_correlate

    positions = ((40, 50), (90, 120), (8, 80))
    numbers = {"claim": "cross-correlation is convolution with the flipped kernel", "planted": [], "found": []}
    scene, t = planted_scene(positions=positions, seed=seed)
    numbers["fft_correlate_vs_scipy_signal"] = float(np.abs(correlate(scene, t) -
                                                            scipy_correlate(scene, t, mode="same")).max())
    for p in positions:
        one, t1 = planted_scene(positions=(p,), seed=seed)
        numbers["planted"].append(list(p))
        ncc_peak = np.unravel_index(np.argmax(normalized(one, t1)), one.shape)
        numbers["found"].append({"correlation": list(match(one, t1)), "ncc": [int(i) for i in ncc_peak]})
    ncc = normalized(scene, t)
    linear, circular = correlate(scene, t, "absorbing"), correlate(scene, t, "periodic")
    h = t.shape[0] // 2
    inner = (slice(h, -h), slice(h, -h))
    gap = np.abs(linear - circular)
    numbers["linear_vs_circular_interior"] = float(gap[inner].max())
    numbers["linear_vs_circular_border"] = float(gap.max())
    fig = Figure(figsize=(15, 4.2), layout="constrained")
    ax = fig.subplots(1, 4)
    ax[0].imshow(scene, origin="lower", cmap="gray")
    ax[0].set_title("noisy scene, three copies of the template", fontsize=9)
    im = ax[1].imshow(ncc, origin="lower", cmap="magma", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax[1], shrink=0.7)
    for y, x in positions:
        ax[0].plot(x, y, "o", mfc="none", mec="c", ms=14)
        ax[1].plot(x, y, "o", mfc="none", mec="c", ms=14)
    ax[1].set_title("normalised cross-correlation", fontsize=9)
    y0 = positions[0][0]
    ax[2].plot(ncc[y0], "C0-", lw=1, label="NCC")
    zc = correlate(scene, t - t.mean())[y0]
    ax[2].plot(zc / np.abs(zc).max(), "C1-", lw=0.8, label="correlation, zero-mean template (scaled)")
    ax[2].axvline(positions[0][1], color="c", ls=":", lw=1)
    ax[2].set_xlabel("x")
    ax[2].legend(fontsize=7)
    ax[2].set_title(f"along y = {y0}: 1 exactly at the copy", fontsize=9)
    im = ax[3].imshow(gap, origin="lower", cmap="magma")
    fig.colorbar(im, ax=ax[3], shrink=0.7)
    ax[3].set_title(f"|linear - circular|: only within {h} cells of the border", fontsize=9)
    fig.suptitle("cross-correlation is convolution with the flipped template; the peaks find the copies "
                 f"(fft_correlate = scipy.signal.correlate to {numbers['fft_correlate_vs_scipy_signal']:.0e})",
                 fontsize=10)
    return numbers, fig
