"""Fit a propagator to frames: maximum likelihood in the walls' basis, standard errors, the Cramér–Rao
bound, a bootstrap, and a goodness-of-fit verdict (DESIGN §12).

1. The frames' coefficients in the walls' basis (:mod:`.modes`), every mode an independent observation.
2. A first estimate by weighted least squares on the log transfer ratios of the modes above the noise
   (:func:`.models.initial`).
3. Maximum likelihood (:mod:`.likelihood`) by Fisher scoring with step halving.
4. ``crb``: the Cramér–Rao bound ``sqrt(I^-1)`` from the Fisher information at the estimate; ``stderr``
   the same, grown by the residuals' excess over the noise when the model does not fit (a
   quasi-likelihood dispersion), so that a wrong model never claims the bound. The sandwich
   ``I^-1 J I^-1`` is reported too (``robust_stderr``): it needs no noise model, but it is itself noisy
   where one or two modes carry a parameter (the mean carries a decay), so it is not the default.
5. The verdict: the residuals of the modes with the most signal against those of the modes with the
   least. Under the right model both are noise of one level; a wrong model (a drift ignored, the wrong
   walls) leaves residuals that grow with the signal. An F test at :data:`FALSE_ALARM`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import likelihood, models
from .verdict import FALSE_ALARM, excess as _excess, verdict as _verdict
from ..units import Units
from .frames import Frames, InverseError
from .modes import of as modes_of

MAX_ITER = 60


@dataclass
class FitResult:
    """What :func:`fit` found; :meth:`to_dict` is the ``--json`` object of DESIGN §12."""

    model: tuple
    names: tuple
    theta: np.ndarray
    stderr: np.ndarray
    crb: np.ndarray
    correlation: np.ndarray
    sigma: float
    reduced_chi2: float
    p_value: float
    verdict: str
    modes: int
    frames: int
    bootstrap: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
    parts: dict = field(default_factory=dict, repr=False)
    units: Units = Units()  # the frames' units: D in length²/time, a velocity in length/time, decay in 1/time

    def unit(self, name: str) -> str:
        """The unit of parameter ``name`` (``mm²/s``), or ``""`` when the frames are dimensionless."""
        quantity = "velocity" if name.startswith("v_") else "rate" if name == "decay" else "diffusivity"
        return self.units.label(quantity)

    def estimates(self) -> dict:
        """``{NAME: {"value", "stderr", "crb"}}`` with the names of DESIGN §12."""
        out, n = {}, dict(zip(self.names, range(len(self.names))))
        if "diffusivity" in n:
            i = n["diffusivity"]
            out["diffusivity"] = _entry(self.theta[i], self.stderr[i], self.crb[i], self._boot(i))
        tensor = [k for k in self.names if k.startswith("D_")]
        if tensor:
            out["diffusivity_tensor"] = self.extra["tensor"]
        vel = [k for k in self.names if k.startswith("v_")]
        if vel:
            idx = [n[k] for k in vel]
            out["velocity"] = {"axes": [k[2:] for k in vel], **_entry(self.theta[idx], self.stderr[idx], self.crb[idx],
                                                                        self._boot(idx))}
        if "decay" in n:
            i = n["decay"]
            out["decay"] = _entry(self.theta[i], self.stderr[i], self.crb[i], self._boot(i))
        return out

    def _boot(self, i):
        return None if self.bootstrap is None else self.bootstrap[i]

    def to_dict(self) -> dict:
        return {"model": "+".join(self.model), "estimates": self.estimates(),
                "parameters": {k: {"value": float(v), "stderr": float(s), "crb": float(c), "robust_stderr": float(r)}
                               for k, v, s, c, r in zip(self.names, self.theta, self.stderr, self.crb,
                                                        self.extra["robust_stderr"])},
                "units": {k: self.unit(k) for k in self.names},
                "correlation": {"names": list(self.names), "matrix": np.round(self.correlation, 6).tolist()},
                "fit": {"reduced_chi2": self.reduced_chi2, "p_value": self.p_value, "verdict": self.verdict,
                        "noise_sigma": self.sigma, "modes": self.modes, "frames": self.frames,
                        "false_alarm_rate": FALSE_ALARM}}


def _entry(value, stderr, crb, boot) -> dict:
    f = (lambda v: np.asarray(v, dtype=float).tolist())
    e = {"value": f(value), "stderr": f(stderr), "crb": f(crb)}
    if boot is not None:
        e["bootstrap_stderr"] = f(boot)
    return e


def fit(frames: Frames, model=("diffusivity",), propagator: str = "continuous", step_dt: float | None = None,
        bootstrap: int = 0, seed: int = 0, progress: bool | None = None) -> FitResult:
    """Fit ``model`` (names of :data:`physconv.inverse.models.MODELS`) to ``frames``; see the module.
    ``progress``: a bar over the bootstrap's replicas (None: when standard error is a terminal or a notebook
    shows it)."""
    if isinstance(model, str):
        model = tuple(m.strip() for m in model.split(",") if m.strip())
    md = modes_of(frames.grid)
    m = models.build(model, md, propagator, step_dt)
    from ..boundary import wall_value

    F = md.coefficients(frames.data - wall_value(frames.grid.boundaries))  # what a dirichlet wall holds is steady
    tau = frames.intervals
    dof = md.dof
    v = _relative_noise(frames)
    w = 1.0 / v
    floor2 = _noise_floor(F * np.sqrt(w)[:, None], md, dof)  # in units of s: alike across frames
    theta = models.initial(m, F, tau, floor2 * v.max(), dof)
    walk = frames.noise == "walk"  # one particle walk: each frame is exact as the next one's start
    if walk:
        w = w[1:]
    theta, pr = _maximise(m, F, w, tau, theta, walk)
    if walk:  # a mode's step noise is about (1 - |G|^2) of the counts' (what the step leaves of its variance)
        w = _walk_weights(m, theta, tau, w)
        theta, pr = _maximise(m, F, w, tau, theta, walk)
    known = _known_scale(frames)
    n_obs = int(dof.sum()) * (len(F) - 1)
    s2 = pr.Q.sum() / max(n_obs - len(theta), 1) if known is None else known
    info = likelihood.information(pr, s2, dof)
    _check_identified(info, m.names)
    inv = np.linalg.inv(info)
    crb = np.sqrt(np.diag(inv))
    chi2, p, verdict = _verdict(pr, dof, len(F), s2, known)
    # a model that does not fit leaves more than noise in its residuals: its errors grow by that factor
    # (quasi-likelihood), so they are never smaller than what the residuals show
    dispersion = max(1.0, _excess(pr, dof, len(F), s2, known)) if verdict.startswith("does not fit") else 1.0
    cov = inv * dispersion
    stderr = np.sqrt(np.diag(cov))
    corr = cov / np.outer(stderr, stderr)
    robust = np.sqrt(np.diag(likelihood.sandwich(pr, info, s2)))
    res = FitResult(m.parts, m.names, theta, stderr, crb, corr, float(np.sqrt(s2 * v.mean())), chi2, p, verdict,
                    int(F.shape[1]), len(F), units=frames.units)
    res.extra["robust_stderr"] = robust
    if walk:
        G, _ = m.transfer(theta, np.diff(tau)[-1:])
        last = G[0] * F[-2]
    else:
        g, _ = m.transfer(theta, tau[-1:])
        last = g[0] * pr.a
    res.parts = {"modes": md, "model": m, "F": F, "w": w, "tau": tau, "profile": pr, "s2": s2, "predicted_last": last,
                 "v": v}
    if any(k.startswith("D_") for k in m.names):
        res.extra["tensor"] = _tensor(m.names, theta, cov, crb, frames.grid.ndim)
    if bootstrap:
        res.bootstrap = _bootstrap(m, F, w, tau, theta, pr, s2, v, dof, bootstrap, seed, walk, progress)
    return res


def _relative_noise(frames: Frames) -> np.ndarray:
    """Each frame's noise variance up to one common factor: 1 (gaussian) or its mean value (poisson)."""
    if frames.noise == "gaussian":
        return np.ones(len(frames.data))  # poisson and walk: counts
    means = frames.data.reshape(len(frames.data), -1).mean(axis=1)
    if np.any(means <= 0):
        raise InverseError(f"{frames.source}: a frame holds no counts; {frames.noise} noise needs counts in every frame")
    return means


