"""Customer names for the demo: pools drawn from Faker once, and Latin spellings for e-mail addresses."""

import re
import unicodedata
from dataclasses import dataclass

from faker import Faker

from crm.demo.reference import LOCALES


@dataclass
class NamePools:
    """Per locale: (native, romanized) first names by gender and last names, drawn from Faker once."""

    male: dict[str, list[tuple[str, str]]]
    female: dict[str, list[tuple[str, str]]]
    last: dict[str, list[tuple[str, str]]]

    @classmethod
    def build(cls, seed: int, size: int = 500) -> "NamePools":
        male, female, last = {}, {}, {}
        for locale in LOCALES:
            fake = Faker(locale)
            fake.seed_instance(seed)
            arabic = locale.startswith("ar")
            male[locale] = [_named(fake.first_name_male(), arabic) for _ in range(size)]
            female[locale] = [_named(fake.first_name_female(), arabic) for _ in range(size)]
            last[locale] = [_named(fake.last_name(), arabic) for _ in range(size)]
        return cls(male=male, female=female, last=last)


def _named(name: str, arabic: bool) -> tuple[str, str]:
    name = re.sub(r"\s*\(.*?\)", "", name).strip()
    return name, romanize(name, arabic=arabic)


# Common names whose usual Latin spelling the letter rules below cannot guess
# (Persian and Arabic script leave short vowels out).
_KNOWN_SPELLINGS = {
    "محمد": "mohammad", "احمد": "ahmad", "أحمد": "ahmed", "مهدی": "mehdi", "مهدي": "mehdi", "حسین": "hossein",
    "حسين": "hossein", "حسن": "hassan", "رضا": "reza", "علی": "ali", "علي": "ali", "فاطمه": "fatemeh",
    "فاطمة": "fatima", "زهرا": "zahra", "مریم": "maryam", "مريم": "maryam", "عبد": "abd", "یوسف": "yousef",
    "يوسف": "yousef", "امیر": "amir", "امير": "amir", "خالد": "khaled", "عمر": "omar", "سعید": "saeed",
    "سعيد": "saeed", "نور": "nour", "آل": "al", "پور": "pour", "زاده": "zadeh",
}
_KNOWN_PATTERN = re.compile("|".join(sorted(map(re.escape, _KNOWN_SPELLINGS), key=len, reverse=True)))
_CONSONANTS = {
    "ب": "b", "پ": "p", "ت": "t", "ث": "s", "ج": "j", "چ": "ch", "ح": "h", "خ": "kh", "د": "d", "ذ": "z",
    "ر": "r", "ز": "z", "ژ": "zh", "س": "s", "ش": "sh", "ص": "s", "ض": "z", "ط": "t", "ظ": "z", "غ": "gh",
    "ف": "f", "ق": "gh", "ک": "k", "ك": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n", "ه": "h",
}
_ARABIC_CONSONANTS = {**_CONSONANTS, "ث": "th", "ذ": "dh", "ض": "d", "ق": "q"}


def romanize(name: str, *, arabic: bool = False) -> str:
    """A readable Latin spelling for e-mail addresses ("رضایی" -> "rezayi"); Latin names are lower-cased."""
    parts = []
    position = 0
    for match in _KNOWN_PATTERN.finditer(name):
        parts.append(_romanize_letters(name[position:match.start()], arabic))
        parts.append(_KNOWN_SPELLINGS[match.group()])
        position = match.end()
    parts.append(_romanize_letters(name[position:], arabic))
    return "".join(parts)


def _romanize_letters(text: str, arabic: bool) -> str:
    consonants = _ARABIC_CONSONANTS if arabic else _CONSONANTS
    letters = [ch for ch in text if ch.isalpha()]
    sounds: list[tuple[str, bool]] = []  # (latin, is_vowel)
    for index, ch in enumerate(letters):
        after_vowel = not sounds or sounds[-1][1]
        last = index == len(letters) - 1
        if ch in "اآأإى":
            sounds.append(("e" if ch == "إ" else "a", True))
        elif ch == "ع":
            if after_vowel:
                sounds.append(("a", True))
        elif ch in "ءئؤ":
            if not after_vowel:
                sounds.append(("o" if ch == "ؤ" else "e", True))
        elif ch == "ة":
            sounds.append(("a", True))
        elif ch == "و":
            if after_vowel:
                sounds.append(("w" if arabic else "v", False))
            else:
                sounds.append(("u" if arabic else "o", True))
        elif ch in "یي":
            if not sounds or (after_vowel and not last):
                sounds.append(("y", False))
            else:
                sounds.append(("i", True))
        elif ch == "ه" and last and not arabic and sounds and not after_vowel:
            sounds.append(("eh", True))
        elif ch in consonants:
            # Two consonants in a row at the start of a syllable: put back the short vowel.
            if sounds and not sounds[-1][1] and (len(sounds) == 1 or not sounds[-2][1]):
                sounds.append(("a", True))
            sounds.append((consonants[ch], False))
        else:
            ascii_letter = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode().lower()
            if ascii_letter:
                sounds.append((ascii_letter, ascii_letter in "aeiou"))
    return "".join(sound for sound, _ in sounds)
