"""Turn the raw bytes of a page into text without silent mojibake.

Order of evidence: a BOM, then the charset of the Content-Type header, then the
page's own ``<meta>`` declaration (also the malformed ``httpequiv`` spellings
that w3lib's regex misses), then statistical detection.  A declared encoding
is only believed if the bytes decode cleanly with it: 范文 sites send headers
that disagree with their ``<meta>``, and a wrong header must not beat a right
``<meta>`` (docs/site-families.md, "Encodings and charset quirks").  Undeclared
CJK bytes are read as GB18030 or Big5, whichever gives Han characters that real
prose is made of.

A page that is text keeps no stray control characters (a NUL or a 0x05–0x08
byte left in by an old CMS or a mirror's converter): they are dropped and
counted, so that the page is not taken for binary data and lxml does not turn
a NUL into U+FFFD inside a sentence.  Binary data keeps them, for the census to
reject it.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
)

from pipelines.han_kinds import HAN_BLOCK_END, HAN_BLOCK_KINDS, HAN_BLOCK_START

# GB2312/GBK declarations routinely cover GBK-only or GB18030-only characters
# (镕, 堃, 喆); GB18030 is a strict superset, so decode every GB* as GB18030.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "hz-gb-2312", "euc-cn", "x-gbk", "csgb2312"}

# The malformed spellings seen in the wild: httpequiv="ContentType", charset
# without quotes, stray spaces.  Only the head of the document is searched.
_LENIENT_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-]{2,30})""", re.I)


# Charsets under which every byte sequence is "valid": a header claiming one is
# the server's default (requests #1150), not evidence about the page.
_DECODES_ANYTHING = {"latin-1", "iso8859-1", "cp1252", "iso8859-15"}


_HIGH_BYTES = bytes(range(0x81, 0x100))


def _looks_cjk_multibyte(body: bytes) -> bool:
    """High bytes in pairs, as in GBK/GB18030 or Big5 text; a Western page has few."""
    head = body[:20000]
    high = len(head) - len(head.translate(None, _HIGH_BYTES))  # counted in C, by deleting them
    return high > 0.05 * len(head)


# Tried in this order on undeclared CJK bytes that are not UTF-8; Big5 text often decodes
# as GB18030 without an error (into private-use code points and rare characters), so a
# clean decoding is not enough: the census of each decides.  big5hkscs is what w3lib
# reads a Big5 declaration as; cp950 adds Microsoft's codes (the euro sign) to it.
_CJK_CANDIDATES = ("gb18030", "big5hkscs", "cp950")


@dataclass(frozen=True)
class DecodedHtml:
    text: str
    encoding: str  # the codec actually used
    declared: str | None  # what the header/meta/BOM claimed, normalised
    source: str  # "bom", "header", "meta", "forced", "detected"
    lossy: bool  # True when no candidate decoded cleanly and replacement characters were inserted
    dropped_controls: int = 0  # stray control characters removed from ``text`` (see the module docstring)
    # The census of ``text`` when detection already took it (extraction takes one of every page).
    census: TextCensus | None = dataclasses.field(default=None, compare=False, repr=False)


