"""Traditional-script mirror artefacts (docs/site-families.md, "Traditional-script mirrors").

Mirror sites machine-convert simplified originals and leave pinyin in brackets
after converted characters ("領(lǐng)導(dǎo)") and escaped line breaks as the
literal text "x0dx0a".  Both are removed; the characters themselves are kept as
the page has them (no script conversion: the text is not a derived copy).
Fixtures: ``gold/mirror_*``.
"""

from __future__ import annotations

import re

_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_PINYIN_AFTER_HAN = re.compile(rf"(?<={_HAN})[(（]([a-zü{_TONE_VOWELS}]{{1,7}})[)）]")
_TONE_MARK = re.compile(f"[{_TONE_VOWELS}]")
_ESCAPED_BREAK = re.compile(r"(?:x0dx0a)+")
_MIN_PINYIN = 2  # one bracketed word after a character may be an abbreviation; two with tone marks are a mirror


def has_mirror_pinyin(lines: list[str]) -> bool:
    if not any(_TONE_MARK.search(line) for line in lines):
        return False  # the common case, decided by one scan per line
    marked = 0
    for line in lines:
        for match in _PINYIN_AFTER_HAN.finditer(line):
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
        lines = [_retexted(line, _PINYIN_AFTER_HAN.sub("", line)) for line in lines]
    return lines


def _retexted(line: str, text: str) -> str:
    """``text`` keeping the marks of the line it came from (heading, link characters)."""
    with_text = getattr(line, "with_text", None)
    return with_text(text) if with_text else text
