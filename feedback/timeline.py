from django.urls import reverse
from django.utils.translation import gettext as _

from core import timeline
from core.direction import isolate_text, ltr_text
from feedback.models import Invitation, Response, ReturnRequest


def response_entries(customer, *, limit: int):
    responses = Response.objects.filter(customer=customer).select_related("survey").prefetch_related(
        "answers__question", "answers__choices"
    ).order_by("-submitted_at")[:limit]
    entries = []
    for response in responses:
        scores = [f"{a.question.get_scores_display()}: {a.number}" for a in response.answers.all() if a.question.scores]
        texts = [isolate_text(a.text) for a in response.answers.all() if a.text]
        entries.append(timeline.TimelineEntry(
            when=response.submitted_at, kind="feedback",
            title=_("Answered the survey %(survey)s") % {"survey": isolate_text(response.survey.title)},
            detail="; ".join(scores + texts),
            url=reverse("admin:feedback_response_change", args=[response.pk]),
            badge=_("Feedback"),
        ))
    return entries


def invitation_entries(customer, *, limit: int):
    invitations = Invitation.objects.filter(customer=customer).select_related("survey").order_by("-created_at")[:limit]
    return [
        timeline.TimelineEntry(
            when=invitation.created_at, kind="feedback",
            title=_("Invited to the survey %(survey)s") % {"survey": isolate_text(invitation.survey.title)},
            badge=_("Answered") if invitation.answered_at else (_("Opened") if invitation.opened_at else _("Invited")),
        )
        for invitation in invitations
    ]


def return_entries(customer, *, limit: int):
    requests = ReturnRequest.objects.filter(customer=customer).select_related("order").prefetch_related(
        "lines__order_line").order_by("-created_at")[:limit]
    return [
        timeline.TimelineEntry(
            when=request.created_at, kind="return",
            title=_("Return of order %(number)s (%(resolution)s)") % {
                "number": ltr_text(request.order.order_number), "resolution": request.get_resolution_display()},
            detail="; ".join(f"{line} ({line.get_reason_display()})" for line in request.lines.all()),
            url=reverse("admin:feedback_returnrequest_change", args=[request.pk]),
            badge=request.get_state_display(),
        )
        for request in requests
    ]
