"""The space-discretised equation of a medium, ``du/dt = L u + b``, from its face fluxes.

Finite volumes (DESIGN §1 for the walls, §11 for media). Along axis ``a`` (cell size ``h``), the face
between fluid cells ``i`` and ``j`` (``j`` the next) conducts :math:`g = D_f / h^2` with :math:`D_f`
the harmonic mean of the two cells' D (flux continuity; Crank, *The Mathematics of Diffusion*, §8.4),
and carries the upwind advective flux of its velocity :math:`v_f` (the mean of the two cells'):

.. math:: \\frac{du_i}{dt} \\mathrel{+}= g\\,(u_j - u_i) - \\frac{v_f^+ u_i - v_f^- u_j}{h}, \\qquad
          \\frac{du_j}{dt} \\mathrel{+}= g\\,(u_i - u_j) + \\frac{v_f^+ u_i - v_f^- u_j}{h}

(:math:`v^\\pm = \\max(\\pm v, 0)`), so that every off-diagonal entry of L is non-negative and every
column of L sums to zero away from sinks: ``P = I + dt L`` is column-stochastic while ``dt`` keeps its
diagonal non-negative. A face into a solid cell is a wall of the obstacles' kind at the same position
as a domain wall of that kind: reflecting conducts nothing, absorbing has a zero ghost cell beyond it
(:math:`-D_i/h^2\\,u_i`); no flow crosses it. Domain walls: periodic faces wrap, reflecting ones carry
nothing, absorbing ones a zero ghost cell, dirichlet ones the odd extension about the face
(:math:`2D/h^2\\,(c - u)`); flow leaves through absorbing and dirichlet walls, and what flows in
through them carries the wall's value. Units: D in length²/time, v in length/time, L in 1/time.
"""

from __future__ import annotations

import numpy as np

from .model import Medium


def _pairs(shape, axis, periodic):
    """Flat indices ``(i, j)`` of neighbouring cells along ``axis`` (j the next cell), the wrap included."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    lo = np.take(idx, np.arange(shape[axis] - 1), axis=axis).ravel()
    hi = np.take(idx, np.arange(1, shape[axis]), axis=axis).ravel()
    if periodic and shape[axis] > 1:
        lo = np.concatenate([lo, np.take(idx, [shape[axis] - 1], axis=axis).ravel()])
        hi = np.concatenate([hi, np.take(idx, [0], axis=axis).ravel()])
    return lo, hi


def faces(m: Medium):
    """``(faces, diag, b)``: per axis ``(i, j, forward, backward)`` — neighbouring cells and the rates
    (1/time) ``L[j, i]`` (from i into j) and ``L[i, j]`` — then the diagonal of L and its constant."""
    parts = axis_parts(m)
    return [p[:4] for p in parts], sum(p[4] for p in parts), sum(p[5] for p in parts)


def axis_parts(m: Medium):
    """Per axis ``(i, j, forward, backward, diag, b)``: the faces along that axis (see :func:`faces`) and
    the diagonal and constant they and that axis's walls contribute (``L = sum_a L_a``), all flat."""
    shape = m.grid.shape
    out = []
    for a, (fwd, bwd, diag, b) in enumerate(structured(m)):
        periodic = m.grid.boundaries[a].kind == "periodic" and shape[a] > 1
        i, j = _pairs(shape, a, periodic)

        def flat(f):  # in the order of _pairs: the inner faces, then the wrap faces
            parts = [np.take(f, np.arange(shape[a] - 1), axis=a).ravel()]
            if periodic:
                parts.append(np.take(f, [shape[a] - 1], axis=a).ravel())
            return np.concatenate(parts)

        out.append((i, j, flat(fwd), flat(bwd), diag.ravel(), b.ravel()))
    return out


def structured(m: Medium):
    """Per axis ``(forward, backward, diag, b)`` as arrays of the grid's shape, by slicing: ``forward[k]`` is
    ``L[k+1, k]`` and ``backward[k]`` is ``L[k, k+1]`` for the face between cell k and the next along the
    axis (the last one the wrap face of a periodic axis, else 0); ``diag`` and ``b`` that axis's part of
    L's diagonal and constant (see the module for the rules). Built once per medium (kept in its cache)."""
    if "structured" not in m.cache:
        m.cache["structured"] = _structured(m)
    return m.cache["structured"]


