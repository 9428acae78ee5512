"""Helpers shared by the tests that answer a survey (the `survey` fixture is in tests/conftest.py)."""


def answer_data(survey, *, nps=None, csat=None, single=None, multiple=(), text=""):
    """The POST data of the survey form for these answers."""
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
