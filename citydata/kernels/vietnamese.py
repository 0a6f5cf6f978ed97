"""Small Vietnamese-language helpers shared by the cleaning modules (internal)."""

from __future__ import annotations

import re
import unicodedata

# The five tone marks as combining characters (huyền, sắc, ngã, hỏi, nặng).
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")

_INITIALS = (
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh",
    "p", "ph", "q", "qu", "r", "s", "t", "th", "tr", "v", "x",
)  # fmt: skip
_FINALS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t")
# vowel nuclei that may take a final consonant, and those that end in a glide (no final consonant)
_CLOSED = ("a ă â e ê i o ô ơ u ư y iê yê oa oă oe oo uâ uê uô uơ ươ uy uyê").split()
_OPEN = (
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu iêu yêu oai oay oeo uây uôi ươi ươu uya uyu"
).split()
_RHYMES = frozenset([c + f for c in _CLOSED for f in _FINALS] + _OPEN)
_TOKEN_SPLIT = re.compile(r"[\s!-/:-@\[-`{-~]+")


def strip_accents(text: str) -> str:
    """Remove every diacritic (đ/Đ become d/D); the result is ASCII for Vietnamese text."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_vietnamese_syllable(word: str) -> bool:
    """True when ``word`` is shaped like one Vietnamese syllable (initial, vowels, final, <= 1 tone)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for c in decomposed if c in TONE_MARKS)
    if tones > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
    return any(bare.startswith(i) and bare[len(i) :] in _RHYMES for i in _INITIALS)


def vietnamese_score(text: str) -> tuple[int, int]:
    """(valid, total) over the tokens of ``text`` that contain a non-ASCII character."""
    valid = total = 0
    for token in _TOKEN_SPLIT.split(text):
        if not token or token.isascii():
            continue
        total += 1
        if is_vietnamese_syllable(token):
            valid += 1
    return valid, total
