"""Predicted churn and customer lifetime value: the BG/NBD and Gamma-Gamma models.

Pure numpy/scipy, no Django: `analytics.predictions.summaries` reads the per-customer summaries out of the
database in SQL and `analytics.services.scores` stores what this module predicts.

BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"). While alive,
a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after every
purchase they drop out with probability p ~ Beta(a, b). For a customer with `x` repeat
purchases, the last at `t_x`, observed for `T` (both from their first purchase):

    L(r, alpha, a, b | x, t_x, T) = B(a, b + x) / B(a, b) * G(r + x) alpha^r / (G(r) (alpha + T)^(r + x))
                                  + [x > 0] B(a + 1, b + x - 1) / B(a, b) * G(r + x) alpha^r / (G(r) (alpha + t_x)^(r + x))

(paper, equation 6). The log-likelihood is evaluated in closed form with gammaln and
logaddexp (no hypergeometric function) and maximised with L-BFGS-B over the logs of the
four parameters, with its analytic gradient. Customers with the same (x, t_x, T) are one
row with a weight, so a million customers measured in days fit in about a second.

    P(alive | x, t_x, T) = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))
    E[Y(t) | x, t_x, T]  = (a + b + x - 1) / (a - 1)
                           * (1 - ((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1; z))
                           * P(alive),   z = t / (alpha + T + t)          (paper, equation 10)

The hypergeometric term is computed through Euler's transformation,
(1 - z)^(r + x) 2F1(r + x, b + x; c; z) = (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; c; z) with
c = a + b + x - 1, whose first two parameters do not grow with x (stable for heavy buyers).

Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV: using iso-value curves", and Fader
and Hardie's note "The Gamma-Gamma model of monetary value"): the value of each repeat
purchase is Gamma(p, nu) around the customer's mean, nu ~ Gamma(q, v). For the customers
with x > 0 repeat purchases of mean value z̄:

    L(p, q, v | x, z̄) = G(p x + q) / (G(p x) G(q)) v^q x^(p x) z̄^(p x - 1) / (v + x z̄)^(p x + q)
    E[M | x, z̄] = (q - 1) / (p x + q - 1) * p v / (q - 1) + p x / (p x + q - 1) * z̄ = p (v + x z̄) / (p x + q - 1)

Predictive CLV over a horizon of H months with a monthly discount rate d:

    CLV = E[M] * sum_{i=1..H} (E[Y(i m)] - E[Y((i - 1) m)]) / (1 + d)^i,   m = the length of a month in the unit
"""

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, special

DAYS_PER_MONTH = 365.25 / 12
# Above this a + b, the dropout probability is treated as known (see _expected_if_alive_point_p).
DEGENERATE_BETA = 1e4


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float | None = None

    def as_dict(self, digits: int = 4) -> dict:
        return {key: round(float(value), digits) for key, value in asdict(self).items() if key != "log_likelihood"}


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float
    log_likelihood: float | None = None

    def as_dict(self, digits: int = 4) -> dict:
        return {key: round(float(value), digits) for key, value in asdict(self).items() if key != "log_likelihood"}

    @property
    def population_mean(self) -> float:
        """E[value of a purchase] over the population: p v / (q - 1), finite when q > 1."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("nan")


class FitError(ValueError):
    """The data cannot identify the model (too few customers, no repeat purchase...)."""


# --- data preparation -----------------------------------------------------------------------

def compress(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Identical rows as one row with a weight: (unique columns, weights, inverse index), so
    that `unique[i][inverse]` gives the original column back."""
    arrays = [np.asarray(column, dtype=float).ravel() for column in columns]
    if not arrays[0].size:
        return tuple(np.empty(0) for _ in arrays), np.empty(0), np.empty(0, dtype=np.intp)
    order = np.lexsort(arrays[::-1])
    sorted_columns = [array[order] for array in arrays]
    changed = np.zeros(order.size, dtype=bool)
    changed[0] = True
    for column in sorted_columns:
        changed[1:] |= column[1:] != column[:-1]
    group = np.cumsum(changed) - 1
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = group
    firsts = np.flatnonzero(changed)
    weights = np.diff(np.append(firsts, order.size)).astype(float)
    return tuple(column[firsts] for column in sorted_columns), weights, inverse


