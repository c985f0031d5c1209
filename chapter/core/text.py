"""Text helpers shared by every feature: one way to compare names, one way to search with LIKE."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
LIKE_ESCAPE = "\\"


def fold(text: str | None) -> str:
    """A name as compared by people: case, accents, Unicode form (NFC/NFD), ß/ss and extra spaces ignored.

    "Müller" (composed or decomposed), "Muller" and "MÜLLER" fold alike; "Strauß" folds like "Strauss".
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", without_marks.casefold()).strip()


def like_escape(text: str) -> str:
    """`text` with LIKE's wildcards (% and _) and the escape character matched literally.

    Use with `column.like(pattern, escape=LIKE_ESCAPE)`.
    """
    return (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
                .replace("%", LIKE_ESCAPE + "%")
                .replace("_", LIKE_ESCAPE + "_"))


def contains_pattern(text: str) -> str:
    """A LIKE pattern that finds `text` anywhere, its own % and _ taken literally (escape=LIKE_ESCAPE)."""
    return f"%{like_escape(text)}%"
