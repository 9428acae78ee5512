"""Public survey pages. No login: an invitation's token, or a survey's public link."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from core import errors
from core.audit import public_page
from crm.public import language_choices, page_language
from feedback import services
from feedback.services import survey_links
from feedback.forms import SurveyForm
from feedback.models import Invitation, Survey

log = logging.getLogger(__name__)


def token_key(group, request):
    """Rate-limit key of the public pages reached by a token link (the survey and returns pages)."""
    return request.resolver_match.kwargs.get("token", "")


def public_page_rate(group, request):
    """The rate of the public pages, read per request so that tests and settings can change it."""
    return settings.FEEDBACK_RATE_LIMIT


def choose_language(request, survey: Survey, preferred: str = "") -> str:
    return page_language(request, preferred, offered=survey.language_codes)


def _render(request, template, context, language, status=200):
    with translation.override(language):
        response = render(request, template, context, status=status)
    response.headers["Content-Language"] = language
    return response


# Only trouble reaching the database is worth "send again in a minute" (core.db_errors): a value
# the form let through but the database refused is our bug, and a 500 gets it logged and fixed.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


@ratelimit(key="ip", rate=public_page_rate, block=True)
@ratelimit(key=token_key, rate=public_page_rate, block=True)
@require_http_methods(["GET", "POST"])
@public_page
def invitation(request, token: str):
    try:
        invite = services.invitation_for_token(token)
    except Invitation.DoesNotExist:
        raise Http404 from None
    survey = invite.survey
    language = choose_language(request, survey, invite.customer.language)
    try:
        services.invitation_check_open(invite)
    except services.InvitationUnavailable as unavailable:
        return _unavailable(request, survey, unavailable.reason, language)
    services.invitation_mark_opened(invite)
    with translation.override(language):
        form = SurveyForm(request.POST or None, survey=survey)
        if request.method == "POST" and form.is_valid():
            try:
                services.response_submit(survey=survey, answers=form.answers(), invitation=invite, language=language)
            except services.InvitationUnavailable as unavailable:
                return _unavailable(request, survey, unavailable.reason, language)
            except DATABASE_UNREACHABLE:
                return _not_saved(request, survey, form, language)
            return HttpResponseRedirect(reverse("feedback:thanks", args=[survey.pk]) + f"?lang={language}")
    return _render(request, "feedback/survey.html", {"survey": survey, "form": form, "languages": _languages(survey)},
                   language, status=400 if request.method == "POST" else 200)


@ratelimit(key="ip", rate=public_page_rate, block=True)
@ratelimit(key=token_key, rate=public_page_rate, block=True)
@require_http_methods(["GET"])
@public_page
def survey_link(request, token: str):
    """A customer's survey link (feedback.services.survey_links): on to their invitation's page."""
    try:
        invite = survey_links.invitation_for_survey_link(token)
    except Invitation.DoesNotExist:
        raise Http404 from None
    query = f"?{request.GET.urlencode()}" if request.GET else ""
    return HttpResponseRedirect(reverse("feedback:invitation", args=[invite.token]) + query)


@ratelimit(key="ip", rate=public_page_rate, block=True)
@require_http_methods(["GET", "POST"])
@public_page
def public_survey(request, slug: str):
    survey = get_object_or_404(Survey, public_slug=slug)
    language = choose_language(request, survey)
    if not survey.is_open():
        return _unavailable(request, survey, "closed", language)
    with translation.override(language):
        form = SurveyForm(request.POST or None, survey=survey, honeypot=True)
        if request.method == "POST" and form.is_valid():
            if not form.is_bot():
                try:
                    services.response_submit(survey=survey, answers=form.answers(), language=language)
                except DATABASE_UNREACHABLE:
                    return _not_saved(request, survey, form, language)
            return HttpResponseRedirect(reverse("feedback:thanks", args=[survey.pk]) + f"?lang={language}")
    return _render(request, "feedback/survey.html", {"survey": survey, "form": form, "languages": _languages(survey)},
                   language, status=400 if request.method == "POST" else 200)


@public_page
def thanks(request, survey_id: int):
    survey = get_object_or_404(Survey, pk=survey_id)
    return _render(request, "feedback/thanks.html", {"survey": survey}, choose_language(request, survey))


def _not_saved(request, survey: Survey, form: SurveyForm, language: str):
    """The database failed while storing the answers: the transaction rolled back, nothing was
    saved (an invitation stays unanswered), so the customer gets their answers back to send again."""
    log.exception("could not store an answer to survey %s", survey.pk)
    with translation.override(language):
        form.add_error(None, _("We could not save your answers just now. Please send them again in a minute."))
    response = _render(request, "feedback/survey.html", {"survey": survey, "form": form, "languages": _languages(survey)},
                       language, status=503)
    response.headers["Retry-After"] = str(errors.retry_after_seconds())
    return response


def _unavailable(request, survey, reason, language):
    template = "feedback/answered.html" if reason == "answered" else "feedback/closed.html"
    return _render(request, template, {"survey": survey}, language, status=200 if reason == "answered" else 410)


def _languages(survey: Survey) -> list[tuple[str, str]]:
    return language_choices(survey.language_codes)


def rate_limited(request, exception):
    language = translation.get_language_from_request(request)
    with translation.override(language):
        response = render(request, "feedback/rate_limited.html", {}, status=429)
    response.headers["Retry-After"] = "60"
    return response
