"""One random neighbour per pixel: the measurement picture of a kernel.

Instead of mixing all neighbours with the kernel's weights, each pixel looks
at *one* neighbour, drawn with the kernel's probabilities, and takes its
value. One look is noisy; its expectation is the convolution. The mean of
``K`` independent looks (:func:`physconv.montecarlo.stochastic_convolve`)
approaches the convolution with a root-mean-square error proportional to
``1/sqrt(K)``: a straight line of slope -1/2 on log-log axes.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import kernels as _k
from ..convolve import fft_convolve
from ..montecarlo import stochastic_convolve

DRAWS = (1, 10, 100, 1000)


def rms_errors(image, kernel, draws=DRAWS, seed: int = 0, boundary: str = "reflecting"):
    """``(means, exact, rms)``: the mean of K looks for each K, the convolution, and the RMS error of each."""
    u = np.asarray(image, dtype=float)
    exact = fft_convolve(u, kernel, boundary)
    means = [stochastic_convolve(u, kernel, boundary=boundary, draws=int(k), seed=seed + i).mean
             for i, k in enumerate(draws)]
    rms = np.array([np.sqrt(np.mean((m - exact) ** 2)) for m in means])
    return means, exact, rms


def slope(draws, rms) -> float:
    """Fitted slope of log(rms) against log(K)."""
    return float(np.polyfit(np.log(draws), np.log(rms), 1)[0])


def insight(image=None, seed: int = 0):
    """Numbers and figure for ``physconv insight measurement``."""
    from ._images import picture

    u = picture(image, 128)
    kernel = _k.gaussian(variance=4.0)  # a blur of 2 pixels
    means, exact, rms = rms_errors(u, kernel, seed=seed)
    numbers = {"claim": "the mean of K random looks tends to the convolution, RMS error ~ K^-1/2",
               "draws": list(DRAWS), "rms": rms.tolist(), "slope": slope(DRAWS, rms)}
    fig = Figure(figsize=(16, 3.6), layout="constrained")
    ax = fig.subplots(1, len(DRAWS) + 2)
    for a, m, k in zip(ax, means, DRAWS):
        a.imshow(m, origin="lower", cmap="gray", vmin=0, vmax=1)
        a.set_title(f"mean of K = {k} look{'s' if k > 1 else ''}", fontsize=9)
    ax[len(DRAWS)].imshow(exact, origin="lower", cmap="gray", vmin=0, vmax=1)
    ax[len(DRAWS)].set_title("the convolution", fontsize=9)
    a = ax[-1]
    a.loglog(DRAWS, rms, "o", label=f"measured (slope {numbers['slope']:.3f})")
    a.loglog(DRAWS, rms[0] / np.sqrt(DRAWS), "k--", label="slope -1/2")
    a.set_xlabel("K")
    a.set_ylabel("RMS error")
    a.legend(fontsize=8)
    fig.suptitle("the measurement picture: one random neighbour per pixel, averaged", fontsize=10)
    return numbers, fig
