from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from crm import services as crm_services
from crm.models import Interaction
from feedback import selectors, services
from feedback.models import Answer, Invitation, Response, Survey
from tests.factories import CustomerFactory
from tests.feedback.helpers import answer_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def invite(survey, customer):
    return services.invitation_create(survey=survey, customer=customer)


class TestInvitations:
    def test_it_stores_only_the_hash_of_the_token(self, invite):
        assert invite.token not in invite.invitation.token_hash
        assert len(invite.token) >= 40
        assert services.invitation_for_token(invite.token) == invite.invitation

    def test_it_invites_a_customer_once_per_cooldown(self, survey, customer):
        assert services.invitation_create(survey=survey, customer=customer) is not None
        assert services.invitation_create(survey=survey, customer=customer) is None
        later = timezone.now() + timedelta(days=survey.cooldown_days + 1)
        assert services.invitation_create(survey=survey, customer=customer, now=later) is not None

    def test_the_daily_job_invites_after_fulfilment_once(self, survey, customer, place_order):
        survey.trigger, survey.trigger_delay_days = Survey.Trigger.ORDER_FULFILLED, 3
        survey.save()
        today = timezone.localdate()
        order = place_order(customer, days_ago=3)  # fulfilled when placed
        place_order(CustomerFactory(), days_ago=2)  # too recent
        assert services.invitations_for_fulfilled_orders(run_date=today) == 1
        assert services.invitations_for_fulfilled_orders(run_date=today) == 0  # a rerun invites nobody twice
        assert Invitation.objects.get().order == order

    def test_resolving_an_interaction_invites_to_the_support_survey(self, survey, customer, support_user):
        survey.trigger = Survey.Trigger.INTERACTION_RESOLVED
        survey.save()
        interaction = crm_services.interaction_log(customer=customer, subject="Late parcel", status="open")
        assert not Invitation.objects.exists()
        crm_services.interaction_resolve(interaction=interaction, by=support_user)
        assert Invitation.objects.get().interaction == interaction


