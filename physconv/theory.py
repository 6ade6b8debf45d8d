"""What theory predicts for the difference between an approximation and the heat solution.

Every scheme here is diagonal in the boundaries' basis (:mod:`physconv.spectral`),
so its error against the heat solution is a multiplier per mode. For a mode of
angles :math:`\\theta_a` (wave number :math:`k_a = \\theta_a / \\Delta x_a`), after
:math:`n` steps of length :math:`\\Delta t` (time :math:`t = n\\Delta t`):

**Kernel steps** (``explicit``, ``spectral``; FTCS is the kernel ``r_a`` on each
neighbour). The log of a symmetric probability kernel's transfer function is its
cumulant series, :math:`\\log\\hat k(\\theta) = -\\tfrac12\\kappa_2(\\theta)
+ \\tfrac1{24}\\kappa_4(\\theta) - \\dots` with :math:`\\kappa_m` the cumulants
of the jump projected on :math:`\\theta`. The heat kernel keeps only
:math:`\\kappa_2`, so the leading error is the central limit theorem's first
correction (the modified equation of the scheme):

.. math:: \\hat e(\\theta, t) \\approx n\\,\\frac{\\kappa_4(\\theta)}{24}\\;
          \\hat H(\\theta, t)\\,\\hat u_0(\\theta)

For FTCS this is :math:`t\\,[D\\sum_a \\Delta x_a^2 k_a^4/12 - D^2\\Delta t\\,|k|^4/2]`
times the heat solution: the O(dx²) and O(dt) terms.

**Crank–Nicolson ADI** (``implicit``), amplification :math:`g(\\theta)` per
step against :math:`E(\\theta) = e^{-D|k|^2\\Delta t}`:

.. math:: \\hat e(\\theta, t) \\approx n\\,(g - E)\\,\\hat H(\\theta, t - \\Delta t)\\,\\hat u_0(\\theta)

the per-step error carried by the heat flow and summed over the steps.

Both are first order in the per-step error: where the measured difference is
far from them, the run is outside the regime in which the approximation
holds (a step at the stability limit, a grid too coarse for the field).
"""

from __future__ import annotations

import numpy as np

from . import spectral
from .boundary import wall_value
from .grid import Grid


def _thetas(grid: Grid) -> list[np.ndarray]:
    """Per axis, the mode angles as signed wave numbers times dx (periodic angles folded into (-pi, pi])."""
    out = []
    for n, b in zip(grid.shape, grid.boundaries):
        th = spectral.angles(n, b.kind)
        out.append(np.where(th > np.pi, th - 2 * np.pi, th) if b.kind == "periodic" else th)
    return out


def fourth_cumulant(kernel: np.ndarray, grid: Grid) -> np.ndarray:
    """:math:`\\kappa_4(\\theta) = E[(\\theta\\cdot d)^4] - 3 E[(\\theta\\cdot d)^2]^2` per mode, jumps ``d`` in cells.

    The kernel must have no drift (zero mean jump); its weights are the jump probabilities.
    """
    k = np.asarray(kernel, dtype=float)
    centre = (np.array(k.shape) - 1) // 2
    thetas = _thetas(grid)
    m2 = np.zeros(grid.shape)
    m4 = np.zeros(grid.shape)
    for idx in np.argwhere(k != 0):
        d = idx - centre
        phase = np.zeros(())
        for th, da in zip(thetas, d):
            phase = np.add.outer(phase, th * da)
        m2 += k[tuple(idx)] * phase**2
        m4 += k[tuple(idx)] * phase**4
    return m4 - 3.0 * m2**2


def kernel_error(u0, grid: Grid, kernel, diffusivity, dt: float, steps) -> np.ndarray:
    """Predicted ``kernel steps - heat solution`` at each of ``steps`` (frames along axis 0).

    Parameters
    ----------
    u0 : ndarray, shape grid.shape
    kernel : ndarray
        The step's probability kernel (symmetric, no drift).
    diffusivity : float or sequence of float
        The heat solution's D per axis (length^2 / time).
    dt : float
    steps : sequence of int
    """
    return kernel_error_at(u0, grid, kernel, diffusivity, dt)(steps)


