"""Statistics helpers: known values and their behaviour on exact and biased samples."""

import numpy as np
import pytest
from scipy import stats as st

from physconv import stats


def test_zscores_use_the_binomial_variance():
    z = stats.zscores([60, 40], [50, 50], 100)
    np.testing.assert_allclose(z, [10 / 5, -10 / 5])


def test_zscores_flag_particles_where_none_can_be():
    assert stats.zscores([1], [0], 10)[0] == np.inf
    assert stats.zscores([0], [0], 10)[0] == 0


def test_bonferroni_bound_for_one_cell_is_the_two_sided_normal_quantile():
    assert stats.bonferroni_z(1, 0.05) == pytest.approx(1.959964, abs=1e-6)
    assert stats.bonferroni_z(1000, 1e-6) > stats.bonferroni_z(10, 1e-6)


def test_chi_square_counts_the_removed_particles_as_a_category():
    res = stats.chi_square([30, 30], [25, 25], 100)  # 40 removed where 50 were expected
    assert res.dof == 2
    assert res.statistic == pytest.approx(25 / 25 + 25 / 25 + 100 / 50)


def test_chi_square_pools_cells_expecting_few_particles():
    res = stats.chi_square([50, 48, 1, 1], [50, 48, 1, 1], 100)
    assert res.dof == 2 and res.statistic == 0


def test_chi_square_is_uniform_on_multinomial_samples():
    """p-values of 400 exact multinomial samples are uniform: KS test, alpha = 1e-6."""
    rng = np.random.default_rng(0)
    p = rng.random(30)
    p /= p.sum()
    ps = [stats.chi_square(rng.multinomial(10_000, p), 10_000 * p, 10_000).p_value for _ in range(400)]
    assert st.kstest(ps, "uniform").pvalue > 1e-6


def test_check_passes_exact_samples_and_fails_biased_ones():
    rng = np.random.default_rng(1)
    p = rng.random(100)
    p /= p.sum()
    n = 10**6
    assert stats.check(rng.multinomial(n, p), n * p, n).passed
    q = p.copy()
    q[:10] *= 1.05
    q /= q.sum()
    assert not stats.check(rng.multinomial(n, q), n * p, n).passed


def test_two_sample_needs_equal_totals():
    with pytest.raises(ValueError, match="same total"):
        stats.two_sample([1, 2], [1, 1])


def test_expected_relative_l2_matches_the_average_of_many_samples():
    rng = np.random.default_rng(2)
    p = rng.random(50)
    p /= p.sum()
    n = 10_000
    errs = [stats.relative_l2(rng.multinomial(n, p), n * p) for _ in range(500)]
    assert np.sqrt(np.mean(np.square(errs))) == pytest.approx(stats.expected_relative_l2(n * p, n), rel=0.05)


def test_cell_pvalues_are_exact_in_the_tails():
    """One particle where 0.0015 are expected: p = 2 P(X >= 1), not the normal z of 26."""
    p = stats.cell_pvalues([1], [0.0015], 200_000)[0]
    assert p == pytest.approx(-2 * np.expm1(200_000 * np.log1p(-0.0015 / 200_000)), rel=1e-9)
    assert stats.equivalent_z([p])[0] < 3.0
    assert stats.zscores([1], [0.0015], 200_000)[0] > 25


def test_cell_pvalues_agree_with_the_normal_approximation_for_large_counts():
    z = stats.equivalent_z(stats.cell_pvalues([10_300], [10_000], 10**7))[0]
    assert z == pytest.approx(300 / np.sqrt(10_000 * (1 - 1e-3)), rel=0.02)


def test_an_undefined_chi_square_leaves_the_decision_to_the_exact_test():
    """6 particles on 4096 cells: pooling leaves no degree of freedom (p = NaN); no false alarm from it,
    while a real bias is still caught by the exact per-cell test."""
    n, cells = 6, 4096
    expected = np.full(cells, n / cells)
    counts = np.zeros(cells)
    counts[np.random.default_rng(0).choice(cells, n, replace=False)] = 1
    good = stats.check(counts, expected, n)
    assert np.isnan(good.p_value) and good.passed
    biased = counts.copy()
    biased[:] = 0
    biased[0] = n  # every particle in one cell
    assert not stats.check(biased, expected, n).passed


def test_cell_pvalues_are_the_two_sided_binomial_test_of_scipy_stats():
    """Against scipy.stats.binom, edges included (no particle, all particles, p = 0 and 1)."""
    from scipy import stats as st

    rng = np.random.default_rng(12)
    n = 5000
    counts = np.concatenate([rng.integers(0, n + 1, 300), [0, n, 0, n, 3]]).astype(float)
    expected = np.concatenate([rng.random(300) * n, [0.0, n, n, 0.0, 2.5]])
    p = expected / n
    reference = np.minimum(1.0, 2.0 * np.minimum(st.binom.cdf(counts, n, p), st.binom.sf(counts - 1, n, p)))
    np.testing.assert_allclose(stats.cell_pvalues(counts, expected, n), reference, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(stats.equivalent_z([1e-12, 0.05, 1.0]), st.norm.isf(np.array([1e-12, 0.05, 1.0]) / 2))
    assert stats.chi_square([30, 70], [50, 50], 100).p_value == pytest.approx(st.chi2.sf(16.0, 1), rel=1e-12)
    assert np.isnan(stats.two_sample([3, 0], [3, 0]).p_value)  # one cell: no degree of freedom, no verdict


@pytest.mark.parametrize("per_cell", [0.3, 1.0, 2.5])
def test_sparse_counts_keep_a_chi_square_that_is_uniform_under_the_null(per_cell):
    """About a particle per cell: the small cells are pooled into neighbouring groups that each expect at
    least 5, the test keeps many degrees of freedom, and its p-values are uniform on exact samples
    (Kolmogorov-Smirnov, false-alarm rate 1e-4 for each case)."""
    rng = np.random.default_rng(11)
    cells = 3000
    p = rng.random(cells) ** 2
    p /= p.sum()
    n = int(per_cell * cells)
    results = [stats.chi_square(rng.multinomial(n, p), n * p, n) for _ in range(300)]
    assert min(r.dof for r in results) >= n / 10 - 2
    assert st.kstest([r.p_value for r in results], "uniform").pvalue > 1e-4


@pytest.mark.parametrize("expected_total", [5.0, 9.99, 10.0, 37.3, 1000.0])
def test_every_pooled_group_expects_at_least_five(expected_total):
    """Counts equal to the expectation give X^2 = 0; moving one particle from the last small cell to the
    first changes X^2 by at most 2 / 5 when every group expects at least 5."""
    rng = np.random.default_rng(int(expected_total))
    e = rng.random(400)
    e *= expected_total / e.sum()
    e = np.minimum(e, 4.999)
    total = float(e.sum())
    base = stats.chi_square(e, e, total)
    assert base.statistic == pytest.approx(0.0, abs=1e-12)
    assert total // 10 - 2 <= base.dof <= total // 5 - 1
    moved = e.copy()
    moved[0] += 1.0
    moved[-1] -= 1.0
    assert stats.chi_square(moved, e, total).statistic <= 2 / 5 + 1e-12