def _walk_weights(m, theta, tau, w):
    """Weights of a walk's intervals per mode: ``w_i / (1 - |G_ik|^2)``. For independent walkers from
    counts ``N`` near a level ``n``, the step's noise has covariance ``diag(P N) - P diag(N) P^T``, about
    ``n (I - P P^T)``: in mode k, ``n (1 - |G_k|^2)`` (nothing in a mode the step keeps whole, such as the
    mass between closed walls; capped at a millionth)."""
    G, _ = m.transfer(theta, np.diff(tau))
    return w[:, None] / np.maximum(1.0 - np.abs(G) ** 2, 1e-6)


def _known_scale(frames: Frames):
    """The common noise factor when it is known: independent counts of known size (variance = value /
    counts_per_unit). A walk's step noise is smaller than its counts' (particles move together), so it is
    estimated."""
    if frames.noise == "poisson" and frames.counts_per_unit:
        return 1.0 / frames.counts_per_unit
    return None


def _noise_floor(F, md, dof) -> float:
    """A rough noise variance per real part from the last frame's finest quarter of modes (median, with
    the chi-square median's factor), only to choose the modes of the first estimate."""
    k2 = (md.kappa**2).sum(axis=0)
    fine = k2 >= np.quantile(k2, 0.75)
    x = np.abs(F[-1, fine]) ** 2 / dof[fine]
    return float(np.median(x) / np.where(dof[fine] == 1, 0.455, np.log(2)).mean()) + np.finfo(float).tiny