def _checked_summary(x, t_x, T):
    x, t_x, T = (np.asarray(value, dtype=float) for value in (x, t_x, T))
    if not (x.shape == t_x.shape == T.shape):
        raise ValueError("x, t_x and T must have the same length.")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T) or np.any((x > 0) & (t_x <= 0)):
        raise ValueError("Need 0 <= t_x <= T, and t_x > 0 when x > 0.")
    return x, t_x, T


class _ByValue:
    """A column with few distinct values (x: a few hundred at most): special functions are
    evaluated once per distinct value and gathered, not once per row."""

    def __init__(self, column: np.ndarray):
        self.values, self.index = np.unique(column, return_inverse=True)


# --- BG/NBD ---------------------------------------------------------------------------------
# With L = log(a / (b + x - 1)) + (r + x) log((alpha + T) / (alpha + t_x)) (for x > 0; -inf otherwise),
# the log of equation 6 is
#   lnG(r + x) - lnG(r) + r ln(alpha) + lnG(a + b) - lnG(b) + lnG(b + x) - lnG(a + b + x)
#   - (r + x) ln(alpha + T) + log(1 + e^L),
# and P(alive) = 1 / (1 + e^L).

def bgnbd_log_likelihood(params: BgNbd, x, t_x, T) -> np.ndarray:
    """The log-likelihood of each customer (equation 6 of the paper, in logs)."""
    x, t_x, T = _checked_summary(x, t_x, T)
    theta = np.array([params.r, params.alpha, params.a, params.b])
    value, _ = _bgnbd_terms(theta, x, t_x, T, _ByValue(x), gradient=False)
    return value


def _bgnbd_terms(theta: np.ndarray, x, t_x, T, by_x: _ByValue, *, gradient: bool):
    r, alpha, a, b = theta
    xs = by_x.values
    gammaln, digamma = special.gammaln, special.digamma
    repeat = x > 0
    log_alpha_T, log_alpha_tx = np.log(alpha + T), np.log(alpha + t_x)
    safe_bx1 = np.where(repeat, b + x - 1, 1.0)
    log_odds = np.where(repeat, np.log(a) - np.log(safe_bx1) + (r + x) * (log_alpha_T - log_alpha_tx), -np.inf)
    per_x = (gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) - gammaln(b)
             + gammaln(b + xs) - gammaln(a + b + xs))[by_x.index]
    value = per_x - (r + x) * log_alpha_T + np.logaddexp(0.0, log_odds)
    if not gradient:
        return value, None
    dead = special.expit(log_odds)  # weight of the "dropped out after t_x" term
    psi_abx = digamma(a + b + xs)
    d_r = (digamma(r + xs) - digamma(r) + np.log(alpha))[by_x.index] - log_alpha_T + dead * (log_alpha_T - log_alpha_tx)
    d_alpha = r / alpha - (r + x) / (alpha + T) + dead * (r + x) * (1 / (alpha + T) - 1 / (alpha + t_x))
    d_a = (digamma(a + b) - psi_abx)[by_x.index] + dead / a
    d_b = (digamma(a + b) - digamma(b) + digamma(b + xs) - psi_abx)[by_x.index] - dead / safe_bx1
    return value, (d_r, d_alpha, d_a, d_b)


