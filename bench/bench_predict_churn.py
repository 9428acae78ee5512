"""Fit and score BG/NBD + Gamma-Gamma on synthetic customers drawn from known parameters.

    .venv/bin/python bench/bench_predict_churn.py [--customers 1000000] [--seed 7]

Prints the time to compress, fit and score, and each parameter's relative error. The data
are drawn from the models themselves (per customer: lambda ~ Gamma(r, alpha), p ~ Beta(a, b),
a geometric number of repeat purchases before dropping out, Poisson purchases over an age T
of whole days), then rounded to whole days as the SQL summary in analytics.predictions.summaries produces them.
No database: this measures analytics.predictions.model alone.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from analytics.predictions import model as predictions  # noqa: E402

TRUE_BGNBD = predictions.BgNbd(r=0.75, alpha=30.0, a=0.8, b=2.5)  # days: about one purchase every 40 days
TRUE_GG = predictions.GammaGamma(p=6.0, q=3.8, v=15.0)


def simulate(customers: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    bg = TRUE_BGNBD
    lam = rng.gamma(bg.r, 1 / bg.alpha, customers)
    p = rng.beta(bg.a, bg.b, customers)
    T = rng.integers(1, 731, customers).astype(float)  # customers first bought up to two years ago
    n = rng.poisson(lam * T)  # purchases in (0, T] had they stayed alive
    drop_after = rng.geometric(p)  # they drop out right after this repeat purchase
    x = np.minimum(n, drop_after)
    # Given n arrivals on (0, T], the k-th is T times a Beta(k, n - k + 1) draw.
    k = np.maximum(x, 1)
    t_x = np.where(x > 0, T * rng.beta(k, np.maximum(n - k + 1, 1)), 0.0)
    t_x = np.where(x > 0, np.minimum(np.ceil(t_x), T), 0.0)  # whole days, as the SQL summary gives
    # Distinct days: a customer cannot buy twice on one day in the summary.
    x = np.where(x > t_x, t_x, x)
    gg = TRUE_GG
    nu = rng.gamma(gg.q, 1 / gg.v, customers)
    mean_value = np.where(x > 0, rng.gamma(gg.p * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1))), 0.0)
    return {"x": x, "t_x": t_x, "T": T, "mean_value": mean_value}


def relative_errors(fitted, true, names) -> dict[str, float]:
    return {name: abs(getattr(fitted, name) - getattr(true, name)) / getattr(true, name) for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    started = time.perf_counter()
    data = simulate(options.customers, options.seed)
    simulated = time.perf_counter()
    (ux, utx, uT), weights, inverse = predictions.compress(data["x"], data["t_x"], data["T"])
    compressed = time.perf_counter()
    bg = predictions.bgnbd_fit(ux, utx, uT, weights)
    fitted_bg = time.perf_counter()
    gg = predictions.gamma_gamma_fit(data["x"], data["mean_value"])
    fitted_gg = time.perf_counter()
    alive = predictions.p_alive(bg, ux, utx, uT)[inverse]
    expected = predictions.expected_purchases(bg, 90, ux, utx, uT)[inverse]
    clv = predictions.predictive_clv(bg, gg, data["x"], data["t_x"], data["T"], data["mean_value"], months=12,
                                     monthly_discount=0.01, unit_days=1)
    scored = time.perf_counter()

    print(f"customers: {options.customers:,}  distinct (x, t_x, T) rows: {len(ux):,}")
    print(f"simulate:      {simulated - started:7.2f} s (not part of the pipeline)")
    print(f"compress:      {compressed - simulated:7.2f} s")
    print(f"fit BG/NBD:    {fitted_bg - compressed:7.2f} s  {bg.as_dict()}  true {TRUE_BGNBD.as_dict()}")
    print(f"fit Gamma-Gamma:{fitted_gg - fitted_bg:6.2f} s  {gg.as_dict()}  true {TRUE_GG.as_dict()}")
    print(f"score (P(alive), E[90 days], 12-month CLV): {scored - fitted_gg:6.2f} s")
    print(f"total compress + fit + score: {scored - simulated:.2f} s")
    errors = {**relative_errors(bg, TRUE_BGNBD, "r alpha a b".split()), **relative_errors(gg, TRUE_GG, "p q v".split())}
    print("relative parameter error: " + ", ".join(f"{name} {error:.2%}" for name, error in errors.items()))
    print(f"mean P(alive) {alive.mean():.3f}, mean expected purchases in 90 days {expected.mean():.3f}, "
          f"mean CLV {np.nanmean(clv):.2f}")


if __name__ == "__main__":
    main()
