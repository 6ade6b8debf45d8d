"""The methods on a medium: explicit steps ``P u + dt b`` (compiled, and by the sparse matrix as their
reference), Crank–Nicolson with the same operator, the exact power ``P^n`` by eigendecomposition and
the time-exact ``e^{tL}`` of the space-discretised equation (DESIGN §11).

With ``L`` and ``b`` of :func:`physconv.medium.operator` and ``P = I + dt L``:

- explicit: :math:`u^{n+1} = P u^n + \\Delta t\\, b` (first order in dt against ``e^{tL}``);
- Crank–Nicolson: :math:`(I - \\tfrac{\\Delta t}2 L) u^{n+1} = (I + \\tfrac{\\Delta t}2 L) u^n + \\Delta t\\, b`
  (second order, stable for every dt; one sparse LU factorisation, reused);
- spectral: :math:`P^n u_0 + \\sum_{k<n} P^k \\Delta t\\, b` through ``P = V \\Lambda V^T`` (P symmetric when
  the medium is still), equal to explicit to round-off;
- semidiscrete: :math:`e^{tL} u_0 + (e^{tL} - I) L^{-1} b` (``scipy.sparse.linalg.expm_multiply``).
"""

from __future__ import annotations

import numpy as np

from .._interrupt import check as check_interrupt
from .model import Medium, MediumError, field
from .operator import operator, stable_dt, weights

MAX_EIGEN_CELLS = 4096  # the dense eigendecomposition: n^2 doubles (128 MiB) and n^3 flops (about 10 s)