def bgnbd_fit(x, t_x, T, weights=None, *, initial: BgNbd | None = None) -> BgNbd:
    """Maximum likelihood estimates of (r, alpha, a, b).

    `weights` counts how many customers share each row (see `compress`); without weights
    the rows are compressed here."""
    x, t_x, T = _checked_summary(x, t_x, T)
    if weights is None:
        (x, t_x, T), weights, _ = compress(x, t_x, T)
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    if total < 2 or not np.any(x > 0) or not np.any(T > 0):
        raise FitError("BG/NBD needs customers with repeat purchases and some history to fit.")
    start = initial or BgNbd(r=1.0, alpha=max(float(np.average(T, weights=weights)), 1e-3), a=1.0, b=1.0)
    by_x = _ByValue(x)

    def objective(log_theta: np.ndarray):
        theta = np.exp(log_theta)
        value, parts = _bgnbd_terms(theta, x, t_x, T, by_x, gradient=True)
        # Mean negative log-likelihood (scale-free for the optimiser); chain rule through the logs.
        loss = -np.dot(weights, value) / total
        grad = np.array([-np.dot(weights, part) / total for part in parts]) * theta
        return loss, grad

    log_theta = _minimise(objective, np.log([start.r, start.alpha, start.a, start.b]))
    r, alpha, a, b = (float(value) for value in np.exp(log_theta))
    value, _ = _bgnbd_terms(np.array([r, alpha, a, b]), x, t_x, T, by_x, gradient=False)
    return BgNbd(r=r, alpha=alpha, a=a, b=b, log_likelihood=float(np.dot(weights, value)))


def p_alive(params: BgNbd, x, t_x, T) -> np.ndarray:
    x, t_x, T = (np.asarray(value, dtype=float) for value in (x, t_x, T))
    return special.expit(-_log_odds_dead(params, x, t_x, T))


