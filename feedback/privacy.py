"""Feedback's part of a customer's data export and erasure (contributed to core.privacy in feedback.contributions)."""

from feedback.models import Answer, Invitation, Response, ReturnEvent, ReturnLine, ReturnRequest

def export_feedback(customer) -> dict:
    responses = (Response.objects.filter(customer=customer).select_related("survey")
                 .prefetch_related("answers__question", "answers__choices").order_by("submitted_at", "id"))
    returns = (ReturnRequest.objects.filter(customer=customer).select_related("order")
               .prefetch_related("lines__order_line", "events").order_by("created_at", "id"))
    return {
        # Never the token (only its hash is stored, and that stays private too).
        "invitations": [
            {"survey": invitation.survey.title, "created_at": invitation.created_at, "sent_at": invitation.sent_at,
             "expires_at": invitation.expires_at, "opened_at": invitation.opened_at, "answered_at": invitation.answered_at}
            for invitation in Invitation.objects.filter(customer=customer).select_related("survey").order_by("created_at", "id")
        ],
        "responses": [
            {
                "survey": response.survey.title, "submitted_at": response.submitted_at, "language": response.language,
                "answers": [
                    {"question": answer.question.text, "number": answer.number, "text": answer.text,
                     "choices": [choice.label for choice in answer.choices.all()]}
                    for answer in response.answers.all()
                ],
            }
            for response in responses
        ],
        "returns": [
            {
                "public_id": item.public_id, "order_number": item.order.order_number, "state": item.state,
                "resolution": item.resolution, "channel": item.channel, "note": item.note,
                "refund_amount": item.refund_amount, "created_at": item.created_at,
                "lines": [
                    {"sku": line.order_line.sku, "product_name": line.order_line.product_name, "quantity": line.quantity,
                     "reason": line.reason, "note": line.note}
                    for line in item.lines.all()
                ],
                "events": [{"from": event.from_state, "to": event.to_state, "at": event.at} for event in item.events.all()],
            }
            for item in returns
        ],
    }


def erase_feedback(customer, *, by=None) -> None:
    """Scores and return amounts stay (NPS, CSAT and refunds are counted); the person's own words go."""
    Answer.objects.filter(response__customer=customer).exclude(text="").update(text="")
    ReturnRequest.objects.filter(customer=customer).update(note="")
    # The audit history keeps every version of the request: the note goes from those too.
    ReturnRequest.history.filter(customer_id=customer.pk).exclude(note="").update(note="")
    ReturnLine.objects.filter(return_request__customer=customer).update(note="")
    ReturnEvent.objects.filter(return_request__customer=customer).update(note="")
