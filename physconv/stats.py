"""Statistics that compare Monte Carlo counts with their exact expectation.

With ``N`` independent particles, the count in a cell whose exact
probability is ``p`` is Binomial(N, p): mean ``E = N p``, variance
``E (1 - p)``. The counts of all cells (and of the removed particles) are
multinomial. Every test here states its false-alarm probability ``alpha``:
the chance that an exact simulation fails it.

Stratified placement (the default of :func:`physconv.montecarlo.place`) has
less variance than the binomial; these tests are then conservative.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special as _sp

MIN_EXPECTED = 5.0  # cells expecting fewer particles are pooled for the chi-square test


def zscores(counts, expected, particles: int) -> np.ndarray:
    """Per-cell ``(O - E) / sqrt(E (1 - E/N))``; ``inf`` where a cell with ``E = 0`` holds particles."""
    O = np.asarray(counts, dtype=float)
    E = np.asarray(expected, dtype=float)
    var = E * (1.0 - E / particles)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (O - E) / np.sqrt(var)
    return np.where(var > 0, z, np.where(O == E, 0.0, np.inf))


def cell_pvalues(counts, expected, particles: int) -> np.ndarray:
    r"""Exact two-sided binomial p-value of each cell's count.

    .. math:: p = \min\{1,\; 2 \min[P(X \le O),\, P(X \ge O)]\},\qquad X \sim \mathrm{Bin}(N, E/N)

    Unlike :func:`zscores` it stays right where only a few particles are
    expected (a single particle in a far tail cell is not an alarm).
    """
    O = np.clip(np.rint(np.asarray(counts, dtype=float)), 0.0, particles)
    p = np.broadcast_to(np.clip(np.asarray(expected, dtype=float) / particles, 0.0, 1.0), O.shape)
    # P(X <= O) = I_{1-p}(N - O, O + 1) and P(X >= O) = I_p(O, N - O + 1), regularised incomplete beta
    # functions (Boost's, as scipy.stats.binom uses, without importing scipy.stats)
    with np.errstate(invalid="ignore"):
        tail = np.where(O >= particles, 1.0, _sp.betainc(particles - O, O + 1.0, 1.0 - p))
    above = tail > 0.5  # only there can P(X >= O) be the smaller tail (else it is >= 1 - P(X <= O))
    Oa = O[above]
    with np.errstate(invalid="ignore"):
        tail[above] = np.where(Oa <= 0, 1.0, _sp.betainc(Oa, particles - Oa + 1.0, p[above]))
    return np.minimum(1.0, 2.0 * tail)


def equivalent_z(pvalues) -> np.ndarray:
    """The |z| of a normal variable with the same two-sided p-value."""
    return -_sp.ndtri(np.asarray(pvalues, dtype=float) / 2.0)


def bonferroni_z(cells: int, alpha: float = 1e-6) -> float:
    """Bound on max |z| over ``cells`` cells that an exact simulation exceeds with probability <= ``alpha``."""
    return float(-_sp.ndtri(alpha / (2.0 * cells)))


class ChiSquare(NamedTuple):
    statistic: float
    dof: int
    p_value: float


def chi_square(counts, expected, particles: int) -> ChiSquare:
    """Pearson's goodness of fit of the counts (plus the removed particles) to the multinomial.

    .. math:: X^2 = \\sum_c \\frac{(O_c - E_c)^2}{E_c}, \\qquad \\text{dof} = \\#\\text{categories} - 1

    Cells expecting fewer than 5 particles are pooled, in their order in memory (neighbours along the
    last axis), into groups that each expect at least 5 (the last, if short, joins the one before), so that
    sparse counts, down to a particle per cell, keep a test with many degrees of freedom. The groups
    depend on the expectation only, never on the counts.
    """
    O = np.asarray(counts, dtype=float).ravel()
    E = np.asarray(expected, dtype=float).ravel()
    lost_E = particles - E.sum()
    if lost_E > 1e-9 * particles:  # absorbing walls: the removed particles are a category too
        O = np.append(O, particles - O.sum())
        E = np.append(E, lost_E)
    small = E < MIN_EXPECTED
    if small.any():
        if np.any(O[E == 0] > 0):
            return ChiSquare(float("inf"), max(int(np.sum(E > 0)) - 1, 0), 0.0)
        e = E[small]
        before = np.cumsum(e) - e  # expected before each small cell
        # Windows of 2 x MIN_EXPECTED: a window's first cell starts under MIN_EXPECTED into it (each cell
        # expects less), and the next window starts at its end, so each window expects at least MIN_EXPECTED.
        group = (before // (2 * MIN_EXPECTED)).astype(np.int64)
        last = group[-1]
        if last > 0 and e.sum() - before[group == last][0] < MIN_EXPECTED:
            group[group == last] = last - 1
        O = np.append(O[~small], np.bincount(group, O[small]))
        E = np.append(E[~small], np.bincount(group, E[small]))
        keep = E > 0
        O, E = O[keep], E[keep]
    stat = float(np.sum((O - E) ** 2 / E))
    dof = len(E) - 1
    return ChiSquare(stat, dof, _chi2_sf(stat, dof))


def _chi2_sf(stat: float, dof: int) -> float:
    """P(chi2_dof >= stat); NaN without a degree of freedom."""
    return float(_sp.chdtrc(dof, stat)) if dof >= 1 else float("nan")


def two_sample(counts_a, counts_b) -> ChiSquare:
    """Chi-square test that two count arrays of the same total come from the same multinomial.

    .. math:: X^2 = \\sum_c \\frac{(A_c - B_c)^2}{A_c + B_c}

    over cells with ``A_c + B_c > 0``; ``dof`` = number of such cells - 1.
    """
    A = np.asarray(counts_a, dtype=float).ravel()
    B = np.asarray(counts_b, dtype=float).ravel()
    if A.sum() != B.sum():
        raise ValueError("two_sample compares count arrays of the same total")
    s = A + B
    m = s > 0
    stat = float(np.sum((A[m] - B[m]) ** 2 / s[m]))
    dof = int(m.sum()) - 1
    return ChiSquare(stat, dof, _chi2_sf(stat, dof))


def relative_l2(field, reference) -> float:
    """``||field - reference|| / ||reference||``."""
    r = np.asarray(reference, dtype=float)
    return float(np.linalg.norm(np.asarray(field, dtype=float) - r) / np.linalg.norm(r))


def expected_relative_l2(expected, particles: int) -> float:
    """The size :func:`relative_l2` of a binomial sample is expected to have: ``sqrt(sum E(1-p)) / ||E||``."""
    E = np.asarray(expected, dtype=float)
    return float(np.sqrt(np.sum(E * (1.0 - E / particles))) / np.linalg.norm(E))


class Check(NamedTuple):
    """How a Monte Carlo frame compares with its exact expectation (see :func:`check`)."""

    max_abs_z: float
    z_bound: float
    chi2: float
    dof: int
    p_value: float
    relative_l2: float
    expected_relative_l2: float
    alive_z: float
    alpha: float

    @property
    def passed(self) -> bool:
        """No alarm: max |z| within the Bonferroni bound, chi-square p and survivors within alpha / 3 each.

        Where the chi-square is undefined (so few particles that pooling leaves no degree of freedom,
        p = NaN) it raises no alarm: the exact per-cell test and the survivor count decide.
        """
        part = self.alpha / 3
        return (self.max_abs_z <= self.z_bound and not self.p_value <= part
                and abs(self.alive_z) <= -_sp.ndtri(part / 2))


def check(counts, expected, particles: int, alpha: float = 1e-6) -> Check:
    """Compare one frame of counts with the expected counts of an exact propagator.

    Three tests, each given ``alpha / 3``: Bonferroni over the cells' exact
    binomial p-values (reported as the equivalent max |z|), Pearson
    chi-square, and the survivor count. An exact simulation fails
    :attr:`Check.passed` with probability at most ``alpha``.
    """
    O = np.asarray(counts, dtype=float)
    E = np.asarray(expected, dtype=float)
    z = equivalent_z(cell_pvalues(O, E, particles))
    chi = chi_square(O, E, particles)
    p_alive = E.sum() / particles
    if p_alive > 1.0 - 1e-12:  # nothing can leave: every particle must be there
        alive_z = 0.0 if O.sum() == particles else float("inf")
    else:
        alive_z = float((O.sum() - E.sum()) / np.sqrt(particles * p_alive * (1 - p_alive)))
    return Check(float(np.abs(z).max()), bonferroni_z(O.size, alpha / 3), chi.statistic, chi.dof, chi.p_value,
                 relative_l2(O, E), expected_relative_l2(E, particles), alive_z, alpha)
