"""Random primitives of the Monte Carlo loops: exact binomials and alias tables.

Statistical tests use fixed seeds; each states its false-alarm probability
(the chance that a correct sampler fails it with a random seed).
"""

import numba as nb
import numpy as np
import pytest
from scipy import stats as st

from physconv.montecarlo import _random as R

ALPHA = 1e-6  # false-alarm probability of each statistical test below


@nb.njit(cache=True)
def _draw_many(seed, n, p, m):
    out = np.empty(m, np.int64)
    s = np.uint64(seed)
    for i in range(m):
        s, out[i] = R.binomial(s, n, p)
    return out


@pytest.mark.parametrize("n, p", [(7, 0.3), (40, 0.2), (60, 0.85), (500, 0.5), (3000, 0.01), (100000, 0.3)])
def test_binomial_draws_fit_the_binomial_pmf(n, p):
    """Pearson chi-square against scipy's pmf (inversion and BTRS branches), alpha = 1e-6."""
    m = 100_000
    x = _draw_many(n * 1000 + int(p * 100), n, p, m)
    support = np.arange(n + 1)
    E = st.binom.pmf(support, n, p) * m
    O = np.bincount(x, minlength=n + 1)
    keep = E >= 5
    O = np.append(O[keep], O[~keep].sum())
    E = np.append(E[keep], E[~keep].sum())
    if E[-1] < 5:
        O, E = np.append(O[:-2], O[-2:].sum()), np.append(E[:-2], E[-2:].sum())
    assert st.chi2.sf(np.sum((O - E) ** 2 / E), len(E) - 1) > ALPHA


@pytest.mark.parametrize("n, p", [(10**12, 0.3), (10**12, 2e-12), (10**14, 0.5), (2**53, 0.5)])
def test_binomial_mean_and_variance_hold_for_huge_counts(n, p):
    """Mean: z-test; variance: the sample variance's own normal approximation. alpha = 1e-6 in all."""
    m = 200_000
    x = _draw_many(11, n, p, m).astype(float)
    mu, var = n * p, n * p * (1 - p)
    zcrit = st.norm.isf(ALPHA / 4)
    assert abs(x.mean() - mu) <= zcrit * np.sqrt(var / m)
    kurt = (1 - 6 * p * (1 - p)) / var  # excess kurtosis of the binomial
    assert abs(x.var() / var - 1) <= zcrit * np.sqrt((2 + kurt) / m)


def test_binomial_edge_cases():
    s = np.uint64(3)
    assert R.binomial(s, 0, 0.5)[1] == 0
    assert R.binomial(s, 9, 0.0)[1] == 0
    assert R.binomial(s, 9, 1.0)[1] == 9


def test_alias_table_reproduces_the_probabilities(rng):
    p = rng.random(17)
    p /= p.sum()
    prob, alias = R.alias_table(p)
    k = len(p)
    got = prob / k
    np.add.at(got, alias, (1 - prob) / k)
    np.testing.assert_allclose(got, p, atol=1e-15)


def test_uniform_streams_are_uniform_and_differ_by_stream():
    @nb.njit
    def draws(key, stream_id, m):
        b = R.stream(key, stream_id)
        return np.array([R.uniform_at(b, i) for i in range(m)])

    u = draws(R.key_of(1), 0, 200_000)
    v = draws(R.key_of(1), 1, 200_000)
    assert st.kstest(u, "uniform").pvalue > ALPHA / 2  # the two assertions share alpha = 1e-6
    assert abs(np.corrcoef(u, v)[0, 1]) < st.norm.isf(ALPHA / 4) / np.sqrt(len(u))