def _structured(m: Medium):
    g, shape = m.grid, m.grid.shape
    solid = m.solid
    out = []
    for a, (h, wall) in enumerate(zip(g.spacing, g.boundaries)):
        n = shape[a]
        d = m.diffusivity[a]
        periodic = wall.kind == "periodic" and n > 1
        nxt = np.roll(d, -1, axis=a) if periodic else np.concatenate([np.take(d, range(1, n), axis=a),
                                                                      np.take(d, [n - 1], axis=a)], axis=a)
        snext = np.roll(solid, -1, axis=a) if periodic else np.concatenate(
            [np.take(solid, range(1, n), axis=a), np.ones_like(np.take(solid, [0], axis=a))], axis=a)
        both = ~solid & ~snext  # a face with fluid on both sides (the last, on a closed axis, has none)
        with np.errstate(invalid="ignore", divide="ignore"):
            cond = np.where(both, 2 * d * nxt / (d + nxt), 0.0) / h**2
        fwd, bwd = cond.copy(), cond
        if m.velocity is not None:
            v = m.velocity[a]
            vn = np.roll(v, -1, axis=a) if periodic else np.concatenate([np.take(v, range(1, n), axis=a),
                                                                         np.take(v, [n - 1], axis=a)], axis=a)
            vf = np.where(both, 0.5 * (v + vn), 0.0) / h
            fwd = cond + np.maximum(vf, 0.0)
            bwd = cond + np.maximum(-vf, 0.0)
        diag = -fwd - (np.roll(bwd, 1, axis=a) if periodic else _shift_in(bwd, a))
        b = np.zeros(shape)
        if m.wall == "absorbing":  # a fluid cell beside a solid one: a zero ghost cell beyond the face
            sprev = np.roll(solid, 1, axis=a) if periodic else _shift_in(solid, a)
            beside = (snext & ~solid & _inside(shape, a, periodic)).astype(float)
            beside += (sprev & ~solid).astype(float)
            diag -= beside * d / h**2
        if wall.kind in ("absorbing", "dirichlet"):
            value = wall.value if wall.kind == "dirichlet" else 0.0
            k = 1.0 if wall.kind == "absorbing" else 2.0
            for end, outward in ((0, -1.0), (n - 1, 1.0)):
                sl = [slice(None)] * len(shape)
                sl[a] = slice(end, end + 1)
                sl = tuple(sl)
                fluid = ~solid[sl]
                diag[sl] -= fluid * k * d[sl] / h**2
                if wall.kind == "dirichlet":
                    b[sl] += fluid * 2.0 * d[sl] / h**2 * value
                if m.velocity is not None:  # out through the wall; in, carrying the wall's value
                    vo = outward * m.velocity[a][sl] / h * fluid
                    diag[sl] -= np.maximum(vo, 0.0)
                    b[sl] += np.maximum(-vo, 0.0) * value
        out.append((fwd, bwd, diag, b))
    return out


def _shift_in(a, axis):
    """``a`` moved one cell up along ``axis``, a zero (False) entering at the start: each cell's previous."""
    first = np.zeros_like(np.take(a, [0], axis=axis))
    return np.concatenate([first, np.take(a, range(a.shape[axis] - 1), axis=axis)], axis=axis)


def _inside(shape, axis, periodic):
    """True except, on a closed axis, at its last cell (whose next 'cell' is the wall, not an obstacle)."""
    keep = np.ones(shape, dtype=bool)
    if not periodic:
        sl = [slice(None)] * len(shape)
        sl[axis] = slice(shape[axis] - 1, shape[axis])
        keep[tuple(sl)] = False
    return keep


def axis_operators(m: Medium):
    """``[(L_a, b_a)]``: the operator split by axis, ``L = sum_a L_a`` and ``b = sum_a b_a`` (each L_a
    couples cells along lines of axis a only: tridiagonal per line, cyclic on a periodic axis)."""
    n = m.grid.size
    return [(_sparse(n, [(i, j, fwd, bwd)], diag), b) for i, j, fwd, bwd, diag, b in axis_parts(m)]


def _sparse(n, fs, diag):
    import scipy.sparse as sp

    rows = np.concatenate([f[1] for f in fs] + [f[0] for f in fs] + [np.arange(n)])
    cols = np.concatenate([f[0] for f in fs] + [f[1] for f in fs] + [np.arange(n)])
    vals = np.concatenate([f[2] for f in fs] + [f[3] for f in fs] + [diag])
    L = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    L.eliminate_zeros()
    return L


def operator(m: Medium, parts=None):
    """``(L, b)``: the sparse spatial operator (CSR, 1/time) and its constant (dirichlet walls), so that
    ``du/dt = L u + b`` (see the module). ``parts``: :func:`faces` already built."""
    fs, diag, b = faces(m) if parts is None else parts
    return _sparse(m.grid.size, fs, diag), b


