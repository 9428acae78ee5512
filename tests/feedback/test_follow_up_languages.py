"""Support's follow-up of unhappy feedback reads in the reader's language: the survey's title, its questions and
the chosen answers are worded in every staff language when it is opened, not stored as one language's sentence."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from crm.models import Interaction
from crm.privacy import customer_erase
from crm.timeline_entries import interaction_entries
from feedback import services
from feedback.models import Response
from tests.feedback.helpers import answer_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up(client, survey, customer, support_user):
    cache.clear()  # the public form's rate limit
    invite = services.invitation_create(survey=survey, customer=customer)
    store = survey.questions.get(type="single").choices.get(label="Store")
    client.post(reverse("feedback:invitation", args=[invite.token]),
                answer_data(survey, nps=3, csat=2, single=store.pk, text="Rude staff"))
    return Response.objects.get().follow_up


def test_each_reader_reads_the_follow_up_in_their_language(follow_up, customer):
    assert follow_up.subject == "Unhappy feedback on How did we do? (NPS 3, CSAT 2)"  # stored: the default language
    with translation.override("fa"):
        assert follow_up.subject_text.startswith(translation.gettext("Unhappy feedback on %(survey)s") % {
            "survey": "نظر شما چیست؟"}) and "NPS 3, CSAT 2" in follow_up.subject_text
        assert "چقدر احتمال دارد ما را به دوستان خود پیشنهاد کنید؟: 3" in follow_up.body_text
        assert "فروشگاه" in follow_up.body_text and "Rude staff" in follow_up.body_text  # the customer's words as typed
        entry = interaction_entries(customer, limit=5)[0]
        assert "نظر شما چیست؟" in entry.title and "Unhappy" not in entry.title
    with translation.override("ar"):
        assert "ما رأيك؟" in follow_up.subject_text and "ما مدى احتمال أن توصي بنا لصديق؟: 3" in follow_up.body_text
    with translation.override("en"):
        assert follow_up.subject_text == follow_up.subject and "Where did you shop?: Store" in follow_up.body_text


def test_the_list_and_the_customer_page_show_it_in_persian(client, follow_up, support_user):
    client.force_login(support_user)
    client.cookies["django_language"] = "fa"
    timeline = client.get(reverse("admin:crm_customer_change", args=[follow_up.customer_id]),
                          HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    listing = client.get(reverse("admin:crm_interaction_changelist"), HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    Interaction.objects.filter(pk=follow_up.pk).update(follow_up_on=timezone.localdate())  # due: on the home page
    home = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    for page in (timeline, listing, home):
        assert "نظر شما چیست؟" in page and "Unhappy feedback" not in page


def test_saving_it_unchanged_keeps_every_language_and_editing_it_makes_it_the_agents_words(client, follow_up, support_user):
    client.force_login(support_user)
    url = reverse("admin:crm_interaction_change", args=[follow_up.pk])
    client.cookies["django_language"] = "fa"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fa")
    form = page.context["adminform"].form
    assert "نظر شما چیست؟" in form.initial["subject"]  # edited in the reader's wording
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update(customer=follow_up.customer_id, order="", staff=support_user.pk, status="waiting",
                occurred_at_0=follow_up.occurred_at.date().isoformat(), occurred_at_1="10:00:00",
                follow_up_on=follow_up.follow_up_on.isoformat())
    assert client.post(url, data, HTTP_ACCEPT_LANGUAGE="fa").status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "waiting" and follow_up.subject.startswith("Unhappy feedback") and follow_up.wording

    data["subject"] = "تماس گرفتم، عذرخواهی شد"
    assert client.post(url, data, HTTP_ACCEPT_LANGUAGE="fa").status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.subject == "تماس گرفتم، عذرخواهی شد" and follow_up.wording is None
    with translation.override("en"):
        assert follow_up.subject_text == "تماس گرفتم، عذرخواهی شد"


def test_erasure_forgets_every_language(follow_up, customer):
    customer_erase(customer=customer, by=None)
    item = Interaction.objects.get(pk=follow_up.pk)
    assert item.wording is None