def _alias_pick_law(p):
    """The exact law of alias_pick over all 2**32 values of its random bits (integer arithmetic)."""
    prob, alias = R.alias_table(p)
    threshold = [int(t) for t in R.alias_thresholds(prob)]
    k, one = len(p), 2**32
    law = np.zeros(k)
    for j in range(k):
        lo, hi = -(-j * one // k), -(-(j + 1) * one // k)  # r32 with floor(r32 k / 2**32) = j
        kept = min(hi, max(lo, -(-(j * one + threshold[j]) // k))) - lo  # ... and r32 k - j 2**32 < threshold
        law[j] += kept / one
        law[alias[j]] += (hi - lo - kept) / one
    return law


@pytest.mark.parametrize("p", [
    np.full(5, 0.2),  # FTCS at r = 0.2 in 2-D
    np.array([0.6, 0.1, 0.1, 0.1, 0.1]),
    np.array([1.0]),
    np.array([1 / 3, 2 / 3]),
    np.random.default_rng(0).random(27),  # a 3x3x3 kernel
    np.random.default_rng(1).random(169) ** 4,  # a 13x13 kernel with small entries
])
def test_two_moves_per_word_draw_the_table_within_k_times_2_to_the_minus_32(p):
    p = p / p.sum()
    law = _alias_pick_law(p)
    assert law.sum() == pytest.approx(1.0, abs=1e-15)
    assert 0.5 * np.abs(law - p).sum() <= len(p) * 2.0**-32


def test_alias_pick_draws_what_the_exact_law_above_counts():
    """The compiled draw is the rule _alias_pick_law counts (column = high word of r32 k, kept when the low
    word is below the threshold), on the edges between columns and on random bits."""
    p = np.array([0.5, 0.3, 0.15, 0.05])
    prob, alias = R.alias_table(p)
    threshold = R.alias_thresholds(prob)
    pick = nb.njit(lambda r: R.alias_pick(np.uint64(r), threshold, alias))
    k = len(p)
    edges = [j * 2**32 // k + d for j in range(k) for d in (-1, 0, 1)]
    for r in [0, 2**32 - 1, *[e for e in edges if 0 <= e < 2**32],
              *np.random.default_rng(2).integers(0, 2**32, 1000).tolist()]:
        j = r * k >> 32
        assert pick(r) == (j if r * k - (j << 32) < int(threshold[j]) else alias[j])


@pytest.mark.parametrize("q", [0.0, 1e-9, 0.2, 1 / 3, 0.5, 0.93, 1.0])
def test_binomial_tables_give_the_binomial_pmf(q):
    """What an alias table draws: column x kept with prob[x], else its alias; each of the n + 1 columns
    taken with 1 / (n + 1). That law equals scipy's Binomial(n, q) pmf to round-off, for every n."""
    prob, alias = R.binomial_tables(np.array([q]), 40)
    for n in range(41):
        p, a = prob[0, n, : n + 1], alias[0, n, : n + 1]
        law = p.copy()
        np.add.at(law, a, 1.0 - p)
        np.testing.assert_allclose(law / (n + 1), st.binom.pmf(np.arange(n + 1), n, q), rtol=1e-12, atol=1e-15)


@nb.njit(cache=True)
def _draw_small(seed, n, prob, alias, m):
    out = np.empty(m, np.int64)
    s = np.uint64(seed)
    for i in range(m):
        s, out[i] = R.binomial_small(s, n, prob, alias)
    return out


@pytest.mark.parametrize("n, q", [(1, 0.3), (9, 0.25), (40, 0.5), (64, 0.07)])
def test_table_draws_fit_the_binomial_pmf(n, q):
    """Pearson chi-square of 100 000 draws, cells of expectation >= 5 (the rest pooled), alpha = 1e-6."""
    prob, alias = R.binomial_tables(np.array([q]), 64)
    m = 100_000
    x = _draw_small(n + 7, n, prob[0], alias[0], m)
    E = st.binom.pmf(np.arange(n + 1), n, q) * m
    O = np.bincount(x, minlength=n + 1)
    keep = E >= 5
    O, E = np.append(O[keep], O[~keep].sum()), np.append(E[keep], E[~keep].sum())
    if E[-1] < 5:
        O, E = np.append(O[:-2], O[-2:].sum()), np.append(E[:-2], E[-2:].sum())
    assert st.chi2.sf(np.sum((O - E) ** 2 / E), len(E) - 1) > ALPHA
