"""Propagator models for the fits: each gives, per frame and mode, the transfer factor ``g`` over the
time since the first frame and its derivatives in the parameters.

Continuous (the default, DESIGN §12): ``g = exp(-tau l_k)`` with the rate

.. math:: l_k = \\kappa^T D \\kappa + \\mu + i\\,\\kappa\\cdot v

(D in length^2/time, a decay rate mu in 1/time, a velocity v in length/time; kappa the mode's
continuous wavenumber, :mod:`.modes`): the rate is linear in the parameters, ``l = sum_p theta_p phi_p``.
Steps: the FTCS step's own transfer ``(1 - dt D sum_a lam_a)^(tau/dt)`` (``lam`` the second difference's
eigenvalues), for frames known to come from such steps.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .frames import InverseError
from .modes import Modes

MODELS = ("diffusivity", "tensor", "drift", "decay")
AXES = ("z", "y", "x")


@dataclass(frozen=True)
class Model:
    """Parameter names and the features ``phi`` (p, M) of the rate; ``steps_dt`` for the step model."""

    parts: tuple
    names: tuple
    phi: np.ndarray
    steps_dt: float | None = None
    lam: np.ndarray | None = None

    def transfer(self, theta: np.ndarray, tau: np.ndarray):
        """``(g, dg)``: (T, M) and (p, T, M)."""
        if self.steps_dt is None:
            rate = np.tensordot(theta, self.phi, axes=1)
            g = np.exp(-np.multiply.outer(tau, rate))
            dg = -tau[None, :, None] * self.phi[:, None, :] * g[None]
            return g, dg
        n = tau / self.steps_dt
        mu = 1.0 - self.steps_dt * theta[0] * self.lam
        g = np.sign(mu)[None] ** np.round(n)[:, None] * np.abs(mu)[None] ** n[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            dg = np.where(mu[None] != 0, n[:, None] * g / mu[None], 0.0) * (-self.steps_dt * self.lam)[None]
        return g, dg[None]


def build(names, modes: Modes, propagator: str = "continuous", step_dt: float | None = None) -> Model:
    """The model of ``names`` (a combination of :data:`MODELS`) on ``modes``; refused with the reason when
    the walls cannot express it."""
    names = tuple(dict.fromkeys(names))
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise InverseError(f"unknown model {', '.join(unknown) or '(none)'}; valid: {', '.join(MODELS)}, kernel")
    if "diffusivity" in names and "tensor" in names:
        raise InverseError("choose diffusivity (one D) or tensor (D per direction), not both")
    if not ({"diffusivity", "tensor"} & set(names)):
        names = ("diffusivity",) + names
    g = modes.grid
    nd = g.ndim
    axes = AXES[3 - nd:]
    periodic = [b.kind == "periodic" for b in g.boundaries]
    kap = modes.kappa
    labels, phi = [], []
    if propagator not in ("continuous", "steps"):
        raise InverseError(f"propagator must be continuous or steps, got {propagator!r}")
    if propagator == "steps":
        if names != ("diffusivity",):
            raise InverseError("--propagator steps fits the FTCS step's D alone (model diffusivity)")
        if step_dt is None or not step_dt > 0:
            raise InverseError("--propagator steps needs --step-dt, the time of one step (> 0)")
        lam = modes.lam.sum(axis=0)
        return Model(names, ("diffusivity",), np.atleast_2d(lam), float(step_dt), lam)
    if "diffusivity" in names:
        labels.append("diffusivity")
        phi.append((kap**2).sum(axis=0))
    if "tensor" in names:
        full = all(periodic) and nd > 1
        if nd > 1 and not full:
            warnings.warn("tensor on walls that are not all periodic: only the tensor along the axes is fitted "
                          "(a rotated tensor mixes the walls' cosines, which their basis cannot hold)", stacklevel=3)
        for a in range(nd):
            for b in range(a, nd):
                if a != b and not full:
                    continue
                labels.append(f"D_{axes[a]}{axes[b]}")
                phi.append(kap[a] * kap[b] * (1.0 if a == b else 2.0))
    if "decay" in names:
        labels.append("decay")
        phi.append(np.ones(kap.shape[1]))
    if "drift" in names:
        if not any(periodic):
            raise InverseError("drift cannot be identified between closed walls: their modes are standing waves "
                               "that a drift does not shift; fit drift on periodic frames")
        for a in range(nd):
            if periodic[a]:
                labels.append(f"v_{axes[a]}")
                phi.append(1j * kap[a])
    phi = np.array(phi)
    return Model(names, tuple(labels), phi if np.iscomplexobj(phi) else phi.real)


def initial(model: Model, F: np.ndarray, tau: np.ndarray, floor2: float, dof: np.ndarray) -> np.ndarray:
    """A first estimate by weighted least squares on the log transfer ratios ``-log(F_i / F_0) / tau_i``
    of the modes well above the noise floor (``floor2``: its variance per real part)."""
    rows, rhs, wts = [], [], []
    phi = model.phi if model.steps_dt is None else model.lam[None]
    strong0 = np.abs(F[0]) ** 2 > 16 * floor2 * dof
    for i in range(1, len(F)):
        ok = strong0 & (np.abs(F[i]) ** 2 > 16 * floor2 * dof)
        if not ok.any():
            continue
        y = -np.log(F[i, ok] / F[0, ok] + 0j) / tau[i]
        wt = 1.0 / (1.0 / np.abs(F[0, ok]) ** 2 + 1.0 / np.abs(F[i, ok]) ** 2) * tau[i] ** 2
        rows += [phi[:, ok].real.T, phi[:, ok].imag.T]
        rhs += [y.real, y.imag]
        wts += [wt, wt]
    if not rows:
        raise InverseError("no mode of the frames rises above the noise in two frames: they carry no information "
                           "on the propagator (too noisy, too far apart in time, or too smooth)")
    A, b, wt = np.concatenate(rows), np.concatenate(rhs), np.sqrt(np.concatenate(wts))
    keep = np.any(A != 0, axis=1)
    theta, *_ = np.linalg.lstsq(A[keep] * wt[keep, None], b[keep] * wt[keep], rcond=None)
    return theta