class TestPublicPage:
    def test_it_shows_the_survey_in_the_customers_language_right_to_left(self, client, invite, customer):
        customer.language = "fa"
        customer.save()
        page = client.get(reverse("feedback:invitation", args=[invite.token]))
        html = page.content.decode()
        assert page.status_code == 200
        assert 'dir="rtl"' in html and 'lang="fa"' in html
        assert "چقدر احتمال دارد ما را به دوستان خود پیشنهاد کنید؟" in html
        assert "Where did you shop?" in html  # untranslated questions fall back to English
        assert '<label for="id_q' in html  # every input has a label
        invite.invitation.refresh_from_db()
        assert invite.invitation.opened_at is not None

    def test_it_says_how_many_questions_there_are_in_the_readers_language(self, client, invite, survey, customer):
        url = reverse("feedback:invitation", args=[invite.token])
        assert "5 short questions." in client.get(url + "?lang=en").content.decode()
        persian = client.get(url + "?lang=fa").content.decode()
        assert "۵ پرسش کوتاه." in persian and "short questions" not in persian
        survey.questions.exclude(position=1).delete()
        assert "One short question." in client.get(url + "?lang=en").content.decode()
        assert "سؤال قصير واحد." in client.get(url + "?lang=ar").content.decode()

    def test_the_language_can_be_switched(self, client, invite):
        page = client.get(reverse("feedback:invitation", args=[invite.token]) + "?lang=ar")
        assert 'dir="rtl"' in page.content.decode() and "ما مدى احتمال أن توصي بنا لصديق؟" in page.content.decode()

    def test_answering_stores_one_row_per_answer_and_thanks(self, client, invite, survey):
        store, online = survey.questions.get(type="single").choices.all()
        price, service = survey.questions.get(type="multiple").choices.all()
        url = reverse("feedback:invitation", args=[invite.token])
        reply = client.post(url, answer_data(survey, nps=10, csat=5, single=online.pk, multiple=[price.pk, service.pk],
                                             text="Fast delivery 👍 سریع"))
        assert reply.status_code == 302
        assert client.get(reply["Location"]).status_code == 200
        response = Response.objects.get()
        assert response.customer == invite.invitation.customer
        assert Answer.objects.filter(response=response).count() == 5
        assert set(Answer.objects.get(question__type="multiple").choices.all()) == {price, service}
        assert Answer.objects.get(question__type="long_text").text == "Fast delivery 👍 سریع"

    def test_a_used_link_says_already_answered(self, client, invite, survey):
        url = reverse("feedback:invitation", args=[invite.token])
        client.post(url, answer_data(survey, nps=8, csat=4))
        again = client.get(url)
        assert again.status_code == 200 and "already been answered" in again.content.decode()
        second = client.post(url, answer_data(survey, nps=0, csat=1))
        assert "already been answered" in second.content.decode()
        assert Response.objects.count() == 1

    def test_an_expired_link_says_closed(self, client, invite):
        Invitation.objects.filter(pk=invite.invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        page = client.get(reverse("feedback:invitation", args=[invite.token]))
        assert page.status_code == 410 and "This survey has closed" in page.content.decode()

    def test_a_closed_survey_says_closed(self, client, invite, survey):
        survey.ends_at = timezone.now() - timedelta(days=1)
        survey.save()
        assert client.get(reverse("feedback:invitation", args=[invite.token])).status_code == 410

    @pytest.mark.parametrize("token", ["nope", "x" * 43, "x" * 500, "%00", "..%2F..%2Fetc"])
    def test_an_unknown_or_malformed_token_is_a_404(self, client, token):
        page = client.get(f"/f/{token}/")
        assert page.status_code == 404

    @pytest.mark.parametrize(
        "answers, message",
        [
            ({"csat": 5}, "Please choose a number from 0 to 10."),
            ({"nps": 11, "csat": 5}, "Choose a number from 0 to 10."),
            ({"nps": -1, "csat": 5}, "Choose a number from 0 to 10."),
            ({"nps": "ten", "csat": 5}, "Choose a number from 0 to 10."),
            ({"nps": 5, "csat": 0}, "Choose a rating from 1 to 5."),
            ({"nps": 5, "csat": 5, "single": 999999}, "Choose one of the options."),
            ({"nps": 5, "csat": 5, "multiple": ["abc"]}, "Choose among the options."),
        ],
    )
    def test_bad_answers_are_shown_beside_the_fields_and_nothing_is_saved(self, client, invite, survey, answers, message):
        page = client.post(reverse("feedback:invitation", args=[invite.token]), answer_data(survey, **answers))
        assert page.status_code == 400
        assert message in page.content.decode()
        assert not Response.objects.exists()
        invite.invitation.refresh_from_db()
        assert invite.invitation.answered_at is None  # the link still works

    def test_csrf_protection_is_on(self, invite, survey):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        reply = strict.post(reverse("feedback:invitation", args=[invite.token]), answer_data(survey, nps=9, csat=5))
        assert reply.status_code == 403 and not Response.objects.exists()

    def test_it_rate_limits_a_token(self, client, invite, settings):
        settings.FEEDBACK_RATE_LIMIT = "3/m"
        url = reverse("feedback:invitation", args=[invite.token])
        statuses = [client.get(url, REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(5)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]

    def test_it_rate_limits_an_address(self, client, settings):
        settings.FEEDBACK_RATE_LIMIT = "3/m"
        statuses = [client.get(f"/f/guess{i}/").status_code for i in range(5)]
        assert statuses == [404, 404, 404, 429, 429]


class TestAnonymousLink:
    @pytest.fixture
    def public(self, survey):
        survey.public_slug = "store-visit"
        survey.save()
        return survey

    def test_anyone_can_answer_the_public_link(self, client, public):
        reply = client.post("/f/s/store-visit/", answer_data(public, nps=9, csat=4))
        assert reply.status_code == 302
        assert Response.objects.get().customer is None

    def test_a_bot_filling_the_honeypot_is_thanked_and_ignored(self, client, public):
        reply = client.post("/f/s/store-visit/", {**answer_data(public, nps=9, csat=4), "website": "http://spam"})
        assert reply.status_code == 302 and not Response.objects.exists()

    def test_a_survey_without_a_public_link_is_a_404(self, client, survey):
        assert client.get("/f/s/store-visit/").status_code == 404


class TestClosingTheLoop:
    def test_a_detractor_opens_a_follow_up_for_support_due_next_working_day(self, client, invite, survey, support_user, settings):
        settings.CRM_WORKING_DAYS = frozenset({0, 1, 2, 3, 4})
        client.post(reverse("feedback:invitation", args=[invite.token]), answer_data(survey, nps=3, csat=4, text="Rude staff"))
        response = Response.objects.get()
        follow_up = response.follow_up
        assert follow_up.status == Interaction.Status.OPEN
        assert follow_up.customer == invite.invitation.customer
        assert follow_up.staff == support_user
        assert "NPS 3" in follow_up.subject and "Rude staff" in follow_up.body
        assert follow_up.follow_up_on > timezone.localdate() and follow_up.follow_up_on.weekday() < 5

    @pytest.mark.parametrize("nps, csat, opens", [(7, 4, False), (9, 3, False), (6, 5, True), (10, 2, True), (0, 1, True)])
    def test_only_unhappy_answers_open_a_follow_up(self, client, invite, survey, nps, csat, opens):
        client.post(reverse("feedback:invitation", args=[invite.token]), answer_data(survey, nps=nps, csat=csat))
        assert (Response.objects.get().follow_up is not None) is opens

    def test_next_working_day_skips_the_weekend(self, settings):
        from core.dates import next_working_day

        settings.CRM_WORKING_DAYS = frozenset({0, 1, 2, 3, 4})
        assert next_working_day(date(2026, 11, 20)) == date(2026, 11, 23)  # Friday -> Monday
        settings.CRM_WORKING_DAYS = frozenset({5, 6, 0, 1, 2})  # Saturday to Wednesday
        assert next_working_day(date(2026, 11, 18)) == date(2026, 11, 21)  # Wednesday -> Saturday


class TestScores:
    def test_nps_and_csat_follow_the_definitions(self, survey):
        answers = [(10, 5), (9, 4), (8, 3), (7, 5), (6, 2), (0, 1), (10, 4)]
        for index, (nps, csat) in enumerate(answers):
            customer = CustomerFactory()
            invite = services.invitation_create(survey=survey, customer=customer)
            questions = {q.type: q for q in survey.questions.all()}
            services.response_submit(survey=survey, invitation=invite.invitation,
                                     answers={questions["nps"]: nps, questions["rating"]: csat})
        services.invitation_create(survey=survey, customer=CustomerFactory())  # one invitation unanswered
        scores = selectors.survey_scores(survey)
        # promoters 10, 9, 10 = 3; detractors 6, 0 = 2; 7 answers: 100 * (3 - 2) / 7 = 14.29 -> 14
        assert (scores.nps, scores.promoters, scores.passives, scores.detractors) == (14, 3, 2, 2)
        # 4 or 5: 5, 4, 5, 4 = 4 of 7 = 57.1 %
        assert scores.csat == 57.1
        assert scores.response_rate == 0.875 and scores.invitations == 8

    def test_scores_of_a_segment(self, survey):
        happy, unhappy = CustomerFactory(city="Shiraz"), CustomerFactory(city="Tabriz")
        questions = {q.type: q for q in survey.questions.all()}
        for customer, score in ((happy, 10), (unhappy, 0)):
            invite = services.invitation_create(survey=survey, customer=customer)
            services.response_submit(survey=survey, invitation=invite.invitation, answers={questions["nps"]: score})
        from crm.models import Customer

        assert selectors.survey_scores(survey, customers=Customer.objects.filter(city="Shiraz")).nps == 100
        assert selectors.survey_scores(survey, customers=Customer.objects.filter(city="Tabriz")).nps == -100
        assert selectors.survey_scores(survey).nps == 0

    def test_no_answers_means_no_score(self, survey):
        scores = selectors.survey_scores(survey)
        assert scores.nps is None and scores.csat is None and scores.response_rate is None

    def test_the_results_page_shows_score_charts_and_comments(self, admin_client, invite, survey, client):
        client.post(reverse("feedback:invitation", args=[invite.token]), answer_data(survey, nps=10, csat=5, text="Lovely"))
        page = admin_client.get(reverse("admin:feedback_survey_results", args=[survey.pk]))
        html = page.content.decode()
        assert page.status_code == 200
        assert "<svg" in html and "Lovely" in html and ">100<" in html

    def test_it_draws_no_chart_for_a_survey_nobody_answered_yet(self, admin_client, survey):
        html = admin_client.get(reverse("admin:feedback_survey_results", args=[survey.pk])).content.decode()
        assert '<svg class="chart' not in html and "No answers to this question yet." in html


class TestRewards:
    def test_answering_earns_the_feedback_points_once(self, client, invite, survey, customer):
        from decimal import Decimal

        from club import services as club
        from club.models import EarningRule, Tier

        Tier.objects.create(name="Bronze", rank=1, threshold=0)
        EarningRule.objects.create(name="Thanks for your feedback", kind=EarningRule.Kind.FEEDBACK, points=25)
        member = club.member_enroll(customer=customer)
        url = reverse("feedback:invitation", args=[invite.token])
        client.post(url, answer_data(survey, nps=9, csat=5))
        client.post(url, answer_data(survey, nps=9, csat=5))
        member.refresh_from_db()
        assert member.points_balance == 25
        assert Decimal(member.points_balance) == sum(member.transactions.values_list("points", flat=True))

    def test_the_timeline_shows_the_answer_and_the_return(self, client, invite, survey, customer, place_order):
        from core.timeline import customer_timeline

        client.post(reverse("feedback:invitation", args=[invite.token]), answer_data(survey, nps=4, csat=2, text="Slow"))
        kinds = [entry.kind for entry in customer_timeline(customer)]
        assert "feedback" in kinds and "interaction" in kinds  # the answer and the follow-up it opened
