"""Confidence intervals for comparing two groups (a campaign's recipients and its holdout).

Pure functions of counts, means and variances: no database, no Django, no SciPy. Every
interval is two-sided at 95% unless told otherwise.

- Wilson score interval for one proportion p = x / n (Wilson, 1927), with z = 1.959963984540054:

      centre = (p + z^2 / 2n) / (1 + z^2 / n)
      half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)

- Newcombe's hybrid score interval for a difference of proportions d = p1 - p2 (Newcombe, 1998,
  "method 10"), from the Wilson intervals (l1, u1) of p1 and (l2, u2) of p2:

      low  = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
      high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

- Welch's interval for a difference of means m1 - m2 with sample variances v1, v2 (n - 1 in the
  denominator) and sizes n1, n2:

      se = sqrt(v1 / n1 + v2 / n2)
      df = se^4 / ((v1 / n1)^2 / (n1 - 1) + (v2 / n2)^2 / (n2 - 1))      (Welch-Satterthwaite)
      m1 - m2 +/- t(0.975, df) * se

  with Student's t quantile computed exactly: the t distribution function from the regularized
  incomplete beta function, F(t) = 1 - I_{df / (df + t^2)}(df / 2, 1 / 2) / 2 for t >= 0, inverted
  by bisection.
"""

import math

Z_975 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson_interval(successes: int, trials: int, z: float = Z_975) -> tuple[float, float] | None:
    """The Wilson score interval of successes / trials; None when there are no trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(successes1: int, trials1: int, successes2: int, trials2: int,
                      z: float = Z_975) -> tuple[float, float, float] | None:
    """(d, low, high) for d = p1 - p2 by Newcombe's hybrid score method; None when a group is empty."""
    first, second = wilson_interval(successes1, trials1, z), wilson_interval(successes2, trials2, z)
    if first is None or second is None:
        return None
    p1, p2 = successes1 / trials1, successes2 / trials2
    (l1, u1), (l2, u2) = first, second
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def welch_interval(mean1: float, variance1: float, n1: int, mean2: float, variance2: float, n2: int,
                   confidence: float = 0.95) -> tuple[float, float, float] | None:
    """(d, low, high) for d = mean1 - mean2 by Welch's method; None when a group has fewer than two
    values (its variance is unknown). When both variances are zero the interval is the point d."""
    if n1 < 2 or n2 < 2:
        return None
    d = mean1 - mean2
    a, b = max(variance1, 0.0) / n1, max(variance2, 0.0) / n2
    se = math.sqrt(a + b)
    if se == 0:
        return d, d, d
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    half = t_quantile(0.5 + confidence / 2, df) * se
    return d, d - half, d + half


def sample_variance(total: float, total_of_squares: float, n: int) -> float | None:
    """The sample variance (n - 1) from the sum and the sum of squares; None below two values."""
    if n < 2:
        return None
    return max(0.0, (total_of_squares - total * total / n) / (n - 1))


# --- Student's t ------------------------------------------------------------------------------


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df > 0 degrees of freedom."""
    if df <= 0:
        raise ValueError("df must be positive")
    tail = 0.5 * regularized_incomplete_beta(df / (df + t * t), df / 2, 0.5)
    return 1 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, by bisection on t_cdf (to about 1e-12)."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2
        if high > 1e12:
            return math.inf
    for _step in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), by Lentz's continued fraction (Numerical Recipes' betacf), using the symmetry
    I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges faster."""
    if not 0 <= x <= 1:
        raise ValueError("x must be in [0, 1]")
    if x in (0, 1):
        return float(x)
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1 - math.exp(log_front) * _beta_fraction(1 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    tiny, epsilon = 1e-300, 1e-15
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                          -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1) < epsilon:
            break
    return result
