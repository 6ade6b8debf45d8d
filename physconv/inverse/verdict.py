"""The goodness-of-fit verdict of :func:`physconv.inverse.fit`: is the model right at all?

Under the right model every mode's residual is noise of one level, whatever the mode's signal. A process
the model lacks (a drift, a loss) or the wrong walls leaves residuals that grow with the signal. So the
residual variance of the modes with the most signal (at most a tenth of them, each at least 100x the
noise) is compared with the noise: with the weakest half's residuals by an F test, or with the noise
itself by a chi-square test when its level is known. A right model is called wrong at the rate
:data:`FALSE_ALARM`.
"""

from __future__ import annotations

import numpy as np

FALSE_ALARM = 0.01  # the verdict calls a right model wrong this often
ROUND_OFF = 1e-11  # residuals this small relative to the signal are rounding, not a misfit


def groups(pr, dof, T, s2, known):
    """``(q, d, strong, low, ref)``: per-mode residuals and their degrees of freedom; the modes with the
    most signal (at most a tenth, each 100x the noise) and the half with the least; the noise level
    (known, else the weakest half's)."""
    q = pr.Q
    d = dof * (T - 1)
    energy = np.abs(pr.a) ** 2 * pr.Sgg / dof
    n = energy.size
    nlow = max(n // 2, 1)
    part = np.argpartition(energy, nlow - 1)  # the weakest half first, unsorted: a sort costs 80 ms on 10^6 modes
    low = part[:nlow]
    s2_low = q[low].sum() / d[low].sum()
    ref = known if known is not None else s2_low
    strong = part[n // 2:]
    strong = strong[energy[strong] > 100 * ref]
    tenth = max(n // 10, 1)
    if strong.size > tenth:
        strong = strong[np.argpartition(energy[strong], strong.size - tenth)[strong.size - tenth:]]
    return q, d, strong, low, ref


def excess(pr, dof, T, s2, known) -> float:
    """The strongest modes' residual variance over the noise's."""
    q, d, strong, _, ref = groups(pr, dof, T, s2, known)
    return float(q[strong].sum() / d[strong].sum() / ref) if strong.size and ref > 0 else 1.0


def verdict(pr, dof, T, s2, known):
    """``(reduced chi-square, p, sentence)``: see the module."""
    from scipy import stats

    q, d, strong, low, ref = groups(pr, dof, T, s2, known)
    # no noise at all in the weakest modes (frames computed, not measured): no level to compare with
    chi2 = float(q.sum() / (d.sum() * ref)) if ref > 0 else float("nan")
    if strong.size < 10 or d[strong].sum() < 20:
        return chi2, float("nan"), "untested: too few modes carry signal well above the noise to test the model"
    ratio = float(q[strong].sum() / d[strong].sum() / ref) if ref > 0 else float("inf")
    signal = float(np.sum(np.abs(pr.a[strong]) ** 2 * pr.Sgg[strong]) / d[strong].sum())
    relative = float(np.sqrt(q[strong].sum() / d[strong].sum() / signal)) if signal > 0 else 0.0
    if relative < ROUND_OFF:
        return chi2, float("nan"), (f"exact to round-off: the residuals are {relative:.1e} of the signal "
                                    "(noise-free frames of this very propagator)")
    if known is not None:
        p = float(stats.chi2.sf(ratio * d[strong].sum(), d[strong].sum()))
    else:
        p = float(stats.f.sf(ratio, d[strong].sum(), d[low].sum()))
    if p < FALSE_ALARM:
        return chi2, p, (f"does not fit: the residuals of the {strong.size} strongest modes are {ratio:.3g}x the noise "
                         f"(p = {p:.2g}): a process the model lacks (a drift, a loss), other walls, or (noise-free "
                         "frames) a discrete step's own error: see --propagator steps")
    return chi2, p, f"consistent: the strongest modes' residuals are {ratio:.3g}x the noise (p = {p:.2g})"
