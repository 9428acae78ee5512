"""Text as people search for it: one normalization for the stored search columns and the query.

A Persian name is typed with Persian letters on one keyboard and with Arabic ones on another
(an Arabic keyboard, a phone, a file exported elsewhere), with or without a zero-width non-joiner,
tatweel or vowel marks, and with Persian, Arabic-Indic or ASCII digits. `normalize_for_search`
maps each of these to one form; the customer's stored search columns (crm.Customer.search_name)
hold it, and the search box's text goes through the same function, so both sides agree whatever
was typed. The letter folding follows Lucene's Persian and Arabic normalizers:

- Arabic yeh (ي U+064A) and alef maksura (ى U+0649) become Persian yeh (ی U+06CC);
  Arabic kaf (ك U+0643) and swash kaf (ڪ U+06AA) become Persian kaf (ک U+06A9);
- teh marbuta (ة U+0629), heh with yeh above (ۀ U+06C0), heh goal (ہ U+06C1) and ae (ە U+06D5)
  become heh (ه U+0647): "فاطمة" and "فاطمه" are one name, and "خانهٔ"/"خانۀ" one word;
- alef with madda, hamza above or below, and wasla (آ أ إ ٱ) become alef (ا): people type
  "احمد" for "أحمد" and "ارش" for "آرش";
- tatweel (U+0640), the harakat (U+064B-U+065F), superscript alef (U+0670), the zero-width
  characters (ZWNJ U+200C, ZWJ U+200D, ZWSP U+200B, BOM U+FEFF) and the direction marks
  (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) are dropped;
- Persian (۰-۹) and Arabic-Indic (٠-٩) digits become ASCII digits;
- the rest is NFKC-normalized (presentation forms, full-width Latin) and case-folded, and runs of
  white space become one space.

Keep the function stable: the stored columns were computed with it. A change to it needs a data
migration that recomputes them (as crm's 0014 does).
"""

import unicodedata

_DIGITS = {ord(persian): str(value) for value, persian in enumerate("۰۱۲۳۴۵۶۷۸۹")}
_DIGITS |= {ord(arabic): str(value) for value, arabic in enumerate("٠١٢٣٤٥٦٧٨٩")}

_LETTERS = {
    "\u064a": "\u06cc", "\u0649": "\u06cc",  # ي ى -> ی
    "\u0643": "\u06a9", "\u06aa": "\u06a9",  # ك ڪ -> ک
    "\u0629": "\u0647", "\u06c0": "\u0647", "\u06c1": "\u0647", "\u06d5": "\u0647",  # ة ۀ ہ ە -> ه
    "\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627",  # آ أ إ ٱ -> ا
}

_IGNORED = (
    "\u0640"  # tatweel
    "\u0670"  # superscript alef
    "\u200b\u200c\u200d\ufeff"  # zero-width space, non-joiner, joiner, BOM
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # direction marks and isolates
) + "".join(chr(code) for code in range(0x064B, 0x0660))  # harakat

_TABLE = str.maketrans({**_DIGITS, **{ord(k): v for k, v in _LETTERS.items()}, **{ord(c): None for c in _IGNORED}})


def ascii_digits(text: str) -> str:
    """`text` with Persian and Arabic-Indic digits written as ASCII digits, nothing else changed."""
    return text.translate(_DIGITS)


def normalize_for_search(text: str | None) -> str:
    """The form in which names are stored for search and the query is compared (see the module)."""
    if not text:
        return ""
    # NFKC first: it turns presentation forms (ﻙ, ﻱ) into the letters the table then folds, and it
    # may itself produce marks (a ligature with a vowel), which the table then drops.
    text = unicodedata.normalize("NFKC", text).translate(_TABLE)
    return " ".join(text.casefold().split())
