"""feedback's step of `seed_demo`: two surveys with answers, and a few returns.

Invitations, responses and answers are bulk-created for a sample of the new customers'
fulfilled orders (at most DEMO_RESPONSES_MAX), so the survey results, the NPS per segment and
the closing-the-loop queue look alive; returns go through the real service and state machine.
"""

from datetime import timedelta

from django.db import transaction

from crm.models import Order
from feedback.models import Answer, Choice, Invitation, Question, Response, Survey
from feedback.services.returns import LineRequest, return_request_create, return_transition

DEMO_RESPONSES_MAX = 3000
DEMO_RETURNS_MAX = 40
COMMENTS = {
    "en": ["Fast delivery, thank you!", "The beans were stale.", "Lovely staff in the shop.", "Packaging was damaged."],
    "fa": ["ارسال سریع بود، ممنون!", "قهوه کهنه بود.", "کارکنان فروشگاه خیلی مهربان بودند.", "بسته‌بندی آسیب دیده بود."],
    "ar": ["توصيل سريع، شكراً!", "كانت القهوة قديمة.", "موظفو المتجر لطفاء جداً.", "كان التغليف تالفاً."],
}


def _surveys():
    purchase, created = Survey.objects.get_or_create(
        title="How was your purchase?",
        defaults={"title_fa": "خرید شما چطور بود؟", "title_ar": "كيف كانت عملية الشراء؟", "kind": Survey.Kind.NPS,
                  "intro": "About your last order: it takes a minute.", "intro_fa": "درباره آخرین سفارش شما: یک دقیقه وقت می‌گیرد.",
                  "intro_ar": "عن طلبك الأخير: يستغرق دقيقة واحدة.", "trigger": Survey.Trigger.ORDER_FULFILLED,
                  "trigger_delay_days": 3},
    )
    if created:
        Question.objects.create(survey=purchase, position=1, type="nps", scores="nps",
                                text="How likely are you to recommend us to a friend?",
                                text_fa="چقدر احتمال دارد ما را به دوستان خود پیشنهاد کنید؟",
                                text_ar="ما مدى احتمال أن توصي بنا لصديق؟")
        Question.objects.create(survey=purchase, position=2, type="rating", scores="csat",
                                text="How satisfied are you with your order?", text_fa="از سفارش خود چقدر راضی هستید؟",
                                text_ar="ما مدى رضاك عن طلبك؟")
        where = Question.objects.create(survey=purchase, position=3, type="single", required=False,
                                        text="Where did you shop?", text_fa="از کجا خرید کردید؟", text_ar="أين تسوقت؟")
        for position, (en, fa, ar) in enumerate([("In a shop", "در فروشگاه", "في المتجر"), ("Online", "آنلاین", "عبر الإنترنت"),
                                                 ("In the app", "در اپلیکیشن", "في التطبيق")]):
            Choice.objects.create(question=where, position=position, label=en, label_fa=fa, label_ar=ar)
        Question.objects.create(survey=purchase, position=4, type="long_text", required=False,
                                text="Anything else you would like to tell us?", text_fa="نکته دیگری دارید؟",
                                text_ar="هل هناك شيء آخر تود إخبارنا به؟")
    Survey.objects.get_or_create(
        title="How did we handle your request?",
        defaults={"title_fa": "درخواست شما را چطور پیگیری کردیم؟", "title_ar": "كيف تعاملنا مع طلبك؟",
                  "kind": Survey.Kind.CSAT, "trigger": Survey.Trigger.INTERACTION_RESOLVED},
    )
    return purchase


def seed(*, rng, customers, now, progress=None) -> dict:
    survey = _surveys()
    questions = {question.type: question for question in survey.questions.all()}
    choices = list(questions["single"].choices.all())
    orders = list(
        Order.objects.filter(customer__in=customers, status=Order.Status.FULFILLED, placed_at__lt=now - timedelta(days=3))
        .order_by("-placed_at").values_list("pk", "customer_id", "placed_at", "customer__language")[:DEMO_RESPONSES_MAX * 2]
    )
    rng.shuffle(orders)
    orders = orders[:DEMO_RESPONSES_MAX * 2]
    seen, invitations, answered = set(), [], []
    for order_id, customer_id, placed_at, language in orders:
        if customer_id in seen:
            continue
        seen.add(customer_id)
        sent = placed_at + timedelta(days=3)
        invitation = Invitation(
            survey=survey, customer_id=customer_id, order_id=order_id, token_hash=Invitation.new_token()[1],
            created_at=sent, sent_at=sent, expires_at=sent + timedelta(days=survey.invitation_valid_days),
        )
        if rng.random() < 0.45:
            # Answered within three days of the invitation, and never after the anchor ("now").
            invitation.opened_at = invitation.answered_at = sent + min(timedelta(hours=72), now - sent) * rng.uniform(0.02, 1)
            answered.append((invitation, language or "en"))
        invitations.append(invitation)
    with transaction.atomic():
        Invitation.objects.bulk_create(invitations, batch_size=2000)
        responses = [Response(survey=survey, invitation=invitation, customer_id=invitation.customer_id, language=language,
                              submitted_at=invitation.answered_at) for invitation, language in answered]
        Response.objects.bulk_create(responses, batch_size=2000)
        answers, picked = [], []
        for response in responses:
            nps = rng.choices(range(11), weights=[2, 1, 1, 2, 2, 4, 6, 9, 14, 20, 25])[0]
            csat = max(1, min(5, round(nps / 2.2 + rng.uniform(-0.8, 0.8))))
            answers.append(Answer(response=response, question=questions["nps"], number=nps))
            answers.append(Answer(response=response, question=questions["rating"], number=csat))
            if rng.random() < 0.3:
                answers.append(Answer(response=response, question=questions["long_text"],
                                      text=rng.choice(COMMENTS.get(response.language, COMMENTS["en"]))))
            if rng.random() < 0.6:
                picked.append((Answer(response=response, question=questions["single"]), rng.choice(choices)))
        Answer.objects.bulk_create(answers + [answer for answer, _choice in picked], batch_size=2000)
        Answer.choices.through.objects.bulk_create(
            [Answer.choices.through(answer_id=answer.pk, choice_id=choice.pk) for answer, choice in picked], batch_size=2000)
    return {"survey invitations": len(invitations), "survey responses": len(responses), "returns": _returns(rng, customers, now)}


def _returns(rng, customers, now) -> int:
    recent = list(
        Order.objects.filter(customer__in=customers, status=Order.Status.FULFILLED, placed_at__gte=now - timedelta(days=25))
        .order_by("pk").values_list("pk", flat=True)[:2000]
    )
    rng.shuffle(recent)
    created = 0
    reasons = ["damaged", "wrong_item", "wrong_size", "not_as_described", "changed_mind", "changed_mind", "other"]
    for order in Order.objects.filter(pk__in=recent[:DEMO_RETURNS_MAX]).prefetch_related("lines"):
        lines = list(order.lines.all())
        if not lines:
            continue
        line = rng.choice(lines)
        request = return_request_create(
            order=order, lines=[LineRequest(line.pk, rng.randint(1, line.quantity), rng.choice(reasons))],
            resolution=rng.choice(["refund", "refund", "exchange"]), channel="customer", now=now,
        )
        path = rng.choice([[], ["approved"], ["approved", "received"], ["approved", "received", "refunded"], ["rejected"]])
        if path[-1:] == ["refunded"] and request.resolution != "refund":
            path = path[:-1] + ["exchanged"]
        for state in path:
            return_transition(return_request=request, to_state=state)
        created += 1
    return created
