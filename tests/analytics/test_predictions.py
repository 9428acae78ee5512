"""BG/NBD and Gamma-Gamma (analytics.predictions.model) against the published CDNOW estimates, and the
database side (analytics.predictions.summaries, analytics.services.scores) against a hand-computed summary."""

import csv
import json
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from scipy import special

from analytics import selectors
from analytics.models import CustomerScore, PredictionFit
from analytics.predictions import model as predictions, summaries
from analytics.services import scores
from campaigns.rules import customers_matching
from crm import services
from tests.factories import CustomerFactory

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow_customers_summary.csv"

# Fader, Hardie and Lee (2005), "Counting your customers the easy way", section 5 (weeks).
PAPER_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_LL = -9582.4
# Fader, Hardie and Lee (2005), "RFM and CLV: using iso-value curves", and Fader and Hardie's
# note "The Gamma-Gamma model of monetary value" (946 repeat customers of the same sample).
PAPER_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    with CDNOW.open() as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([float(row[key]) for row in rows]) for key in ("x", "t_x", "T", "zbar")}


def relative_error(fitted, published: dict) -> dict:
    return {name: abs(getattr(fitted, name) - value) / value for name, value in published.items()}


def test_it_recovers_the_published_cdnow_bgnbd_estimates(cdnow):
    assert len(cdnow["x"]) == 2357
    fit = predictions.bgnbd_fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    errors = relative_error(fit, PAPER_BGNBD)
    # Measured: r 0.2426, alpha 4.4135, a 0.7929, b 2.4258; every relative error below 0.2%.
    assert max(errors.values()) < 1e-2, (fit, errors)
    assert fit.log_likelihood == pytest.approx(PAPER_LL, abs=0.1)


def test_it_recovers_the_published_cdnow_gamma_gamma_estimates(cdnow):
    fit = predictions.gamma_gamma_fit(cdnow["x"], cdnow["zbar"])
    errors = relative_error(fit, PAPER_GAMMA_GAMMA)
    # Measured: p 6.2488, q 3.7446, v 15.4477.
    assert max(errors.values()) < 1e-2, (fit, errors)
    assert int(((cdnow["x"] > 0)).sum()) == 946


