import pytest

from core.text import ascii_digits, normalize_for_search

PERSIAN_KIAN = "\u06a9\u06cc\u0627\u0646"  # کیان: Persian kaf and yeh


@pytest.mark.parametrize("typed", [
    "\u0643\u064a\u0627\u0646",  # Arabic kaf, Arabic yeh
    "\u0643\u06cc\u0627\u0646",  # Arabic kaf, Persian yeh
    "\u06a9\u064a\u0627\u0646",  # Persian kaf, Arabic yeh
    "\u06a9\u0649\u0627\u0646",  # Persian kaf, alef maksura
    "\u06aa\u06cc\u0627\u0646",  # swash kaf
    PERSIAN_KIAN,
])
def test_it_writes_every_kaf_and_yeh_the_persian_way(typed):
    assert normalize_for_search(typed) == PERSIAN_KIAN


@pytest.mark.parametrize("typed, expected", [
    ("\u06a9\u0640\u0640\u06cc\u0627\u0646", PERSIAN_KIAN),  # tatweel
    ("\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627", "\u0645\u062d\u0645\u062f\u0631\u0636\u0627"),  # ZWNJ
    ("\u0645\u062d\u0645\u062f\u200d\u0631\u0636\u0627", "\u0645\u062d\u0645\u062f\u0631\u0636\u0627"),  # ZWJ
    ("\u0645\u064f\u062d\u064e\u0645\u0651\u064e\u062f", "\u0645\u062d\u0645\u062f"),  # harakat
    ("\u0647\u0670\u0630\u0627", "\u0647\u0630\u0627"),  # superscript alef
    ("\u200f\u06a9\u06cc\u0627\u0646\u200e", PERSIAN_KIAN),  # direction marks pasted with the name
    ("\ufedb\ufef4\u0627\u0646", PERSIAN_KIAN),  # presentation forms (a PDF)
])
def test_it_ignores_what_does_not_change_a_name(typed, expected):
    assert normalize_for_search(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    ("\u0641\u0627\u0637\u0645\u0629", "\u0641\u0627\u0637\u0645\u0647"),  # teh marbuta -> heh
    ("\u062e\u0627\u0646\u06c0", "\u062e\u0627\u0646\u0647"),  # heh with yeh above -> heh
    ("\u0623\u062d\u0645\u062f", "\u0627\u062d\u0645\u062f"),  # alef with hamza -> alef
    ("\u0622\u0631\u0634", "\u0627\u0631\u0634"),  # alef with madda -> alef
])
def test_it_folds_the_letter_forms_people_interchange(typed, expected):
    assert normalize_for_search(typed) == expected


def test_it_writes_persian_and_arabic_digits_as_ascii():
    assert normalize_for_search("\u06f0\u06f9\u06f1\u06f2 \u0661\u0662\u0663") == "0912 123"
    assert ascii_digits("WEB-\u06f1\u06f0\u06f0\u06f1") == "WEB-1001"
    assert ascii_digits("Sara") == "Sara"


def test_it_casefolds_and_collapses_white_space():
    assert normalize_for_search("  SARA \t  Ahmadi\n") == "sara ahmadi"
    assert normalize_for_search("Stra\u00dfe") == "strasse"


@pytest.mark.parametrize("empty", [None, "", "   ", "\u200c\u0640", "\u064e"])
def test_nothing_but_marks_is_an_empty_name(empty):
    assert normalize_for_search(empty) == ""