def _profile(m, F, w, tau, theta, walk):
    """The profiled objective (:func:`.likelihood.profile`), or for one walk's frames the conditional one
    (:func:`.likelihood.markov`) over the intervals between consecutive frames."""
    if walk:
        G, dG = m.transfer(theta, np.diff(tau))
        return likelihood.markov(F, w, G, dG)
    g, dg = m.transfer(theta, tau)
    return likelihood.profile(F, w, g, dg)


def _maximise(m, F, w, tau, theta, walk=False):
    """Fisher scoring on the profiled objective, halving steps that do not lower it."""
    pr = _profile(m, F, w, tau, theta, walk)
    q = pr.Q.sum()
    for _ in range(MAX_ITER):
        info = np.einsum("pqm,m->pq", pr.info, np.ones_like(pr.Q) if walk else np.abs(pr.a) ** 2)
        grad = pr.dQ.sum(axis=1)
        try:
            step = -0.5 * np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = -0.5 * np.linalg.lstsq(info, grad, rcond=None)[0]
        if np.all(np.abs(step) <= 1e-12 * np.abs(theta) + 1e-300):  # converged: no trial to evaluate
            break
        t = 1.0
        for _ in range(40):
            trial = theta + t * step
            if _admissible(m, trial):
                pt = _profile(m, F, w, tau, trial, walk)
                if pt.Q.sum() <= q:
                    break
            t *= 0.5
        else:
            break
        done = np.all(np.abs(t * step) <= 1e-12 * np.maximum(np.abs(theta), np.abs(trial)) + 1e-300) or \
            (q - pt.Q.sum()) <= 1e-15 * q
        theta, pr, q = trial, pt, pt.Q.sum()
        if done:
            break
    return theta, pr


def _admissible(m, theta) -> bool:
    """Diffusivities non-negative (a tensor positive semi-definite)."""
    n = dict(zip(m.names, theta))
    if "diffusivity" in n:
        return n["diffusivity"] >= 0
    tensor = [k for k in m.names if k.startswith("D_")]
    if not tensor:
        return True
    return bool(np.all(np.linalg.eigvalsh(_matrix(m.names, theta)) >= 0))


