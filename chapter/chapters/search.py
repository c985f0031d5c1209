"""Finding chapters: by number, name, city, state or province (code or name) and postal code.

There are a few hundred chapters, so the match is decided in Python over (number, name, city, region,
postal code) rows, with the same `fold` as member search: accents and case are ignored. Each word of
the search must match the chapter:
- digits: the chapter number ("40", "#40"), or the start of the postal code (three digits or more);
- a two-letter state or province code ("PA"): chapters in that region only, so "PA" is not "Tampa";
- any other word: the start of a word of the name, the city or the region's full name ("valley",
  "penn", "reading");
and a search that is a whole region name ("New York", "Québec") or the start of a postal code with
its space ("M5V 2T6") matches as a whole.
"""
from __future__ import annotations

import re
from typing import Iterable, NamedTuple

from chapter.chapters.regions import REGIONS, region_code, region_name
from chapter.core.text import fold

_WORD = re.compile(r"[^\W_]+")  # letters and digits; % _ and other marks separate words
MIN_POSTAL_PREFIX = 3


class ChapterKeys(NamedTuple):
    id: int
    number: int
    name: str
    city: str | None
    region: str | None
    postal_code: str | None


def _postal(code: str | None) -> str:
    return fold(code).replace(" ", "").replace("-", "")


def chapter_matches(chapter: ChapterKeys, search: str) -> bool:
    """Whether the chapter is what `search` asks for (see the module's rules)."""
    text = fold(search.replace("#", " ").replace(",", " "))
    if not text:
        return True
    code = region_code(chapter.region)
    whole_region = region_code(text) if len(text) > 2 else None
    if whole_region is not None:
        return code == whole_region
    postal = _postal(chapter.postal_code)
    compact = text.replace(" ", "").replace("-", "")
    if postal and len(compact) >= MIN_POSTAL_PREFIX and postal.startswith(compact) and any(ch.isdigit() for ch in compact):
        return True
    words = _WORD.findall(" ".join(fold(part) for part in (chapter.name, chapter.city, region_name(chapter.region) or chapter.region)))
    tokens = _WORD.findall(text)
    if not tokens:
        return False  # only marks such as % or _: they are matched literally, and no name is made of them
    for token in tokens:
        if token.isdigit():
            if token == str(chapter.number) or (len(token) >= MIN_POSTAL_PREFIX and postal.startswith(token)):
                continue
            return False
        if len(token) == 2 and token.upper() in REGIONS:
            if code == token.upper():
                continue
            return False
        if not any(word.startswith(token) for word in words):
            return False
    return True


def matching_chapter_ids(chapters: Iterable[ChapterKeys], search: str) -> list[int]:
    """The ids of the chapters `search` finds."""
    return [chapter.id for chapter in chapters if chapter_matches(chapter, search)]
