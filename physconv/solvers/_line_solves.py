"""Jitted solves of many tridiagonal lines at once (private): the factors of a medium's ADI stages.

Each line ``l`` solves ``M_l y = r_l`` with ``M_l`` tridiagonal (``lower[l, k] = M[k, k - 1]``), factored
once (Thomas: ``den``, ``cp``); a cyclic line (periodic axis) adds its corners by Sherman–Morrison
(``z = M'^{-1} u``, ``ratio``, ``fac``; Press et al., *Numerical Recipes*, §2.7). Lines run in parallel.
"""

import numba as nb
from numba import prange


@nb.njit(parallel=True, cache=True)
def solve(rhs, lower, cp, den, z, ratio, fac, cyclic):
    """``rhs`` (lines, n) overwritten by the solutions."""
    lines, n = rhs.shape
    for l in prange(lines):
        r = rhs[l]
        r[0] = r[0] / den[l, 0]
        for k in range(1, n):
            r[k] = (r[k] - lower[l, k] * r[k - 1]) / den[l, k]
        for k in range(n - 2, -1, -1):
            r[k] -= cp[l, k] * r[k + 1]
        if cyclic:
            t = fac[l] * (r[0] + ratio[l] * r[n - 1])
            for k in range(n):
                r[k] -= t * z[l, k]