def stable_dt(m: Medium, parts=None) -> float:
    """The largest stable explicit step.

    Still media: ``2 / max_i sum_j |L_ij|`` — L is symmetric negative semi-definite, so ``I + dt L`` is
    stable while ``dt`` times its spectral radius is at most 2, and Gershgorin bounds that radius by the
    largest absolute row sum; for a uniform medium this is the FTCS limit ``1 / (2 D sum_a h_a^-2)``.
    With a velocity: ``1 / max_i |L_ii|``, the step whose P has no negative entry (each step stays a
    probability kernel, and its columns' Gershgorin discs lie in the unit disc); uniform:
    ``1 / sum_a (2 D_a / h_a^2 + |v_a| / h_a)``. ``parts``: :func:`structured` already built.
    """
    if parts is None and "stable_dt" in m.cache:
        return m.cache["stable_dt"]
    limit = _stable_dt(m, structured(m) if parts is None else parts)
    if parts is None:
        m.cache["stable_dt"] = limit  # a medium does not change: 0.15 s on 2048^2, once
    return limit


def _stable_dt(m: Medium, parts) -> float:
    diag = sum(p[2] for p in parts)
    if not m.still:
        worst = float(np.abs(diag).max())
        return np.inf if worst <= 0 else 1.0 / worst
    rows = np.abs(diag)  # |L_ii| + the rates of the cell's faces (its off-diagonal row): L[k, k+1] and L[k, k-1]
    for a, (fwd, bwd, _, _) in enumerate(parts):
        periodic = m.grid.boundaries[a].kind == "periodic" and m.grid.shape[a] > 1
        rows = rows + bwd + (np.roll(fwd, 1, axis=a) if periodic else _shift_in(fwd, a))
    worst = float(rows.max())
    return np.inf if worst <= 0 else 2.0 / worst


def weights(m: Medium, dt: float, parts=None):
    """The step's weights for the compiled loop, each ``(nz, ny, nx)``: ``c = 1 + dt L_ii``; per axis
    (z, y, x) ``f[i] = dt L[i+1, i]`` and ``r[i] = dt L[i, i+1]`` for the face between cell i and the
    next (the last: the wrap face or zero), one array for both when the medium is still; ``add = dt b``
    or None. Axes a 1-D or 2-D grid lacks have zero weights. ``parts``: :func:`structured` already built."""
    if parts is None and ("weights", dt) in m.cache:
        return m.cache[("weights", dt)]
    made = _weights(m, dt, structured(m) if parts is None else parts)
    m.cache.pop(next((k for k in m.cache if isinstance(k, tuple) and k[0] == "weights"), None), None)  # one dt kept: memory of a few fields
    m.cache[("weights", dt)] = made
    return made


def _weights(m: Medium, dt: float, parts):
    nd = m.grid.ndim
    shape3 = (1,) * (3 - nd) + tuple(m.grid.shape)
    per_axis = [(np.zeros(shape3),) * 2 for _ in range(3 - nd)]
    diag, b = np.zeros(m.grid.shape), np.zeros(m.grid.shape)
    for fwd, bwd, d, ba in parts:
        f = (dt * fwd).reshape(shape3)
        per_axis.append((f, f if m.still else (dt * bwd).reshape(shape3)))
        diag += d
        b += ba
    c = (1.0 + dt * diag).reshape(shape3)
    add = (dt * b).reshape(shape3) if b.any() else None
    return c, [w for pair in per_axis for w in pair], add


def step_kernel(m: Medium, dt: float) -> np.ndarray:
    """The probability kernel of one explicit step of a uniform medium (anisotropic FTCS with upwind
    drift): centre ``1 - sum_a (2 r_a + |C_a|)``, ``r_a + C_a^+`` one cell downstream along axis ``a`` and
    ``r_a + C_a^-`` upstream, with ``r_a = D_a dt / h_a^2`` and ``C_a = v_a dt / h_a`` (the Courant number).
    Away from walls it is the column of P of every cell."""
    if not m.uniform:
        raise ValueError("one kernel describes a step only in a uniform medium")
    nd = m.grid.ndim
    k = np.zeros((3,) * nd)
    centre = (1,) * nd
    k[centre] = 1.0
    for a, (D, v, h) in enumerate(zip(m.axis_diffusivity, m.drift, m.grid.spacing)):
        r, C = D * dt / h**2, v * dt / h
        for side, weight in ((2, r + max(C, 0.0)), (0, r + max(-C, 0.0))):
            idx = list(centre)
            idx[a] = side
            k[tuple(idx)] = weight
            k[centre] -= weight
    return k