def explicit(m: Medium, u0, dt: float, steps: int, save_every: int | None = None, callback=None, out=None):
    """Explicit steps ``u <- P u + dt b`` from ``u0`` (solid cells must hold nothing) by the compiled
    finite-volume loop, in chunks sized by time (Ctrl-C is honoured between them). Returns the last
    field, or with ``save_every`` (or ``out``) a :class:`~physconv.solvers.explicit.Trajectory`."""
    from ..solvers import _medium_loops, workspace
    from ..solvers.explicit import _drive, _fused, temporal_blocking

    u = field(m, u0, copy=False).reshape(m.grid.shape)  # read, never written
    check_dt(m, dt)
    c, w, add = weights(m, dt)  # built once per medium and dt (kept in its cache)
    extra = (add, True) if add is not None else (c, False)

    closed = m.still and all(k.kind in ("periodic", "reflecting") for k in m.grid.boundaries) and (
        m.wall == "reflecting" or not m.solid.any())
    blocking = temporal_blocking(m.grid.shape) if m.grid.ndim == 2 and closed else None
    scratch = None
    if blocking is not None:  # k steps per sweep in bands: the field read and written once per k steps
        k, band = blocking
        ny, nx = m.grid.shape
        scratch = workspace.take((-(-ny // band) * k * 3, nx), np.float64)
        periodic = m.grid.boundaries[0].kind == "periodic"
        fy, fx = w[2][0], w[4][0]
        advance = _fused(k, (ny, nx), lambda src, dst, kk: _medium_loops.fv_blocked_2d_closed(
            src, dst, kk, band, scratch, fy, fx, periodic))
    elif m.grid.ndim == 2 and closed:  # no sink: a cell's own weight is 1 - its faces' (one stream fewer)
        def advance(a, b, n):
            return _medium_loops.fv_steps_2d_closed(a, b, n, w[2], w[4])
    else:
        def advance(a, b, n):
            return _medium_loops.fv_steps(a, b, n, c, *w, *extra)

    return _drive(advance, u, int(steps), save_every, callback, 0 if blocking is None else blocking[0], out, scratch)


def check_dt(m: Medium, dt: float, parts=None) -> float:
    """The largest stable dt; :class:`MediumError` naming it when ``dt`` is beyond it."""
    limit = stable_dt(m, parts)
    if dt > limit * (1 + 1e-12):
        what = "diffusion and advection" if not m.still else "diffusion"
        raise MediumError(f"dt = {dt:g} is unstable for explicit steps of {what} in this medium; the largest "
                          f"stable dt is {limit:.6g}")
    return limit


def explicit_sparse(m: Medium, u0, dt: float, steps: int) -> np.ndarray:
    """The same steps by the sparse matrix ``P = I + dt L`` (scipy): the reference of the compiled loop."""
    import scipy.sparse as sp

    u = field(m, u0)
    L, b = operator(m)
    P = (sp.identity(L.shape[0], format="csr") + dt * L).tocsr()
    c = dt * b
    for _ in range(int(steps)):
        u = P @ u + c
    return u.reshape(m.grid.shape)


def crank_nicolson(m: Medium, u0, dt: float, keep, callback=None, out=None) -> np.ndarray:
    """Crank–Nicolson frames at the steps ``keep`` (increasing), by one sparse LU factorisation of
    ``I - dt/2 L`` (``scipy.sparse.linalg.splu``) reused for every step; any ``dt > 0`` is stable."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    u = field(m, u0)
    L, b = operator(m)
    eye = sp.identity(L.shape[0], format="csc")
    lu = splu((eye - 0.5 * dt * L).tocsc())
    right = (eye + 0.5 * dt * L).tocsr()
    c = dt * b
    return _march(m, u, lambda u: lu.solve(right @ u + c), keep, callback, out)


def adi(m: Medium, u0, dt: float, keep, callback=None, out=None) -> np.ndarray:
    """Crank–Nicolson by alternating directions (Douglas' splitting), frames at the steps ``keep``:

    .. math::
        (I - \\tfrac{\\Delta t}2 L_1)\\,v_1 &= u^n + \\Delta t\\,(L u^n + b) - \\tfrac{\\Delta t}2 L_1 u^n\\\\
        (I - \\tfrac{\\Delta t}2 L_a)\\,v_a &= v_{a-1} - \\tfrac{\\Delta t}2 L_a u^n, \\qquad u^{n+1} = v_d

    with ``L = sum_a L_a`` split by axis (:func:`~physconv.medium.operator.axis_operators`): each factor
    couples cells along lines of one axis only (lines cut at the obstacles, whose faces carry nothing
    or only a diagonal term), so it is factored once per line (:class:`~physconv.medium.lines.LineSolver`)
    and solved in time linear in the cells. Equivalent to :math:`\\prod_a (I - \\tfrac{\\Delta t}2 L_a)(u^{n+1} - u^n) = \\Delta t\\,(L u^n + b)`:
    steady states are kept exactly, it is second order in dt, and stable for every dt when the
    medium is still (each factor is then symmetric negative semi-definite, as for scalar D)."""
    from .lines import LineSolver
    from .operator import _sparse, axis_parts

    u = field(m, u0)
    parts = axis_parts(m)
    n = m.grid.size
    L = _sparse(n, [p[:4] for p in parts], sum(p[4] for p in parts))
    b = sum(p[5] for p in parts)
    half = 0.5 * dt
    solvers = [(LineSolver(m, a, half, p), half * _sparse(n, [p[:4]], p[4])) for a, p in enumerate(parts)]

    def step(u):
        v = u + dt * (L @ u + b)
        for solve, hL in solvers:
            v = solve(v - hL @ u)
        return v

    return _march(m, u, step, keep, callback, out)


def semidiscrete(m: Medium, u0, times) -> np.ndarray:
    """``e^{tL} u0 + (e^{tL} - I) L^{-1} b`` at one time (a field) or several increasing ones (frames),
    by ``scipy.sparse.linalg.expm_multiply`` on the operator augmented with the constant, from each
    time to the next."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import expm_multiply

    u = field(m, u0)
    L, b = operator(m)
    if b.any():  # d/dt [u; 1] = [[L, b], [0, 0]] [u; 1]
        L = sp.bmat([[L, sp.csr_matrix(b[:, None])], [None, sp.csr_matrix((1, 1))]], format="csr")
        u = np.append(u, 1.0)
    single = np.ndim(times) == 0
    ts = np.atleast_1d(np.asarray(times, dtype=float))
    out = np.empty((len(ts),) + m.grid.shape)
    steps = np.diff(ts)
    even = 1  # the evenly spaced times from the first (saved steps: all but perhaps the last)
    while even < len(ts) and steps[even - 1] > 0 and abs(steps[even - 1] - steps[0]) <= 1e-12 * steps[0]:
        even += 1
    now, done = 0.0, 0
    if even > 2 and ts[0] == 0:  # one call: its parameters (norm estimates) are chosen once for all those times
        frames = expm_multiply(L, u, start=0.0, stop=float(ts[even - 1]), num=even, endpoint=True)
        out[:even] = frames[:, : m.grid.size].reshape((even,) + m.grid.shape)
        u, now, done = frames[-1], float(ts[even - 1]), even
    for i, t in enumerate(ts[done:], start=done):
        if t > now:
            u = expm_multiply(L * float(t - now), u)
            now = float(t)
        out[i] = u[: m.grid.size].reshape(m.grid.shape)
        check_interrupt()
    return out[0] if single else out


def power(m: Medium, u0, dt: float, keep, out=None) -> np.ndarray:
    """``P^n u0 + sum_{k<n} P^k dt b`` for every ``n`` in ``keep``, exactly, by the eigendecomposition of
    the symmetric ``P`` (``scipy.linalg.eigh``) over the fluid cells: cost independent of ``n``.

    Refused (:class:`MediumError`, with the reason) for a medium with a velocity (P is not symmetric,
    its eigenvectors may be ill-conditioned) or more than :data:`MAX_EIGEN_CELLS` fluid cells."""
    from scipy.linalg import eigh

    if not m.still:
        raise MediumError("with a velocity P is not symmetric and its eigenvectors can be ill-conditioned, so "
                          "P^n is not computed by eigendecomposition; compare explicit with semidiscrete")
    u = field(m, u0)
    fluid = np.flatnonzero(~m.solid.ravel())
    if fluid.size > MAX_EIGEN_CELLS:
        raise MediumError(f"P^n of a non-uniform medium is computed by a dense eigendecomposition, here of "
                          f"{fluid.size} fluid cells; at most {MAX_EIGEN_CELLS} (memory n^2, time n^3)")
    L, b = operator(m)
    P = np.eye(fluid.size) + dt * L[fluid][:, fluid].toarray()
    lam, V = eigh(0.5 * (P + P.T))
    c0, cb = V.T @ u[fluid], V.T @ (dt * b[fluid])
    frames = _frames(m, keep, out)
    for i, n in enumerate(keep):
        n = int(n)
        if n == 0:  # P^0 = I exactly, not V V^T to round-off
            frames[i] = u.reshape(m.grid.shape)
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            geometric = np.where(np.abs(1 - lam) > 1e-12, (1 - lam**n) / (1 - lam), float(n))
        full = np.zeros(m.grid.size)
        full[fluid] = V @ (lam**n * c0 + geometric * cb)
        frames[i] = full.reshape(m.grid.shape)
    return frames


def _march(m: Medium, u, step, keep, callback, out):
    """Frames at the steps ``keep`` of ``u <- step(u)`` (flat fields); Ctrl-C and ``callback`` every 16 steps."""
    frames = _frames(m, keep, out)
    done = 0
    for i, target in enumerate(keep):
        while done < target:
            u = step(u)
            done += 1
            if done % 16 == 0 or done == target:
                check_interrupt()
                if callback is not None:
                    callback(done)
        frames[i] = u.reshape(m.grid.shape)
    return frames


def _frames(m: Medium, keep, out):
    return np.empty((len(keep),) + m.grid.shape) if out is None else out