def kernel_error_at(u0, grid: Grid, kernel, diffusivity, dt: float, drift=None):
    """:func:`kernel_error` as a function of ``steps``, its set-up done once (for frame-by-frame use);
    with a ``drift`` (velocity per axis, periodic walls) see :func:`drift_kernel_error_at`."""
    if drift is not None and np.any(np.asarray(drift) != 0):
        return drift_kernel_error_at(u0, grid, kernel, diffusivity, dt, drift)
    c0 = spectral.forward(np.asarray(u0, dtype=float) - wall_value(grid.boundaries), grid.boundaries)
    k4 = fourth_cumulant(kernel, grid) / 24.0
    return lambda steps: _frames(c0, grid, steps,
                                 lambda n: n * k4 * spectral.heat_transfer(grid, 2.0 * _D(diffusivity) * n * dt))


def drift_kernel_error_at(u0, grid: Grid, kernel, diffusivity, dt: float, drift):
    """Predicted ``kernel steps - shifted heat solution`` between periodic walls, as a function of ``steps``.

    For a mode of wave vector k (angles :math:`\\theta_a = k_a h_a`), the log of the kernel's transfer
    function is its cumulant series in the jump projected on :math:`\\theta`,
    :math:`-i\\kappa_1 - \\kappa_2/2 + i\\kappa_3/6 + \\kappa_4/24`; the shifted heat kernel keeps
    :math:`\\kappa_1 = v\\cdot k\\,\\Delta t` and :math:`\\kappa_2 = 2\\sum_a D_a k_a^2 \\Delta t`. The rest, per
    step, is carried by the heat flow: :math:`\\hat e = (e^{-n(\\kappa_2 - 2 D k^2 \\Delta t)/2}
    (1 + n(i\\kappa_3/6 + \\kappa_4/24)) - 1)\\,\\hat G_t \\hat u_0` — the excess variance exponentiated (the
    numerical diffusion of a drift need not be small beside D), the higher cumulants to first order. For the upwind step the :math:`\\kappa_2` excess is the numerical
    diffusion :math:`v h (1 - C)/2` of the modified equation (C = v dt/h, the Courant number)."""
    from .medium.methods import shifted_heat

    if not all(b.kind == "periodic" for b in grid.boundaries):
        raise ValueError("the drift prediction is for periodic walls")
    k = np.asarray(kernel, dtype=float)
    centre = (np.array(k.shape) - 1) // 2
    thetas = np.meshgrid(*[2 * np.pi * np.fft.fftfreq(n) for n in grid.shape], indexing="ij")
    m = [np.zeros(grid.shape) for _ in range(4)]
    for idx in np.argwhere(k != 0):
        x = sum(th * int(d) for th, d in zip(thetas, idx - centre))
        for p in range(4):
            m[p] += k[tuple(idx)] * x ** (p + 1)
    k2 = m[1] - m[0] ** 2
    k3 = m[2] - 3 * m[1] * m[0] + 2 * m[0] ** 3
    k4 = m[3] - 4 * m[2] * m[0] - 3 * m[1] ** 2 + 12 * m[1] * m[0] ** 2 - 6 * m[0] ** 4
    D = np.broadcast_to(_D(diffusivity), (grid.ndim,))
    heat2 = 2 * dt * sum(Da * (th / h) ** 2 for Da, th, h in zip(D, thetas, grid.spacing))
    excess = -(k2 - heat2) / 2  # the numerical diffusion: exponentiated (it need not be small beside D)
    higher = 1j * k3 / 6 + k4 / 24  # first order about the heat kernel of D + the numerical diffusion
    u = np.asarray(u0, dtype=float)

    def predict(steps):
        steps = np.atleast_1d(np.asarray(steps))
        out = np.zeros((len(steps),) + grid.shape)
        for i, n in enumerate(steps):
            if n > 0:
                moved = np.fft.fftn(shifted_heat(u, grid, D, drift, float(n) * dt))
                factor = np.exp(int(n) * excess) * (1 + int(n) * higher) - 1
                out[i] = np.fft.ifftn(factor * moved).real
        return out

    return predict