@functools.lru_cache(maxsize=256)
def normalise_encoding(name: str | None) -> str | None:
    """Canonical codec name for a declared charset, or None if Python does not know it."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    if name in _GB_FAMILY or canonical in _GB_FAMILY:
        return "gb18030"
    return canonical


def _meta_encoding(body: bytes) -> str | None:
    head = body[:4096]
    declared = html_body_declared_encoding(head)
    if declared:
        return declared
    match = _LENIENT_META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _strict_decode(body: bytes, encoding: str) -> str | None:
    if encoding == "gb18030":
        # CPython's GBK codec is a quarter faster, and reads every byte sequence it accepts as
        # GB18030 does (tests/test_decoding.py compares all of them): GB18030 only for the rest.
        try:
            return body.decode("gbk")
        except UnicodeDecodeError:
            pass
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _declared_encodings(body: bytes, content_type: str | None, forced_encoding: str | None) -> Iterator[tuple[str, str]]:
    """(source, name) of each encoding the page is said to be in, in the order they are believed.

    A generator: the <meta> declaration is only looked for when the header's
    encoding did not decode the page (on most pages it does).
    """
    if forced_encoding:
        yield "forced", forced_encoding
    header = _header_encoding(content_type) if content_type else None
    if header:
        yield "header", header
    meta = _meta_encoding(body)
    if meta:
        yield "meta", meta


@functools.lru_cache(maxsize=256)
def _header_encoding(content_type: str) -> str | None:
    # A crawl sees a handful of distinct Content-Type values, each on thousands of pages.
    return http_content_type_encoding(content_type)


def decode_html(body: bytes, content_type: str | None = None, forced_encoding: str | None = None) -> DecodedHtml:
    """Decode ``body`` using BOM, header, ``<meta>``, then detection; see the module docstring."""
    decoded = _decode(body, content_type, forced_encoding)
    if _ascii_transparent(decoded.encoding) and not _has_control_bytes(body):
        return decoded  # nearly every page: no control character can be in its text
    return _without_stray_controls(decoded)


def _decode(body: bytes, content_type: str | None, forced_encoding: str | None) -> DecodedHtml:
    bom_encoding, bom = read_bom(body)
    encoding: str | None
    if bom_encoding and bom:
        encoding = normalise_encoding(bom_encoding) or "utf-8"
        text = _strict_decode(body[len(bom):], encoding)
        if text is not None:
            return DecodedHtml(text, encoding, encoding, "bom", False)

    declared = None
    weak: list[tuple[str, str]] = []
    for source, name in _declared_encodings(body, content_type, forced_encoding):
        encoding = normalise_encoding(name)
        if encoding is None:
            continue
        declared = declared or encoding
        if encoding in _DECODES_ANYTHING and source != "forced":
            weak.append((source, encoding))
            continue
        text = _strict_decode(body, encoding)
        if text is not None:
            return DecodedHtml(text, encoding, declared, source, False)
    # A single-byte Western charset decodes any bytes, so it proves nothing;
    # believe it only if it is all there is and the bytes are not UTF-8.

    if not body:
        return DecodedHtml("", declared or "utf-8", declared, "detected", False)

    text = _strict_decode(body, "utf-8")
    if text is not None:
        return DecodedHtml(text, "utf-8", declared, "detected", False)
    text = _nearly_utf8(body)
    if text is not None:
        return DecodedHtml(text, "utf-8", declared, "detected", True)
    # This archive reads Chinese sites: undeclared non-UTF-8 CJK is GB18030 (or, on
    # Traditional-script sites, Big5) far more often than anything a general detector
    # guesses on a short page.
    if _looks_cjk_multibyte(body):
        detected = _detect_cjk(body)
        if detected is not None:
            encoding, text, lossy, census = detected
            return DecodedHtml(text, encoding, declared, "detected", lossy, census=census)
    if weak:
        source, encoding = weak[0]
        # Not quite anything: cp1252 (what w3lib reads an ISO-8859-1 header as) leaves five bytes undefined.
        text = _strict_decode(body, encoding)
        if text is not None:
            return DecodedHtml(text, encoding, declared, source, False)
        return DecodedHtml(body.decode(encoding, errors="replace"), encoding, declared, source, True)

    # Stray control bytes (NULs above all) make the detector guess UTF-16 or UTF-32.
    import charset_normalizer  # the last resort: most pages never need it, and it loads slowly

    best = charset_normalizer.from_bytes(body.translate(None, _CONTROL_BYTES)).best()
    if best is not None:
        encoding = normalise_encoding(best.encoding) or best.encoding
        text = _strict_decode(body, encoding)
        if text is not None:
            return DecodedHtml(text, encoding, declared, "detected", False)
        return DecodedHtml(body.decode(encoding, errors="replace"), encoding, declared, "detected", True)

    fallback = declared or "gb18030"
    return DecodedHtml(body.decode(fallback, errors="replace"), fallback, declared, "detected", True)


def _nearly_utf8(body: bytes) -> str | None:
    """The page as UTF-8 when only a few of its characters are broken (a byte lost, a title cut).

    UTF-8 resynchronises at the next character, so one bad byte costs one replacement
    character; bytes of another multi-byte charset read as UTF-8 break at most of their
    characters, so a share of one in a hundred cannot be reached by them.
    """
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore")) - broken
    return text if broken <= _UTF8_BROKEN_SHARE * non_ascii else None


_UTF8_BROKEN_SHARE = 0.01


def _detect_cjk(body: bytes) -> tuple[str, str, bool, TextCensus] | None:
    """(encoding, text, lossy, census) of the candidate whose decoding reads most like Chinese prose.

    Clean decodings first.  When none decodes cleanly, the page may still be in one of them
    with a few broken byte pairs (a GBK page saved with a bad byte, a file cut and joined):
    the candidate whose lossy decoding has few replacement characters and reads as prose
    wins.  A general detector, asked instead, names a single-byte charset for such a page and
    turns all of its Chinese into Latin letters.
    """
    best: tuple[int, str, str, TextCensus] | None = None
    for encoding in _CJK_CANDIDATES:
        text = _strict_decode(body, encoding)
        if text is None:
            continue
        census = TextCensus.of(text)
        if census.han >= _MIN_HAN_FOR_VERDICT and not census.garbled:
            return encoding, text, False, census  # GBK, the usual case, costs one decoding and one census
        # Rare characters and private-use code points are what a wrong CJK decoding makes;
        # on a page too short for a verdict, the better of the candidates still tells.
        fit = census.han_common - (census.han - census.han_common) - census.private_use
        if best is None or fit > best[0]:
            best = fit, encoding, text, census
    if best is not None:
        return best[1], best[2], False, best[3]
    for encoding in _CJK_CANDIDATES:
        text = body.decode(encoding, errors="replace")
        census = TextCensus.of(text)
        if (census.han >= _MIN_HAN_FOR_VERDICT and not census.garbled
                and text.count("\ufffd") <= max(_FEW_REPLACEMENTS, _LOSSY_SHARE * census.han)):
            return encoding, text, True, census
    return None


# A lossy CJK decoding is believed when its replacement characters are this few: a page
# in the wrong double-byte charset breaks on a large share of its pairs, not on a handful.
_FEW_REPLACEMENTS = 5
_LOSSY_SHARE = 0.002


# Control characters other than whitespace (TAB, LF, FF, CR): no text has them on purpose.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_CONTROL_CHARS = re.compile(f"[{re.escape(_CONTROL_BYTES.decode('ascii'))}]")
# A page with more of them (and replacement characters) than this share of its census
# sample is binary data: random bytes are about one in eight control characters.  At least
# the census's own 1 %, so that a page kept with its controls is one the census rejects.
_STRAY_CONTROL_SHARE = 0.05


@functools.lru_cache(maxsize=64)
def _ascii_transparent(encoding: str) -> bool:
    """True when a control character of the text can only come from that very byte.

    So for UTF-8, GB18030, Big5 and the single-byte charsets; not for UTF-16, the
    ISO-2022 family (escape bytes), UTF-7 or EBCDIC, whose texts are searched instead.
    """
    ascii_bytes = bytes(range(0x80))
    try:
        return ascii_bytes.decode(encoding) == ascii_bytes.decode("ascii")
    except (UnicodeDecodeError, LookupError):
        return False


def _has_control_bytes(body: bytes) -> bool:
    # Deleting them with bytes.translate is one pass in C over the page (a character-class
    # regex scan cost ten times the decoding itself on a 250 KB page).
    return len(body.translate(None, _CONTROL_BYTES)) != len(body)


def _without_stray_controls(decoded: DecodedHtml) -> DecodedHtml:
    # NULs at the very end of a page are padding (a preallocated file, a download cut short);
    # a body of nothing but NULs is no page.
    text = decoded.text.rstrip("\x00")
    census = TextCensus.of(text)
    if not text.strip() or census.controls + census.replacements > _STRAY_CONTROL_SHARE * census.chars:
        return decoded  # binary data
    cleaned = _CONTROL_CHARS.sub("", text)
    dropped = len(decoded.text) - len(cleaned)
    return dataclasses.replace(decoded, text=cleaned, dropped_controls=dropped, census=None) if dropped else decoded


# Both checks below read the first _SAMPLE characters of a decoded page as a census of
# code point kinds: the non-ASCII characters (a minority of an HTML page) are mapped to one
# letter per kind by str.translate and the letters counted, all in C; the ASCII ones can only
# be controls or "other" (they run on every page; benchmarks/write_path_profile.py times them).
_SAMPLE = 20_000
_OTHER, _CONTROL, _REPLACEMENT, _PRIVATE_USE, _HAN_COMMON, _HAN_RARE = range(6)


def _han_in_charset(encoding: str, lead_bytes: range, trail_bytes: tuple[range, ...]) -> set[str]:
    """The Han characters that ``encoding`` (a double-byte charset) encodes with one of ``lead_bytes``.

    Every two-byte code of those rows is decoded at once (one codec call in C); codes the
    charset leaves unassigned are skipped.  Each code is followed by a NUL, so that an
    unassigned one cannot lend its trail byte to the next code as a lead byte.
    """
    trails = b"".join(bytes(trail_range) for trail_range in trail_bytes)
    codes = bytearray(3 * len(trails) * len(lead_bytes))
    for row, lead in enumerate(lead_bytes):
        start = 3 * len(trails) * row
        codes[start:start + 3 * len(trails):3] = bytes((lead,)) * len(trails)
        codes[start + 1:start + 3 * len(trails):3] = trails
    decoded = bytes(codes).decode(encoding, errors="ignore")
    return {char for char in decoded if HAN_BLOCK_START <= ord(char) < HAN_BLOCK_END}


def _gb2312_han() -> set[str]:
    """The Han characters of GB2312: the 6,763 that make up nearly all real Chinese prose."""
    return _han_in_charset("gb2312", range(0xA1, 0xF8), (range(0xA1, 0xFF),))


def _big5_frequent_han() -> set[str]:
    """Big5's level 1, its 5,401 frequent characters (lead bytes 0xA4–0xC6): what GB2312 is to
    Simplified prose, for Traditional-script prose (mirror sites, Taiwan and Hong Kong pages).
    2,073 of them are not in GB2312."""
    return _han_in_charset("big5", range(0xA4, 0xC7), (range(0x40, 0x7F), range(0xA1, 0xFF)))


def han_block_kinds_from_codecs() -> str:
    """``han_kinds.HAN_BLOCK_KINDS`` as Python's codecs give it: one letter per code point of
    U+4E00–U+9FFF, the common kind's for GB2312's and Big5's frequent characters.

    Shipped precomputed (``scripts/generate_han_kinds.py``): building it here at every start
    cost a tenth of the cleaning core's import time.  tests/test_decoding.py compares the two.
    """
    common = _gb2312_han() | _big5_frequent_han()
    return "".join(_KIND_LETTERS[_HAN_COMMON if chr(code) in common else _HAN_RARE]
                   for code in range(HAN_BLOCK_START, HAN_BLOCK_END))


_KIND_LETTERS = "ocrphx"  # one letter per kind, in the order of the kind numbers


def _kind_table() -> str:
    """A translate table: the character at index N is the letter of code point N's kind."""
    # Built as bytes (slice assignments run in C), one ASCII letter per code point.
    table = bytearray(_KIND_LETTERS[_OTHER].encode("ascii") * 0x10000)

    def fill(codes: range, kind: int) -> None:
        table[codes.start:codes.stop] = _KIND_LETTERS[kind].encode("ascii") * len(codes)

    # Control characters other than whitespace: text never has them, binary data decoded
    # as text is full of them (random bytes: about one in eight).
    for code in (*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F):
        fill(range(code, code + 1), _CONTROL)
    fill(range(0xFFFD, 0xFFFE), _REPLACEMENT)
    fill(range(0xE000, 0xF900), _PRIVATE_USE)
    table[HAN_BLOCK_START:HAN_BLOCK_END] = HAN_BLOCK_KINDS.encode("ascii")
    return table.decode("ascii")


