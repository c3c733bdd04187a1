"""Traditional-script mirror artefacts (docs/site-families.md, "Traditional-script mirrors").

Mirror sites machine-convert simplified originals and leave pinyin in brackets
after converted characters ("領(lǐng)導(dǎo)") and escaped line breaks as the
literal text "x0dx0a".  Both are removed; the characters themselves are kept as
the page has them (no script conversion: the text is not a derived copy).
Fixtures: ``gold/mirror_*``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# Bracketed pinyin; it counts only right after a Han character, which is looked at in Python: a
# lookbehind on a class of CJK ranges cost a millisecond to compile at every start (re builds a
# bitmap of each code point in it).  A bracket never opens inside a match, so matches found
# without the lookbehind are the ones found with it, and more.
_PINYIN_IN_BRACKETS = re.compile(rf"[(（]([a-zü{_TONE_VOWELS}]{{1,7}})[)）]")
_TONE_MARK = re.compile(f"[{_TONE_VOWELS}]")
_ESCAPED_BREAK = re.compile(r"(?:x0dx0a)+")
_MIN_PINYIN = 2  # one bracketed word after a character may be an abbreviation; two with tone marks are a mirror


def _after_han(match: re.Match[str]) -> bool:
    start = match.start()
    if not start:
        return False
    char = match.string[start - 1]
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or "\uf900" <= char <= "\ufaff"


def _pinyin_after_han(line: str) -> Iterator[re.Match[str]]:
    return filter(_after_han, _PINYIN_IN_BRACKETS.finditer(line))


def _without_pinyin_after_han(match: re.Match[str]) -> str:
    return "" if _after_han(match) else match.group()


def has_mirror_pinyin(lines: list[str]) -> bool:
    if not any(_TONE_MARK.search(line) for line in lines):
        return False  # the common case, decided by one scan per line
    marked = 0
    for line in lines:
        for match in _pinyin_after_han(line):
            if _TONE_MARK.search(match.group(1)):
                marked += 1
                if marked >= _MIN_PINYIN:
                    return True
    return False


def strip_mirror_artefacts(lines: list[str]) -> list[str]:
    """Split lines at literal "x0dx0a"; remove bracketed pinyin when the page is a mirror."""
    if any("x0dx0a" in line for line in lines):
        split: list[str] = []
        for line in lines:
            split.extend(_retexted(line, part.strip()) for part in _ESCAPED_BREAK.split(line) if part.strip())
        lines = split
    if has_mirror_pinyin(lines):
        lines = [_retexted(line, _PINYIN_IN_BRACKETS.sub(_without_pinyin_after_han, line)) for line in lines]
    return lines


def _retexted(line: str, text: str) -> str:
    """``text`` keeping the marks of the line it came from (heading, link characters)."""
    with_text = getattr(line, "with_text", None)
    return with_text(text) if with_text else text
