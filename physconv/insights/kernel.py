"""What does this kernel do? Any kernel read as a propagator and as a filter.

Given weights (a named kernel or a nested list), the kernel is normalised to
probabilities (softmax at a temperature, or divided by the sum) and read as a
random-walk step: its drift, covariance and ``D_eff = Σ / (2 dt)``, how
isotropic it is (``1 - λmin/λmax`` of ``Σ``), and its frequency response

.. math:: \\hat k(\\theta) = \\sum_d k[d]\\, e^{-i\\theta\\cdot d}

along the axes and the diagonals, from ``θ = 0`` to the Nyquist frequency
``π``: low-pass (passes the mean, damps the finest scales), high-pass (the
reverse) or band-pass. The raw weights get the same frequency reading — the
edge detector is high-pass as a filter, its softmax a low-pass propagator.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import kernels as _k

SAMPLES = 129


def parse(spec: str) -> np.ndarray:
    """A named kernel (``edge``) or a nested list (``"[[0,-1,0],[-1,5,-1],[0,-1,0]]"``) as an array."""
    text = str(spec).strip()
    if text in _k.NAMES:
        return _k.named(text)
    from ..errors import KernelError
    from ..scenario import read_yaml

    data, _ = read_yaml(text, "kernel")
    if not isinstance(data, list):
        raise KernelError(f"{text!r} is neither a named kernel ({', '.join(_k.NAMES)}) nor a nested list of numbers")
    return _k.check(data, name="kernel")


def directions(ndim: int) -> dict[str, np.ndarray]:
    """Unit directions in angle space: the axes and (2-D, 3-D) the diagonals, scaled so that the end is Nyquist."""
    names = {1: ("x",), 2: ("y", "x"), 3: ("z", "y", "x")}[ndim]
    out = {f"along {n}": np.eye(ndim)[i] for i, n in enumerate(names)}
    if ndim == 2:
        out["diagonal"] = np.array([1.0, 1.0])
        out["anti-diagonal"] = np.array([1.0, -1.0])
    if ndim == 3:
        out["diagonal"] = np.ones(3)
    return out


def response(kernel, direction, samples: int = SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """``(s, |k̂(s * direction)|)`` for ``s`` from 0 to π."""
    k = np.asarray(kernel, dtype=float)
    centre = (np.array(k.shape) - 1) // 2
    s = np.linspace(0.0, np.pi, samples)
    idx = np.argwhere(np.ones(k.shape, dtype=bool))
    d = idx - centre
    phase = np.outer(s, d @ np.asarray(direction, dtype=float))
    return s, np.abs(np.exp(-1j * phase) @ k[tuple(idx.T)])


def classify(gain: np.ndarray) -> str:
    """all-pass, low-pass, high-pass or band-pass, from a gain curve running from 0 to Nyquist."""
    top = gain.max()
    if top == 0:
        return "zero"
    if gain.min() > 0.95 * top:
        return "all-pass"
    if gain[0] >= 0.99 * top:
        return "low-pass"
    if gain[-1] >= 0.99 * top:
        return "high-pass"
    if gain[0] < 0.9 * top and gain[-1] < 0.9 * top:
        return "band-pass"
    return "mixed"


def explain(weights, normalize: str | None = None, temperature: float = 1.0, spacing=1.0, dt: float = 1.0) -> dict:
    """Everything about a kernel as a propagator and as a filter, as plain numbers and words.

    ``normalize=None`` reads the kernel as a scenario does (:func:`physconv.kernels.as_probabilities`):
    probabilities as given, other non-negative weights over their sum, signed weights by softmax;
    ``'normalize'`` in the answer says which was used and ``'warning'`` why, when it was not asked for.
    """
    w = _k.check(weights, name="kernel")
    made = _k.as_probabilities(w, normalize, temperature)
    p, normalize = made.kernel, made.method
    m = _k.moments(p, spacing, dt)
    lam = np.linalg.eigvalsh(m.covariance)
    anisotropy = float(1 - lam[0] / lam[-1]) if lam[-1] > 0 else 0.0
    freq = {}
    for label, k in (("weights", w), ("probabilities", p)):
        curves = {name: response(k, v)[1] for name, v in directions(w.ndim).items()}
        mean_curve = np.mean(list(curves.values()), axis=0)
        top = float(np.abs(mean_curve).max())
        freq[label] = {"kind": classify(mean_curve), "gain_at_zero": _k.clean(mean_curve[0], top),
                       "gain_at_nyquist": {name: _k.clean(c[-1], top) for name, c in curves.items()},
                       "peak_gain": float(mean_curve.max())}
    D = np.diag(m.diffusivity)
    drift = "no drift" if np.abs(m.mean).max() < 1e-12 else f"drift {np.round(m.velocity, 6).tolist()} per time"
    nyq = min(freq["probabilities"]["gain_at_nyquist"].values())
    reading = (f"a diffusion step with D_eff = {', '.join(f'{x:.4g}' for x in D)} (length²/time), "
               f"{'isotropic' if anisotropy < 0.01 else 'anisotropic'} to {100 * anisotropy:.1f} %, {drift}, "
               f"{freq['probabilities']['kind']} (lowest gain at Nyquist {nyq:.3g}); as a filter the weights are "
               f"{freq['weights']['kind']}")
    big = max(float(np.abs(m.covariance).max()), 1.0)
    tidy = np.vectorize(lambda v: _k.clean(v, big))
    return {"weights": w.tolist(), "normalize": normalize, "temperature": float(temperature), "warning": made.warning,
            "probabilities": p.tolist(), "centre": float(p[tuple((np.array(p.shape) - 1) // 2)]),
            "drift": tidy(m.mean).tolist(), "covariance": tidy(m.covariance).tolist(), "D_eff": tidy(D).tolist(),
            "anisotropy": anisotropy, "frequency_response": freq, "reading": reading}


def figure(weights, normalize: str | None = None, temperature: float = 1.0) -> Figure:
    """Weights, probabilities, and both frequency responses (along the axes and diagonals)."""
    from ..plot_kernel import annotated

    info = explain(weights, normalize, temperature)
    normalize = info["normalize"]
    w, p = np.asarray(info["weights"]), np.asarray(info["probabilities"])
    mid = (lambda a: a[a.shape[0] // 2]) if w.ndim == 3 else (lambda a: a)
    fig = Figure(figsize=(14, 4.0), layout="constrained")
    ax = fig.subplots(1, 4)
    how = _k.describe(normalize, temperature)
    if normalize == "none":  # the weights are the probabilities: one map, and the step in words beside it
        annotated(ax[0], mid(w), "weights = probabilities (as given)")
        ax[1].set_axis_off()
        ax[1].text(0.0, 0.5, f"one step:\n  mean jump {info['drift']}\n  covariance {info['covariance']}\n"
                             f"  D_eff per axis {info['D_eff']}", transform=ax[1].transAxes, va="center", fontsize=9)
    else:
        annotated(ax[0], mid(w), "weights as given")
        annotated(ax[1], mid(p), f"probabilities ({how})")
    for a, k, label in ((ax[2], w, "weights as a filter"), (ax[3], p, "probabilities as a propagator")):
        for i, (name, v) in enumerate(directions(w.ndim).items()):
            s, g = response(k, v)  # widest first and dashed in turn: curves that coincide stay visible
            a.plot(s / np.pi, g, color=f"C{i}", label=name, lw=max(3.5 - 0.8 * i, 1.0),
                   ls=("-", "--", "-.", ":")[i % 4])
        a.set_xlabel("frequency / Nyquist along each direction")
        a.set_ylabel("|k̂|")
        a.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
        a.set_title(f"{label}: {info['frequency_response']['weights' if k is w else 'probabilities']['kind']}",
                    fontsize=9)
    fig.suptitle(info["reading"], fontsize=9)
    return fig