_KINDS = _kind_table()
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
_ASCII_BYTES = bytes(range(0x80))


def _all_bytes_but(kept: range) -> bytes:
    """The bytes outside ``kept``: what ``bytes.translate`` deletes to count the ones inside."""
    return bytes(byte for byte in range(0x100) if byte not in kept)


_ALL_BUT_HAN_HIGH_BYTES = _all_bytes_but(range(HAN_BLOCK_START >> 8, HAN_BLOCK_END >> 8))
_ALL_BUT_PRIVATE_USE_HIGH_BYTES = _all_bytes_but(range(0xE0, 0xF9))
_ALL_BUT_GB2312_HAN_LEADS = _all_bytes_but(range(0xB0, 0xF8))


_BINARY_SHARE = 0.01
# Mis-decoded text (UTF-8 read as GBK, or the reverse) is still made of CJK characters,
# but mostly of rare ones: real Chinese prose keeps >97% of its characters inside the
# 6,763 of GB2312 (the replica corpus: all its texts), Traditional prose inside Big5's
# level 1; UTF-8 read as GB18030 keeps under half, GBK read as Big5 under two thirds
# (tests/test_decoding.py measures both on the corpus).
_MIN_HAN_FOR_VERDICT = 50
_MIN_COMMON_SHARE = 0.8
# Wrong decodings leave at most two thirds of their Han characters common (UTF-8 read as GB18030:
# about 0.45; GBK read as Big5: about 0.6); real text keeps nearly all of them.
_VOUCHING_SHARE = 0.95