class SemidiscreteErrors:
    """Predicted differences from the time-exact ``e^{tL}`` of the space-discretised equation
    ``du/dt = L u + b`` (DESIGN §11), from the semidiscrete field ``u`` at time ``t``.

    Explicit (forward Euler on L) makes a local error :math:`-\\tfrac{\\Delta t^2}2 u''` per step, which the
    flow carries to ``t`` (L commutes with :math:`e^{tL}`): :math:`e \\approx -\\tfrac{t\\,\\Delta t}2\\, L (L u + b)`.
    Crank–Nicolson's factor :math:`(1 + z/2)/(1 - z/2) = e^z + z^3/12 + O(z^4)` adds
    :math:`\\tfrac{t\\,\\Delta t^2}{12} L^2 (L u + b)`; Douglas' splitting (``implicit`` of a medium) solves
    :math:`\\prod_a (I - \\tfrac{\\Delta t}2 L_a)` instead of :math:`I - \\tfrac{\\Delta t}2 L`, which adds
    :math:`-\\tfrac{t\\,\\Delta t^2}4 S_2 (L u + b)` with :math:`S_2 = \\sum_{a<b} (L_a L_b + L_b L_a)/2`
    (the flow taken as commuting with the split). First order in dt and second, as the table shows."""

    def __init__(self, m, dt: float):
        from .medium.operator import axis_operators

        parts = axis_operators(m)
        self.axes = [La for La, _ in parts]
        self.L, self.b = sum(self.axes).tocsr(), sum(ba for _, ba in parts)
        self.dt, self.shape = dt, m.grid.shape
        self._augmented = None

    def _rate(self, u):
        return self.L @ np.asarray(u, dtype=float).ravel() + self.b

    def explicit(self, u, t: float) -> np.ndarray:
        """``n (P e^{-dt L} - I) u(t)`` on the equation augmented with its constant, ``n = t / dt``: the
        per-step difference of P from the flow, :math:`P - e^{\\Delta t L}`, carried to ``t`` (the
        Taylor form :math:`-\\tfrac{t \\Delta t}2 L (L u + b)` without its truncation, which near the
        stability limit misjudged the highest modes). ``e^{-dt L}`` undoes one step of diffusion: its
        growth is at most ``e^2`` within the limit, so it is applied safely."""
        import scipy.sparse as sp
        from scipy.sparse.linalg import expm_multiply

        if self._augmented is None:
            n = self.L.shape[0]
            A = sp.bmat([[self.L, sp.csr_matrix(self.b[:, None])], [None, sp.csr_matrix((1, 1))]], format="csr")
            self._augmented = (A, (sp.identity(n + 1, format="csr") + self.dt * A).tocsr())
        A, P = self._augmented
        x = np.append(np.asarray(u, dtype=float).ravel(), 1.0)
        back = expm_multiply(-self.dt * A, x)
        steps = round(t / self.dt)
        return (steps * (P @ back - x))[:-1].reshape(self.shape)

    def adi_at(self, u0):
        """Predicted ``Douglas ADI - e^{tL}`` as a function of increasing times ``t``. The split's local
        error :math:`\\Delta t^3 M r` with :math:`M = L^2/12 - \\sum_{a<b} L_a L_b / 4` (ordered as the stages
        run) need not commute with L in a medium, so it is carried by the flow exactly:
        :math:`e(t) = \\Delta t^2 \\int_0^t e^{L(t-s)} M e^{Ls} r_0\\,ds`, the top half of
        :math:`\\exp(t\\,[[L, \\Delta t^2 M], [0, L]])\\,[0; r_0]` (``expm_multiply``), with
        :math:`r_0 = L u_0 + b`."""
        import scipy.sparse as sp
        from scipy.sparse.linalg import expm_multiply

        split = sp.csr_matrix(self.L.shape)
        for a, La in enumerate(self.axes):
            for Lb in self.axes[a + 1:]:
                split = split + La @ Lb
        M = (self.L @ self.L) / 12.0 - split / 4.0
        A = sp.bmat([[self.L, self.dt**2 * M], [None, self.L]], format="csr")
        n = self.L.shape[0]
        state = {"t": 0.0, "x": np.concatenate([np.zeros(n), self._rate(u0)])}

        def at(t: float) -> np.ndarray:
            if t < state["t"]:
                state.update(t=0.0, x=np.concatenate([np.zeros(n), self._rate(u0)]))
            if t > state["t"]:
                state["x"] = expm_multiply(A * (t - state["t"]), state["x"])
                state["t"] = t
            return state["x"][:n].reshape(self.shape).copy()

        return at


