import pytest

from feedback.models import Choice, Question, Survey


@pytest.fixture
def survey(db):
    survey = Survey.objects.create(
        title="How did we do?", title_fa="نظر شما چیست؟", title_ar="ما رأيك؟",
        intro="Two minutes, promise.", kind=Survey.Kind.NPS, trigger=Survey.Trigger.MANUAL,
    )
    Question.objects.create(
        survey=survey, position=1, type=Question.Type.NPS, scores=Question.Score.NPS,
        text="How likely are you to recommend us to a friend?",
        text_fa="چقدر احتمال دارد ما را به دوستان خود پیشنهاد کنید؟",
        text_ar="ما مدى احتمال أن توصي بنا لصديق؟",
    )
    Question.objects.create(survey=survey, position=2, type=Question.Type.RATING, scores=Question.Score.CSAT,
                            text="How satisfied are you with your order?", text_fa="از سفارش خود چقدر راضی هستید؟")
    single = Question.objects.create(survey=survey, position=3, type=Question.Type.SINGLE, text="Where did you shop?",
                                     required=False)
    Choice.objects.create(question=single, position=1, label="Store", label_fa="فروشگاه")
    Choice.objects.create(question=single, position=2, label="Online", label_fa="آنلاین")
    multiple = Question.objects.create(survey=survey, position=4, type=Question.Type.MULTIPLE, text="What did you like?",
                                       required=False)
    Choice.objects.create(question=multiple, position=1, label="Price")
    Choice.objects.create(question=multiple, position=2, label="Service")
    Question.objects.create(survey=survey, position=5, type=Question.Type.LONG_TEXT, text="Anything else?",
                            text_fa="نکته دیگری دارید؟", required=False)
    return survey


def answer_data(survey, *, nps=None, csat=None, single=None, multiple=(), text=""):
    questions = {q.type: q for q in survey.questions.all()}
    data = {}
    if nps is not None:
        data[f"q{questions['nps'].pk}"] = str(nps)
    if csat is not None:
        data[f"q{questions['rating'].pk}"] = str(csat)
    if single is not None:
        data[f"q{questions['single'].pk}"] = str(single)
    if multiple:
        data[f"q{questions['multiple'].pk}"] = [str(choice) for choice in multiple]
    if text:
        data[f"q{questions['long_text'].pk}"] = text
    return data