def _log_odds_dead(params: BgNbd, x, t_x, T) -> np.ndarray:
    """log of [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x); -inf when x = 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    safe_bx1 = np.where(repeat, b + x - 1, 1.0)
    log_odds = np.log(a) - np.log(safe_bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, log_odds, -np.inf)


def expected_purchases(params: BgNbd, t: float, x, t_x, T) -> np.ndarray:
    """E[number of purchases in (T, T + t] | x, t_x, T] (equation 10 of the paper)."""
    x, t_x, T = (np.asarray(value, dtype=float) for value in (x, t_x, T))
    (ux, uT), _, inverse = compress(x, T)
    return _expected_if_alive(params, t, ux, uT)[inverse] * p_alive(params, x, t_x, T)


def _expected_if_alive(params: BgNbd, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Equation 10 without its P(alive) factor: it depends on (x, T) only, so it is computed
    once per distinct pair (the hypergeometric function is the costly part)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1) < 1e-9:
        a = 1 + 1e-9  # the formula has a removable singularity at a = 1
    c = a + b + x - 1
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        # (1 - z)^(r + x) 2F1(r + x, b + x; c; z) through Euler's transformation (see the module docstring).
        tail = np.power(1 - z, a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, c, z)
        expected = c / (a - 1) * (1 - tail)
    if a + b > DEGENERATE_BETA:
        return _expected_if_alive_point_p(params, t, x, T)
    bad = ~np.isfinite(expected)
    if np.any(bad):
        expected[bad] = _expected_if_alive_point_p(params, t, x[bad], T[bad])
    return expected


def _expected_if_alive_point_p(params: BgNbd, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """When a + b is very large the Beta(a, b + x) posterior of p is a spike (sd below 1%) and
    2F1 overflows: use E[Y(t) | alive] = E_p[(1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p]
    with p at its posterior mean a / (a + b + x)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    p = a / (a + b + x)
    return -np.expm1((r + x) * (np.log(alpha + T) - np.log(alpha + T + p * t))) / p


def expected_purchases_new_customer(params: BgNbd, t) -> np.ndarray:
    """E[X(t)] for a customer just acquired (equation 9), used in tests and sanity checks."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=float)
    hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - np.power(alpha / (alpha + t), r) * hyp)


# --- Gamma-Gamma ----------------------------------------------------------------------------

def gamma_gamma_log_likelihood(params: GammaGamma, x, mean_value) -> np.ndarray:
    x, mean_value = np.asarray(x, dtype=float), np.asarray(mean_value, dtype=float)
    theta = np.array([params.p, params.q, params.v])
    value, _ = _gamma_gamma_terms(theta, x, mean_value, np.log(mean_value), _ByValue(x), gradient=False)
    return value


def _gamma_gamma_terms(theta: np.ndarray, x, z, log_z, by_x: _ByValue, *, gradient: bool):
    p, q, v = theta
    xs = by_x.values
    pxs = p * xs
    log_xz_v = np.log(x * z + v)
    per_x = (special.gammaln(pxs + q) - special.gammaln(pxs) - special.gammaln(q) + q * np.log(v)
             + pxs * np.log(xs))[by_x.index]
    px = p * x
    value = per_x + (px - 1) * log_z - (px + q) * log_xz_v
    if not gradient:
        return value, None
    psi_pxq = special.digamma(pxs + q)
    d_p = (xs * (psi_pxq - special.digamma(pxs) + np.log(xs)))[by_x.index] + x * (log_z - log_xz_v)
    d_q = (psi_pxq - special.digamma(q) + np.log(v))[by_x.index] - log_xz_v
    d_v = q / v - (px + q) / (x * z + v)
    return value, (d_p, d_q, d_v)


def gamma_gamma_fit(x, mean_value, weights=None) -> GammaGamma:
    """Fit on the customers with repeat purchases (x > 0) and a positive mean value."""
    x, z = np.asarray(x, dtype=float), np.asarray(mean_value, dtype=float)
    usable = (x > 0) & (z > 0) & np.isfinite(z)
    x, z = x[usable], z[usable]
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)[usable]
    if weights.sum() < 2 or np.ptp(z) == 0:
        raise FitError("Gamma-Gamma needs at least two repeat customers with different spend.")
    total = weights.sum()
    log_z, by_x = np.log(z), _ByValue(x)
    mean = np.average(z, weights=weights)
    var = np.average((z - mean) ** 2, weights=weights)
    # Method-of-moments start: q around 3, p from the coefficient of variation.
    start = np.log([max(mean ** 2 / max(var, 1e-9), 0.1), 3.0, mean])

    def objective(log_theta: np.ndarray):
        theta = np.exp(log_theta)
        value, parts = _gamma_gamma_terms(theta, x, z, log_z, by_x, gradient=True)
        loss = -np.dot(weights, value) / total
        grad = np.array([-np.dot(weights, part) / total for part in parts]) * theta
        return loss, grad

    p, q, v = (float(value) for value in np.exp(_minimise(objective, start)))
    value, _ = _gamma_gamma_terms(np.array([p, q, v]), x, z, log_z, by_x, gradient=False)
    return GammaGamma(p=p, q=q, v=v, log_likelihood=float(np.dot(weights, value)))


def expected_average_value(params: GammaGamma, x, mean_value) -> np.ndarray:
    """E[M | x, z̄]: a weighted average of the population mean and the customer's own mean;
    customers without repeat purchases get the population mean."""
    x = np.asarray(x, dtype=float)
    z = np.where(x > 0, np.nan_to_num(np.asarray(mean_value, dtype=float)), 0.0)
    p, q, v = params.p, params.q, params.v
    if q <= 1:
        return np.full_like(x, np.nan)
    return p * (v + x * z) / (p * x + q - 1)


# --- CLV ------------------------------------------------------------------------------------

def predictive_clv(bgnbd: BgNbd, gamma_gamma: GammaGamma, x, t_x, T, mean_value, *, months: int = 12,
                   monthly_discount: float = 0.01, unit_days: float = 1.0) -> np.ndarray:
    """Discounted expected value of the next `months` months: E[M] times the expected purchases
    of each month, discounted at the end of the month."""
    x, t_x, T = (np.asarray(value, dtype=float) for value in (x, t_x, T))
    month = DAYS_PER_MONTH / unit_days
    (ux, uT), _, inverse = compress(x, T)
    previous = np.zeros_like(ux)
    discounted = np.zeros_like(ux)
    for i in range(1, months + 1):
        cumulative = _expected_if_alive(bgnbd, i * month, ux, uT)
        discounted += (cumulative - previous) / (1 + monthly_discount) ** i
        previous = cumulative
    alive = p_alive(bgnbd, x, t_x, T)
    return discounted[inverse] * alive * expected_average_value(gamma_gamma, x, mean_value)


# --- optimiser ------------------------------------------------------------------------------

def _minimise(objective, start: np.ndarray) -> np.ndarray:
    result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B",
                               bounds=[(-15.0, 15.0)] * len(start),
                               options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-8})
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise FitError(f"The fit did not converge: {result.message}")
    return result.x
