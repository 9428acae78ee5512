"""core.stats against published reference values and hand computations."""

import math

import pytest

from core import stats


@pytest.mark.parametrize("df, expected", [
    # Student's t 97.5% quantiles, as printed in every table (and by scipy.stats.t.ppf).
    (1, 12.706204736), (2, 4.302652730), (3, 3.182446305), (5, 2.570581836), (10, 2.228138852),
    (30, 2.042272456), (100, 1.983971519), (1000, 1.962339081),
])
def test_it_gives_the_t_quantiles_of_the_tables(df, expected):
    assert stats.t_quantile(0.975, df) == pytest.approx(expected, abs=1e-8)


def test_the_t_quantile_tends_to_the_normal_one_and_inverts_the_distribution_function():
    assert stats.t_quantile(0.975, 1e9) == pytest.approx(stats.Z_975, abs=1e-6)
    assert stats.t_quantile(0.025, 7) == pytest.approx(-stats.t_quantile(0.975, 7))
    t = stats.t_quantile(0.975, 3.4637)  # a Welch df is rarely whole
    assert stats.t_cdf(t, 3.4637) == pytest.approx(0.975, abs=1e-12)
    assert stats.t_quantile(0.975, 3) > t > stats.t_quantile(0.975, 4)
    assert stats.t_quantile(0.95, 10) == pytest.approx(1.812461123, abs=1e-8)


def test_the_incomplete_beta_function_matches_closed_forms():
    # I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b
    assert stats.regularized_incomplete_beta(0.3, 1, 1) == pytest.approx(0.3)
    assert stats.regularized_incomplete_beta(0.3, 2.5, 1) == pytest.approx(0.3 ** 2.5)
    assert stats.regularized_incomplete_beta(0.3, 1, 4) == pytest.approx(1 - 0.7 ** 4)


def test_the_wilson_interval_is_the_hand_computation():
    # 2 of 4, z^2 = 3.841459: centre (0.5 + 3.841459/8) / (1 + 3.841459/4) = 0.5,
    # half = 1.959964 / 1.960365 * sqrt(0.25/4 + 3.841459/64) = 0.349961.
    low, high = stats.wilson_interval(2, 4)
    assert (low, high) == (pytest.approx(0.150039, abs=1e-6), pytest.approx(0.849961, abs=1e-6))
    # 0 of 10: [0, z^2 / (n + z^2)] = [0, 3.841459 / 13.841459]
    assert stats.wilson_interval(0, 10) == (0.0, pytest.approx(0.277533, abs=1e-6))
    assert stats.wilson_interval(0, 0) is None


@pytest.mark.parametrize("counts, expected", [
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10.
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
])
def test_the_newcombe_interval_matches_the_paper(counts, expected):
    _d, low, high = stats.newcombe_interval(*counts)
    assert (round(low, 4), round(high, 4)) == expected


def test_the_newcombe_interval_is_none_for_an_empty_group():
    assert stats.newcombe_interval(1, 10, 0, 0) is None
    assert stats.newcombe_interval(0, 0, 1, 10) is None


def test_the_welch_interval_is_the_hand_computation():
    # means 52.5 and 10, variances 5025 (n=4) and 300 (n=3):
    # se = sqrt(5025/4 + 300/3) = sqrt(1356.25); df = 1356.25^2 / (1256.25^2/3 + 100^2/2) = 3.46370
    d, low, high = stats.welch_interval(52.5, 5025, 4, 10, 300, 3)
    se, df = math.sqrt(1356.25), 1356.25 ** 2 / (1256.25 ** 2 / 3 + 100 ** 2 / 2)
    assert df == pytest.approx(3.46370, abs=1e-5)
    half = stats.t_quantile(0.975, df) * se
    assert (d, low, high) == (42.5, pytest.approx(42.5 - half), pytest.approx(42.5 + half))
    # equal sizes and variances: df = 2(n - 1) = 18, t = 2.100922
    d, low, high = stats.welch_interval(5, 4, 10, 3, 4, 10)
    assert (low, high) == (pytest.approx(2 - 2.100922 * math.sqrt(0.8), abs=1e-6),
                           pytest.approx(2 + 2.100922 * math.sqrt(0.8), abs=1e-6))


def test_the_welch_interval_needs_two_values_per_group_and_is_a_point_without_spread():
    assert stats.welch_interval(1, 0, 1, 0, 0, 5) is None
    assert stats.welch_interval(0, 0, 5, 0, 0, 5) == (0, 0, 0)


def test_the_sample_variance_comes_from_sums():
    assert stats.sample_variance(210, 26100, 4) == pytest.approx(5025)
    assert stats.sample_variance(5, 25, 1) is None