def semidiscrete_errors(m, dt: float) -> SemidiscreteErrors:
    return SemidiscreteErrors(m, dt)


def adi_semidiscrete_error_at(u0, grid: Grid, diffusivity: float, dt: float):
    """Predicted ``Crank-Nicolson ADI - e^{tL}`` (scalar D), as a function of ``steps``: per mode of
    discrete eigenvalue :math:`\\lambda`, :math:`n\\,(g - e^{\\lambda\\Delta t})\\,e^{\\lambda (t - \\Delta t)}\\hat u_0`."""
    from .solvers.implicit import amplification

    c0 = spectral.forward(np.asarray(u0, dtype=float) - wall_value(grid.boundaries), grid.boundaries)
    lam = np.zeros(())
    for n, b, h in zip(grid.shape, grid.boundaries, grid.spacing):
        lam = np.add.outer(lam, diffusivity * spectral.eigenvalues(n, b.kind) / h**2)
    per_step = amplification(grid, diffusivity, dt) - np.exp(lam * dt)
    return lambda steps: _frames(c0, grid, steps, lambda n: n * per_step * np.exp(lam * dt * max(n - 1, 0)))


def implicit_error(u0, grid: Grid, diffusivity: float, dt: float, steps) -> np.ndarray:
    """Predicted ``Crank-Nicolson ADI - heat solution`` at each of ``steps`` (frames along axis 0)."""
    return implicit_error_at(u0, grid, diffusivity, dt)(steps)


def implicit_error_at(u0, grid: Grid, diffusivity: float, dt: float):
    """:func:`implicit_error` as a function of ``steps``, its set-up done once."""
    from .solvers.implicit import amplification

    c0 = spectral.forward(np.asarray(u0, dtype=float) - wall_value(grid.boundaries), grid.boundaries)
    D = np.broadcast_to(_D(diffusivity), (grid.ndim,))
    exponent = np.zeros(())
    for th, h, Da in zip(_thetas(grid), grid.spacing, D):
        exponent = np.add.outer(exponent, -Da * dt * (th / h) ** 2)
    per_step = amplification(grid, diffusivity, dt) - np.exp(exponent)  # against exp(-D |k|^2 dt)
    return lambda steps: _frames(c0, grid, steps,
                                 lambda n: n * per_step * spectral.heat_transfer(grid, 2.0 * D * max(n - 1, 0) * dt))


def _D(diffusivity):
    return np.asarray(diffusivity, dtype=float)


def _frames(c0, grid, steps, multiplier) -> np.ndarray:
    steps = np.atleast_1d(np.asarray(steps))
    out = np.zeros((len(steps),) + grid.shape)
    for i, n in enumerate(steps):
        if n > 0:
            out[i] = spectral.inverse(c0 * spectral.half(multiplier(int(n)), grid.boundaries), grid.boundaries,
                                      grid.shape, overwrite=True)
    return out