@dataclass(frozen=True)
class TextCensus:
    """What the first 20,000 characters of a decoded page are made of; one pass, both verdicts."""

    chars: int
    controls: int
    replacements: int
    private_use: int
    han: int  # U+4E00–U+9FFF
    han_common: int  # of which in GB2312 or Big5's level 1

    @classmethod
    def of(cls, text: str) -> TextCensus:
        sample = text[:_SAMPLE]
        ascii_part = sample.encode("ascii", "ignore")
        controls = len(ascii_part) - len(ascii_part.translate(None, _CONTROL_BYTES))
        if len(ascii_part) == len(sample):
            return cls(len(sample), controls, 0, 0, 0, 0)
        # Han and private-use characters counted by the high byte of their UTF-16 code unit
        # (a character beyond the BMP is two surrogates, outside both ranges), and the Han
        # ones GB2312 holds by the lead byte of their GB2312 code (0xB0–0xF7: its Han rows);
        # bytes.translate runs a 256-entry table in C, where str.translate looks each
        # character up in a 65,536-entry one.  When every Han character is in GB2312 (most
        # pages), all are common; otherwise Big5's level 1 counts too, and the table decides.
        high_bytes = sample.encode("utf-16-be", "surrogatepass")[::2]
        han = len(high_bytes.translate(None, _ALL_BUT_HAN_HIGH_BYTES))
        if han:
            gb2312_pairs = sample.encode("gb2312", "ignore").translate(None, _ASCII_BYTES)
            if len(gb2312_pairs[::2].translate(None, _ALL_BUT_GB2312_HAN_LEADS)) != han:
                return cls._by_table(sample, controls)
        private_use = len(high_bytes.translate(None, _ALL_BUT_PRIVATE_USE_HIGH_BYTES))
        return cls(len(sample), controls, sample.count("\ufffd"), private_use, han, han)

    @classmethod
    def _by_table(cls, sample: str, controls: int) -> TextCensus:
        # A character beyond the BMP is past the table's end: str.translate leaves it as it is,
        # and it counts as "other".
        kinds = _ASCII_RUNS.sub("", sample).translate(_KINDS)
        counts = [kinds.count(letter) for letter in _KIND_LETTERS]
        return cls(len(sample), controls + counts[_CONTROL], counts[_REPLACEMENT], counts[_PRIVATE_USE],
                   counts[_HAN_COMMON] + counts[_HAN_RARE], counts[_HAN_COMMON])

    @property
    def binary(self) -> bool:
        """Decoded bytes that are not a text document (an image, a zip, random data)."""
        return self.chars > 0 and self.controls + self.replacements > _BINARY_SHARE * self.chars

    @property
    def mojibake(self) -> bool:
        """Text in a wrong decoding: mostly rare CJK characters, private-use code points,
        replacement characters (a few are tolerated: a page cut inside a character has one).

        Binary data (control characters) is not mojibake: ``binary`` reports it.
        """
        if not self.chars or self.controls > _BINARY_SHARE * self.chars:
            return False
        return self.garbled

    @property
    def garbled(self) -> bool:
        """The characters are those of a wrong decoding, whatever else the text holds."""
        vouched = self.han >= _MIN_HAN_FOR_VERDICT and self.han_common >= _VOUCHING_SHARE * self.han
        # Private-use code points and replacement characters: what a wrong multi-byte decoding leaves.
        # Private-use ones beside Han characters that are nearly all common are the page's own
        # glyphs (the GBK user-defined area, which old pages use for symbols), not a wrong decoding.
        suspicious = self.replacements + (0 if vouched else self.private_use)
        if suspicious > max(5, 0.01 * self.han):
            return True
        if self.han < _MIN_HAN_FOR_VERDICT:
            return False
        return self.han_common < _MIN_COMMON_SHARE * self.han


def looks_like_binary(text: str) -> bool:
    return TextCensus.of(text).binary

