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
    the diagonal and constant they and that axis's walls contribute (``L = sum_a L_a``)."""
    g, shape, n = m.grid, m.grid.shape, m.grid.size
    solid = m.solid.ravel()
    out = []
    idx = np.arange(n).reshape(shape)
    for a, (h, wall) in enumerate(zip(g.spacing, g.boundaries)):
        diag, b = np.zeros(n), np.zeros(n)
        d = m.diffusivity[a].ravel()
        i, j = _pairs(shape, a, wall.kind == "periodic")
        both = ~solid[i] & ~solid[j]
        cond = np.where(both, 2 * d[i] * d[j] / np.where(both, d[i] + d[j], 1.0), 0.0) / h**2
        fwd, bwd = cond.copy(), cond.copy()
        if m.velocity is not None:
            v = m.velocity[a].ravel()
            vf = np.where(both, 0.5 * (v[i] + v[j]), 0.0) / h
            fwd += np.maximum(vf, 0.0)
            bwd += np.maximum(-vf, 0.0)
        np.subtract.at(diag, i, fwd)
        np.subtract.at(diag, j, bwd)
        if m.wall == "absorbing":  # a fluid cell beside a solid one: a zero ghost cell beyond the face
            for f, s in ((i, j), (j, i)):
                edge = ~solid[f] & solid[s]
                np.subtract.at(diag, f[edge], d[f[edge]] / h**2)
        if wall.kind in ("absorbing", "dirichlet"):
            value = wall.value if wall.kind == "dirichlet" else 0.0
            for end, outward in ((0, -1.0), (shape[a] - 1, 1.0)):
                cells = np.take(idx, [end], axis=a).ravel()
                cells = cells[~solid[cells]]
                k = 1.0 if wall.kind == "absorbing" else 2.0
                np.subtract.at(diag, cells, k * d[cells] / h**2)
                if wall.kind == "dirichlet":
                    np.add.at(b, cells, 2.0 * d[cells] / h**2 * value)
                if m.velocity is not None:  # out through the wall; in, carrying the wall's value
                    vo = outward * m.velocity[a].ravel()[cells] / h
                    np.subtract.at(diag, cells, np.maximum(vo, 0.0))
                    np.add.at(b, cells, np.maximum(-vo, 0.0) * value)
        out.append((i, j, fwd, bwd, diag, b))
    return out


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
    ``1 / sum_a (2 D_a / h_a^2 + |v_a| / h_a)``.
    """
    fs, diag, _ = faces(m) if parts is None else parts
    if not m.still:
        worst = float(np.abs(diag).max())
        return np.inf if worst <= 0 else 1.0 / worst
    rows = np.abs(diag)  # |L_ii| + the rates of the cell's faces (its off-diagonal row)
    for i, j, fwd, bwd in fs:
        np.add.at(rows, i, bwd)
        np.add.at(rows, j, fwd)
    worst = float(rows.max())
    return np.inf if worst <= 0 else 2.0 / worst


def weights(m: Medium, dt: float, parts=None):
    """The step's weights for the compiled loop, each ``(nz, ny, nx)``: ``c = 1 + dt L_ii``; per axis
    (z, y, x) ``f[i] = dt L[i+1, i]`` and ``r[i] = dt L[i, i+1]`` for the face between cell i and the
    next (the last: the wrap face or zero), one array for both when the medium is still; ``add = dt b``
    or None. Axes a 1-D or 2-D grid lacks have zero weights."""
    fs, diag, b = faces(m) if parts is None else parts
    nd, size = m.grid.ndim, m.grid.size
    shape3 = (1,) * (3 - nd) + tuple(m.grid.shape)
    per_axis = [(np.zeros(shape3),) * 2 for _ in range(3 - nd)]
    for i, _, fwd, bwd in fs:
        f = np.zeros(size)
        f[i] = dt * fwd
        if m.still:
            r = f
        else:
            r = np.zeros(size)
            r[i] = dt * bwd
        per_axis.append((f.reshape(shape3), r.reshape(shape3)))
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