def test_the_conditional_expectation_matches_the_paper(cdnow):
    fit = predictions.BgNbd(**PAPER_BGNBD)
    # The paper's worked example: x = 2, t_x = 30.43, T = 38.86 -> 1.226 purchases in the next 39 weeks.
    expected = predictions.expected_purchases(fit, 39, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert expected[0] == pytest.approx(1.226, abs=1e-3)
    assert predictions.expected_purchases_new_customer(fit, 0) == pytest.approx(0)


def test_eulers_transformation_agrees_with_the_direct_formula(cdnow):
    fit = predictions.bgnbd_fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    x, t_x, T, t = cdnow["x"], cdnow["t_x"], cdnow["T"], 39.0
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    direct = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    direct /= 1 + (x > 0) * a / (b + x - 1 + (x == 0)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    np.testing.assert_allclose(predictions.expected_purchases(fit, t, x, t_x, T), direct, rtol=1e-9)


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_silence():
    fit = predictions.BgNbd(**PAPER_BGNBD)
    alive = predictions.p_alive(fit, np.array([0.0, 3, 3, 3]), np.array([0.0, 10, 10, 10]), np.array([20.0, 10, 20, 40]))
    assert alive[0] == 1.0
    # Bought at T itself: the only doubt left is a drop-out right after that purchase.
    assert alive[1] == pytest.approx(1 / (1 + 0.793 / (2.426 + 2)))
    assert 1 > alive[2] > alive[3] > 0
    # Closed form by hand for x = 3, t_x = 10, T = 20.
    by_hand = 1 / (1 + 0.793 / (2.426 + 2) * ((4.414 + 20) / (4.414 + 10)) ** (0.243 + 3))
    assert alive[2] == pytest.approx(by_hand)


def test_identical_rows_fitted_once_with_a_weight_give_the_same_estimates(cdnow):
    (x, t_x, T), weights, inverse = predictions.compress(cdnow["x"], cdnow["t_x"], cdnow["T"])
    np.testing.assert_array_equal(x[inverse], cdnow["x"])
    np.testing.assert_array_equal(T[inverse], cdnow["T"])
    assert weights.sum() == 2357 and len(x) < 2357
    weighted = predictions.bgnbd_fit(x, t_x, T, weights)
    unweighted = predictions.bgnbd_fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert weighted.as_dict() == unweighted.as_dict()


def test_it_recovers_known_parameters_from_simulated_customers():
    from bench.bench_predict_churn import TRUE_BGNBD, TRUE_GG, simulate

    data = simulate(40_000, seed=11)
    fit = predictions.bgnbd_fit(data["x"], data["t_x"], data["T"])
    for name in ("r", "a", "b", "alpha"):
        assert getattr(fit, name) == pytest.approx(getattr(TRUE_BGNBD, name), rel=0.15), name
    spend = predictions.gamma_gamma_fit(data["x"], data["mean_value"])
    for name in ("p", "q", "v"):
        assert getattr(spend, name) == pytest.approx(getattr(TRUE_GG, name), rel=0.1), name


def test_a_nearly_homogeneous_dropout_does_not_overflow():
    fit = predictions.BgNbd(r=0.9, alpha=90, a=2e5, b=3e6)
    expected = predictions.expected_purchases(fit, 90, np.array([0.0, 1, 30]), np.array([0.0, 5, 300]), np.array([10.0, 50, 400]))
    assert np.all(np.isfinite(expected)) and np.all(expected > 0)


def test_clv_is_expected_spend_times_discounted_expected_purchases(cdnow):
    bg = predictions.BgNbd(**PAPER_BGNBD)
    gg = predictions.GammaGamma(**PAPER_GAMMA_GAMMA)
    x, t_x, T, z = (cdnow[key][:50] for key in ("x", "t_x", "T", "zbar"))
    month = predictions.DAYS_PER_MONTH / 7
    undiscounted = predictions.predictive_clv(bg, gg, x, t_x, T, z, months=3, monthly_discount=0.0, unit_days=7)
    by_hand = predictions.expected_purchases(bg, 3 * month, x, t_x, T) * predictions.expected_average_value(gg, x, z)
    np.testing.assert_allclose(undiscounted, by_hand, rtol=1e-9)
    discounted = predictions.predictive_clv(bg, gg, x, t_x, T, z, months=3, monthly_discount=0.05, unit_days=7)
    assert np.all(discounted <= undiscounted + 1e-12)
    # E[M] shrinks the customer's own mean towards the population mean p v / (q - 1).
    assert predictions.expected_average_value(gg, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(6.25 * 15.44 / 2.74)


def test_too_little_data_is_a_clear_error():
    with pytest.raises(predictions.FitError):
        predictions.bgnbd_fit(np.array([0.0, 0.0]), np.array([0.0, 0.0]), np.array([5.0, 9.0]))
    with pytest.raises(predictions.FitError):
        predictions.gamma_gamma_fit(np.array([1.0]), np.array([10.0]))


# --- the database side ------------------------------------------------------------------------

def at(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


CALIBRATION_END = at(2026, 7, 1)


@pytest.fixture
def history(place_order):
    people = {name: CustomerFactory(first_name=name) for name in "ABCDE"}
    A, B, C, D, E = people.values()
    place_order(A, at=at(2026, 1, 1, 9), total="100")  # first day
    place_order(A, at=at(2026, 1, 1, 18), total="50")  # same day: one purchase day
    place_order(A, at=at(2026, 3, 2, 10), total="30")  # repeat day 1 (60 days later)
    place_order(A, at=at(2026, 5, 1, 10), total="70")  # repeat day 2 (120 days later)
    place_order(A, at=at(2026, 6, 1, 10), total="999", status="cancelled")  # not counted
    place_order(A, at=at(2026, 7, 1, 0), total="500")  # exactly at the calibration end: outside
    place_order(B, at=at(2026, 6, 21, 12), total="40")  # one purchase, 10 days before the end
    refunded = place_order(C, at=at(2026, 2, 1), total="80")
    services.order_refund(order=refunded, amount="80")  # C has nothing counted
    place_order(D, at=at(2026, 4, 1), total="20")
    place_order(D, at=at(2026, 4, 11), total="40")
    return people


@pytest.mark.django_db
def test_the_sql_summary_matches_the_hand_computed_one(history):
    summary = summaries.customer_summaries(CALIBRATION_END)
    rows = {int(cid): (x, t_x, T, mean) for cid, x, t_x, T, mean in
            zip(summary.customer_id, summary.x, summary.t_x, summary.T, summary.mean_value)}
    A, B, D = history["A"], history["B"], history["D"]
    assert set(rows) == {A.pk, B.pk, D.pk}
    assert rows[A.pk] == (2, 120, 181, 50.0)  # (30 + 70) / 2; T: 2026-01-01 -> 2026-07-01
    assert rows[B.pk] == (0, 0, 10, 0.0)
    assert rows[D.pk] == (1, 10, 91, 40.0)


@pytest.mark.django_db
def test_predictions_are_stored_for_every_customer_with_a_counted_order(history, place_order):
    # Enough customers for the fit to be identified: twenty with varied histories.
    for n in range(20):
        extra = CustomerFactory()
        for k in range(n % 5 + 1):
            place_order(extra, at=at(2026, 1 + k, 1 + n), total=str(10 + n + 3 * k))
    result = scores.predictions_refresh(calibration_end=CALIBRATION_END)
    assert result.customers == 23
    assert PredictionFit.objects.get().customers == 23
    stored = CustomerScore.objects.filter(p_alive__isnull=False)
    assert stored.count() == 23
    assert not CustomerScore.objects.filter(customer=history["C"], p_alive__isnull=False).exists()
    b = CustomerScore.objects.get(customer=history["B"])
    assert b.p_alive == 1.0  # no repeat purchase yet: BG/NBD says alive
    assert b.expected_purchases_90d > 0 and b.predicted_clv > 0
    assert isinstance(b.predicted_clv, Decimal)
    for score in stored:
        assert 0 <= score.p_alive <= 1


@pytest.mark.django_db
def test_the_predict_churn_command_prints_the_contract_keys(history, place_order, capsys):
    for n in range(20):
        extra = CustomerFactory()
        for k in range(n % 4 + 1):
            place_order(extra, at=at(2026, 1 + k, 1 + n), total=str(15 + n + 4 * k))
    call_command("predict_churn", "--calibration-end", "2026-07-01", "--json")
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["customers", "bgnbd", "gamma_gamma"]
    assert list(data["bgnbd"]) == ["r", "alpha", "a", "b"] and list(data["gamma_gamma"]) == ["p", "q", "v"]
    assert data["customers"] == 23
    call_command("predict_churn", "--calibration-end", "2026-07-01", "--unit", "weeks", "--json")
    weekly = json.loads(capsys.readouterr().out)
    assert weekly["bgnbd"]["r"] == pytest.approx(data["bgnbd"]["r"], rel=1e-3)
    assert weekly["bgnbd"]["alpha"] == pytest.approx(data["bgnbd"]["alpha"] / 7, rel=1e-3)


@pytest.mark.django_db
@pytest.mark.parametrize("argv, message", [
    (["--calibration-end", "2026-02-30"], "is not a date"),
    (["--calibration-end", "2999-01-01"], "in the future"),
    ([], "Cannot fit the model"),  # no order at all
])
def test_predict_churn_refuses_bad_input_with_exit_status_1(capsys, argv, message):
    from analytics.management.commands.predict_churn import Command

    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "predict_churn", *argv])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("CommandError:") and message in err and "Traceback" not in err


@pytest.mark.django_db
def test_p_alive_is_a_segment_rule_and_likely_churning_a_filter(settings):
    settings.ANALYTICS_LIKELY_CHURN_P_ALIVE = 0.5
    low, high = CustomerFactory(), CustomerFactory()
    CustomerFactory()  # never scored: not "likely churning"
    CustomerScore.objects.create(customer=low, p_alive=0.2)
    CustomerScore.objects.create(customer=high, p_alive=0.9)
    matching = customers_matching({"all": [{"field": "p_alive", "op": "lt", "value": 0.5}]})
    assert list(matching) == [low]
    assert list(selectors.likely_churning()) == [low]
    from campaigns.rules import RuleError, validate

    with pytest.raises(RuleError, match="probability"):
        validate({"all": [{"field": "p_alive", "op": "lt", "value": 2}]})
