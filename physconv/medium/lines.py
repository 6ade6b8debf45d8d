"""The ADI stages of a medium: ``I - dt/2 L_a`` along the lines of axis ``a``, factored once
(DESIGN §11; used by :func:`physconv.medium.stepping.adi`)."""

from __future__ import annotations

import numpy as np

from .model import Medium
from .operator import axis_parts


class LineSolver:
    """Solves ``(I - h L_a) y = r`` for every line of axis ``a`` at once (a compiled Thomas sweep; cyclic
    lines of a periodic axis by Sherman–Morrison), in time linear in the cells."""

    def __init__(self, m: Medium, axis: int, h: float, part=None):
        i, j, fwd, bwd, diag, _ = axis_parts(m)[axis] if part is None else part
        shape, n = m.grid.shape, m.grid.shape[axis]
        idx = np.arange(m.grid.size).reshape(shape)
        self.perm = np.ascontiguousarray(np.moveaxis(idx, axis, -1).reshape(-1, n))
        self.shape = self.perm.shape
        self.cyclic = m.grid.boundaries[axis].kind == "periodic" and n > 2
        inner = ~np.isin(j, self.perm[:, 0]) if m.grid.boundaries[axis].kind == "periodic" else np.ones(len(i), bool)
        up, lo = np.zeros(m.grid.size), np.zeros(m.grid.size)
        up[i[inner]] = -h * bwd[inner]  # M[i, next]
        lo[j[inner]] = -h * fwd[inner]  # M[next, i]
        upper, lower = up[self.perm], lo[self.perm]
        d = 1.0 - h * diag[self.perm]
        self.z, self.ratio, self.fac = np.zeros((1, 1)), np.zeros(1), np.zeros(1)
        if self.cyclic:  # corners M[0, n-1] = alpha (from the last cell into the first), M[n-1, 0] = beta
            wrap = ~inner
            alpha_full, beta_full = np.zeros(m.grid.size), np.zeros(m.grid.size)
            alpha_full[j[wrap]] = -h * fwd[wrap]
            beta_full[j[wrap]] = -h * bwd[wrap]
            alpha, beta = alpha_full[self.perm[:, 0]], beta_full[self.perm[:, 0]]
            gamma = -d[:, 0]
            d[:, 0] -= gamma
            d[:, -1] -= alpha * beta / gamma
            u = np.zeros(self.shape)
            u[:, 0], u[:, -1] = gamma, beta
        self.lower = np.ascontiguousarray(lower)
        self.den, self.cp = np.empty(self.shape), np.empty(self.shape)
        self.den[:, 0] = d[:, 0]
        self.cp[:, 0] = upper[:, 0] / d[:, 0]
        for k in range(1, n):
            self.den[:, k] = d[:, k] - lower[:, k] * self.cp[:, k - 1]
            self.cp[:, k] = upper[:, k] / self.den[:, k]
        if self.cyclic:
            self.z = self._solve(u.copy(), False)
            self.ratio = alpha / gamma
            self.fac = 1.0 / (1.0 + self.z[:, 0] + self.ratio * self.z[:, -1])

    def _solve(self, rhs, cyclic):
        from ..solvers import _line_solves

        _line_solves.solve(rhs, self.lower, self.cp, self.den, self.z, self.ratio, self.fac, cyclic)
        return rhs

    def __call__(self, r: np.ndarray) -> np.ndarray:
        """The solution for the flat right-hand side ``r`` (a new flat array)."""
        lines = self._solve(np.ascontiguousarray(r[self.perm]), self.cyclic)
        out = np.empty_like(r)
        out[self.perm] = lines
        return out
