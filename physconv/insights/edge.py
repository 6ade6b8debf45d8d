"""The edge detector is one step of diffusion.

Softmax turns the edge kernel ``8`` at the centre and ``-1`` around into a
probability kernel: the centre keeps ``c`` and each of the eight neighbours
gets ``p = (1 - c) / 8``. One step ``P u`` of that propagator moves a fraction
of every cell to its neighbours, and what it moves away is the edge response
itself:

.. math:: \\mathrm{edge}(u) = 8u - \\sum_{\\text{8 neighbours}} u = -\\frac{P u - u}{p}

exactly, for any field (with the same boundary in both). Its moments give the
diffusion it performs, ``D_eff(T) = 3p`` cells² per step per axis (six of the
eight neighbours are one cell away along a given axis), from almost none at
``T = 1`` (the centre keeps 0.99901) to ``1/3`` as ``T → ∞`` (the uniform 3×3).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import kernels as _k
from ..convolve import fft_convolve

EDGE = _k.named("edge")


def propagator(temperature: float) -> np.ndarray:
    """softmax(edge / T): the probability kernel of one step."""
    return _k.softmax(EDGE, temperature)


def effective_diffusivity(temperature: float) -> float:
    """D_eff per axis (cells² per step) of softmax(edge / T), from its moments."""
    return float(_k.moments(propagator(temperature)).diffusivity[0, 0])


def identity_gap(field, temperature: float, boundary: str = "reflecting") -> float:
    """max |edge(u) + (P u - u) / p|: zero to round-off for any field."""
    u = np.asarray(field, dtype=float)
    P = propagator(temperature)
    p = float(P[0, 0])
    edge = fft_convolve(u, EDGE, boundary)
    step = fft_convolve(u, P, boundary)
    return float(np.abs(edge + (step - u) / p).max())


def insight(image=None, temperature: float = 3.0):
    """Numbers and figure for ``physconv insight edge``."""
    from ._images import picture

    u = picture(image, 128)
    temps = np.array([0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0, 1e3, 1e4])
    rows = [{"temperature": float(T), "centre": float(propagator(T)[1, 1]), "neighbour": float(propagator(T)[0, 0]),
             "D_eff": effective_diffusivity(T)} for T in temps]
    P = propagator(temperature)
    p = float(P[0, 0])
    numbers = {"claim": "softmax(edge/T) is one diffusion step; the edge response is what it moves away / p",
               "rows": rows, "identity_gap": identity_gap(u, temperature), "D_eff_limit": 1 / 3}
    fig = Figure(figsize=(14, 3.8), layout="constrained")
    ax = fig.subplots(1, 4)
    ax[0].imshow(u, origin="lower", cmap="gray")
    ax[0].set_title("image", fontsize=9)
    e = fft_convolve(u, EDGE, "reflecting")
    moved = (u - fft_convolve(u, P, "reflecting")) / p
    lim = float(np.abs(e).max())
    for a, f, title in ((ax[1], e, "edge detector response"),
                        (ax[2], moved, f"(u - P u) / p, one step of softmax(edge/{temperature:g})")):
        im = a.imshow(f, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
        a.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax[1:3], shrink=0.8)
    ax[3].semilogx(temps, [r["D_eff"] for r in rows], "o-")
    ax[3].axhline(1 / 3, color="k", ls=":", label="T → ∞: 1/3 (uniform 3x3)")
    ax[3].set_xlabel("temperature T")
    ax[3].set_ylabel("D_eff (cells² per step)")
    ax[3].legend(fontsize=8)
    ax[3].set_title("the diffusion one step performs", fontsize=9)
    fig.suptitle(f"the edge detector is one step of diffusion (identity holds to {numbers['identity_gap']:.1e})",
                 fontsize=10)
    return numbers, fig