def _matrix(names, theta, nd=None):
    """The symmetric tensor from the ``D_ab`` parameters (absent off-diagonal entries 0)."""
    nd = nd or len({c for k in names if k.startswith("D_") for c in k[2:]})  # the axes the names mention
    axes = list("zyx"[3 - nd:])
    M = np.zeros((nd, nd))
    for k, t in zip(names, theta):
        if k.startswith("D_"):
            a, b = axes.index(k[2]), axes.index(k[3])
            M[a, b] = M[b, a] = t
    return M


def _tensor(names, theta, cov, crb, nd) -> dict:
    """The tensor, its principal values and (2-D) the angle of the first principal axis from x, each with
    a standard error by the delta method."""
    idx = [i for i, k in enumerate(names) if k.startswith("D_")]
    M = _matrix(names, theta, nd)

    def summary(t):
        vals, vecs = np.linalg.eigh(_matrix([names[i] for i in idx], t, nd))
        out = list(vals[::-1])
        if nd == 2:
            vy, vx = vecs[:, -1]
            out.append(np.degrees(np.arctan2(vy, vx)) % 180.0)
        return np.array(out)

    base = summary(theta[idx])
    J = np.empty((base.size, len(idx)))
    for j, i in enumerate(idx):
        h = 1e-6 * max(abs(theta[i]), np.abs(theta[idx]).max())
        tp = theta[idx].copy()
        tp[j] += h
        d = summary(tp) - base
        if nd == 2:
            d[-1] = (d[-1] + 90.0) % 180.0 - 90.0
        J[:, j] = d / h
    se = np.sqrt(np.diag(J @ cov[np.ix_(idx, idx)] @ J.T))
    se_m = np.zeros_like(M)
    for i in idx:
        se_m += _matrix([names[i]], [np.sqrt(cov[i, i])], nd)
    out = {"value": M.tolist(), "stderr": se_m.tolist(), "principal": base[:nd].tolist(),
           "principal_stderr": se[:nd].tolist()}
    if nd == 2:
        out["angle_deg"] = float(base[-1])
        out["angle_stderr_deg"] = float(se[-1])
    return out


def _check_identified(info, names) -> None:
    """Refuse a fit whose information matrix is singular: the data cannot tell those parameters."""
    d = np.sqrt(np.abs(np.diag(info)))
    if np.any(d == 0) or not np.all(np.isfinite(info)):
        bad = [n for n, x in zip(names, d) if not x > 0] or list(names)
        raise InverseError(f"the frames cannot identify {', '.join(bad)}: no mode's transfer depends on it "
                           "(too few frames or modes, or walls that hide it)")
    corr = info / np.outer(d, d)
    if np.linalg.cond(corr) > 1e12:
        raise InverseError(f"the frames cannot tell {', '.join(names)} apart (their information matrix is singular); "
                           "fit fewer parameters or give more frames")


def _bootstrap(m, F, w, tau, theta, pr, s2, v, dof, n, seed, walk, progress=None) -> np.ndarray:
    """Standard errors from ``n`` parametric bootstrap replicas, each refitted from the estimate: the fitted
    amplitudes moved by the fitted propagator plus new noise of the fitted level; for a walk, each frame
    made from the replica's previous one by the fitted transfer plus new step noise."""
    rng = np.random.default_rng(seed)
    sd = np.sqrt(s2 * v)[:, None]

    def noise():
        e = rng.standard_normal(F.shape)
        if np.iscomplexobj(F):
            e = e + 1j * np.where(dof == 2, rng.standard_normal(F.shape), 0.0)
        return sd * e

    out = []
    G, _ = m.transfer(theta, np.diff(tau) if walk else tau)

    from .._progress import bar_class, mode

    show = mode(progress) == "bar"
    for _ in bar_class()(range(int(n)), disable=not show, desc="bootstrap", unit="replica", leave=False):
        e = noise()
        if walk:
            rep = np.empty_like(F)
            rep[0] = F[0]
            for i in range(1, len(F)):
                rep[i] = G[i - 1] * rep[i - 1] + e[i] / sd[i] * np.sqrt(s2 / w[i - 1])
        else:
            rep = G * pr.a[None] + e
        t, _ = _maximise(m, rep, w, tau, theta.copy(), walk)
        out.append(t)
    return np.std(np.array(out), axis=0, ddof=1)
