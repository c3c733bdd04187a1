"""Exact and near-duplicate detection across the archive's texts.

When ten sites copy the same speech, a reader should see one text with ten sources.
This module is pure: texts in, clusters out.  ``archive.database`` stores what it
computes (the exact key, the signature and its LSH band keys per text, the cluster per
text).  ``cluster_texts`` clusters every text; ``update_clusters`` remakes only the
clusters that new and changed texts reach, reading the rest through a ``DuplicateIndex``
(the archive), and gives the same clusters.

Two kinds of duplicate:

* **exact** — the same characters once whitespace, punctuation and full-width
  ASCII are disregarded (``exact_key``).  Sites re-typeset texts: ASCII vs
  full-width commas, indentation with ideographic spaces, ``\r\n``.
* **near** — the same speech with small edits: a changed heading or title line,
  swapped placeholders (X县 → 某县, 202x年 → 20xx年, ××同志 → XX同志), an inserted
  paragraph, or a preview that stops after the first 40–60 % of the paragraphs.
  MinHash sketches (datasketch's scheme) of character shingles propose candidate pairs
  through LSH banding of two sketches; the exact shingle sets of the two texts confirm.

The trap is the genre itself: these texts are assembled from the same stock
phrases, so two *unrelated* speeches on one topic share a lot.  Measured on the
replica corpus (``replica.corpus``, whose texts share one phrase bank), the
closest unrelated pairs reach a shingle Jaccard of 0.6 and a containment of 0.8 with
5-character shingles (500 texts), 0.43 and 0.63 with the 12-character shingles used
here (5,000 texts), while edited copies keep ≥ 0.75 (they share long runs, which
long shingles reward).  Long shingles also keep the candidate lists short: at 5,000
texts, 105 pairs get an exact check with 12-character shingles, 1,100 with 9.
tests/test_dedup.py builds the planted corpus and pins precision and recall; among
100,000 generated texts with 2,000 planted copies, all copies and no unrelated pair
were clustered (48,000 exact checks).

Decision on previews: a truncated preview *is* a duplicate of its full text (the same
speech, cut short by the site).  Jaccard cannot see that (a preview of the first half
of the paragraphs can hold under 10 % of the characters, when the opening paragraphs
are short), so a pair is also confirmed when the smaller text's shingles are nearly
all in the larger one's (``CONTAINMENT``) — anywhere when the two are of comparable
length, otherwise only when they also start alike.  To propose previews at all, the
signature carries a second MinHash over the first ``HEAD_CHARS`` characters.

Texts from one template (a site's stock opening, a genre's set phrases) share band keys by
the hundred in a large archive; compared with all of them, each new text would cost more as
the archive grows.  A key admits its first ``BAND_CAP`` texts, and a pair is proposed through
it only when one of the two is admitted: a copy still meets the original it copies, and two
later texts that are the same speech share other keys, held by few texts, as well.
"""

from __future__ import annotations

import hashlib
import re
import string
import struct
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = [
    "CONTAINMENT",
    "HEAD_CHARS",
    "MIN_PREVIEW_SHINGLES",
    "MIN_SIZE_RATIO",
    "NUM_PERM",
    "SHINGLE",
    "THRESHOLD",
    "BAND_CAP",
    "ArchivedText",
    "ClusterUpdate",
    "Clusters",
    "DuplicateIndex",
    "TextForDedup",
    "band_keys",
    "band_scheme",
    "cluster_texts",
    "clustering_scheme",
    "exact_key",
    "normalised_for_hash",
    "normalised_for_shingles",
    "signature",
    "signature_is_current",
    "signature_params",
    "similarity",
    "update_clusters",
]

# -- parameters (see the module docstring; measured in tests/test_dedup.py) --------------------

SHINGLE = 12  # characters per shingle, counted on the normalised text
NUM_PERM = 128  # MinHash permutations per sketch (two sketches per signature, 4 bytes a value)
THRESHOLD = 0.7  # shingle Jaccard at which two texts are the same text
CONTAINMENT = 0.9  # ... or: share of the smaller text's shingles found in the larger
MIN_SIZE_RATIO = 0.25  # containment anywhere counts from this smaller/larger ratio; below, only previews
MIN_PREVIEW_SHINGLES = 100  # a preview must be at least this long to count (shortest planted: ~190)
MIN_SHINGLES = 20  # texts with fewer shingles only ever join by their exact key
HEAD_CHARS = 200  # the head sketch covers this many normalised characters (shortest previews: ~200)
HEADS_MATCH = 0.6  # head estimate from which two texts "start alike" (retitled copies: ~0.7)
# LSH (bands, rows) at NUM_PERM, banded as datasketch's MinHashLSH bands, for both sketches:
# 21 bands of 6 rows propose a pair with Jaccard 0.7 at 93 %, 0.75 at 98 %, 0.8 at 99.8 %, and 0.3 (unrelated texts on
# one topic) at 1.5 %.
LSH_BANDS = (21, 6)
# A band key's first BAND_CAP texts (smallest ids) are its *admitted* texts: a pair is proposed
# through a key only when one of the two is admitted there.  A later text still meets the key's
# first texts (a copy meets the original it copies, however many copies came before), but no
# longer every text that came after them: texts built from one template share band keys by the
# hundred in a large archive, and without the cap each new text met a fixed share of the archive.
# Measured on benchmarks/dedup_refresh.py's archive of 100,000 texts (3,835 planted pairs): a cap
# of 1 loses 2 pairs, 2 and 4 none; with 4, a new text's band keys name 9 earlier texts (35
# uncapped), and at most 4 each.  The archive's migration m010 writes the cap into triggers:
# changing it needs a migration too (tests/test_dedup_incremental.py compares the two).
BAND_CAP = 4
SCREEN_MARGIN = 0.15  # how far below the thresholds a MinHash estimate may fall and still get checked

_SEED = 1  # fixed: signatures stored in the archive must stay comparable
# The permutations are datasketch's "affine32" scheme (datasketch ≥ 2.0) at this seed; 4 bytes per hash value.
# shingle size, num_perm, head length (so stale signatures are detected), distinct shingles
_SIGNATURE_HEADER = struct.Struct("<BHHI")


@dataclass(frozen=True)
class TextForDedup:
    id: int
    text: str | None  # the clean text, paragraphs joined by "\n"; None: cluster_texts loads it if it needs it
    first_seen: str  # ISO timestamp; the oldest copy is the natural canonical
    truncated: bool  # a complete copy is a better canonical than a truncated preview
    site: str
    chars: int | None = None  # len(text), required when text is None

    @property
    def length(self) -> int:
        if self.text is not None:
            return len(self.text)
        assert self.chars is not None  # required when text is None
        return self.chars


@dataclass(frozen=True)
class Clusters:
    cluster_of: dict[int, int]  # text id -> cluster id (the smallest text id in the cluster)
    canonical_of: dict[int, int]  # cluster id -> id of the cluster's canonical text


# -- normalisation ---------------------------------------------------------------------------


def _is_cjk(char: str) -> bool:
    # Unified and compatibility ideographs, radicals: NFKC would rewrite some of them
    # (U+F900 → U+8C48, the Kangxi radical U+2F00 → 一), and content characters stay as they are.
    return unicodedata.name(char, "").startswith(("CJK ", "KANGXI RADICAL"))


def _is_dropped(char: str) -> bool:
    category = unicodedata.category(char)
    return (
        category[0] in "PZ"  # punctuation, separators (incl. the ideographic space U+3000)
        or category in ("Cc", "Cf")  # control characters, zero-width and BOM-like formatting
        or char.isspace()
        or char in string.punctuation  # ASCII symbols that Unicode files under S* (+ $ < = > ^ ` | ~)
    )


class _HashNormalisation(dict):
    """A ``str.translate`` table that fills itself: code point -> replacement or None.

    ``str.translate`` looks every character up in the table, so the per-character
    decision (drop / fold / keep) runs once per distinct character, then at C speed.
    """

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        if _is_dropped(char):
            value = None
        elif _is_cjk(char):
            value = char
        else:
            # Full-width ASCII (Ｘ, ２０２, ％) and other compatibility forms fold to their
            # plain form; a fold that yields punctuation (⒈ -> "1.") loses it like the rest.
            folded = "".join(c for c in unicodedata.normalize("NFKC", char) if not _is_dropped(c))
            value = folded or None
        self[code] = value
        return value


_HASH_TABLE = _HashNormalisation()


def _character_class(chars: Iterable[str]) -> str:
    """A regex character class of ``chars``, consecutive code points as ranges."""
    codes, parts = sorted(map(ord, chars)), []
    start = 0
    for index in range(1, len(codes) + 1):
        if index == len(codes) or codes[index] != codes[index - 1] + 1:
            first, last = chr(codes[start]), chr(codes[index - 1])
            parts.append(re.escape(first) + (f"-{re.escape(last)}" if last != first else ""))
            start = index
    return f"[{''.join(parts)}]"


# str.translate looks up every character in a Python dict; most characters
# map to themselves, so the dropped ones of the BMP go first, by one table lookup per
# code point in numpy (faster than a regex pass over a character class), and the
# table only sees a text that still holds a character NFKC would change (full-width
# forms, circled numbers, compatibility ideographs) or one outside the BMP.  Every other
# character is its own table value (tests/test_dedup.py checks the two agree).
_DROPPED = np.zeros(0x10001, dtype=bool)  # index 0x10000 stands for every code point beyond the BMP: kept
_DROPPED[[code for code in range(0x10000) if _is_dropped(chr(code))]] = True


def _without_dropped_bmp(text: str) -> str:
    # surrogatepass: a lone surrogate is kept, as the table would keep it.
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    kept = points[~_DROPPED.take(np.minimum(points, 0x10000))]
    return kept.tobytes().decode("utf-32-le", "surrogatepass")


_NEEDS_TABLE = re.compile(
    _character_class(
        chr(code) for code in range(0x10000)
        if unicodedata.normalize("NFKC", chr(code)) != chr(code) and not _is_dropped(chr(code))
    )[:-1] + "\U00010000-\U0010ffff]"
)


def normalised_for_hash(text: str) -> str:
    """The derived copy of ``text`` that the exact key hashes.

    Drops whitespace, punctuation and separators (Unicode P* and Z*, ASCII
    punctuation, control and formatting characters), folds full-width ASCII letters
    and digits to ASCII (NFKC, on this copy only), keeps every CJK character as is.
    """
    kept = _without_dropped_bmp(text)
    return kept.translate(_HASH_TABLE) if _NEEDS_TABLE.search(kept) else kept


# Template placeholders as these sites write them (docs/site-families.md, "Template placeholders";
# corpus.PLACEHOLDER_PATTERN):
# X县 / XX县 / ××县 / 某县, 202x年 / 20xx年 / 20__年, ____%.  Copies swap one spelling
# for another, so for shingling every spelling becomes one mark; digits glued to the
# marks (the "202" of 202x) go with them.  Underscores must be folded before the
# punctuation they belong to is dropped.
# The lookahead only names the characters a match can start with; it lets the regex
# engine skip the other positions instead of trying the optional digits at each.
_PLACEHOLDER = re.compile(r"(?=[0-9０-９XxＸｘ×_＿某])[0-9０-９]*(?:[XxＸｘ×]+|[_＿]{2,}|某+)[0-9０-９]*")
_PLACEHOLDER_MARK = "\u25a1"  # □, a symbol (So): survives normalised_for_hash


def normalised_for_shingles(text: str) -> str:
    """The derived copy of ``text`` that signatures shingle: placeholders folded, then normalised."""
    return normalised_for_hash(_PLACEHOLDER.sub(_PLACEHOLDER_MARK, text))


def exact_key(text: str) -> str:
    """sha256 (hex) of ``normalised_for_hash(text)``: equal for texts that differ only in layout."""
    return hashlib.sha256(normalised_for_hash(text).encode("utf-8")).hexdigest()


# -- shingles and signatures -----------------------------------------------------------------

_ROLL = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the polynomial shingle hash
_FOLD = np.uint64(32)


def _shingle_hashes(normalised: str, shingle: int) -> np.ndarray:
    """32-bit hashes of the ``shingle``-character substrings of ``normalised``, in text order.

    Vectorised: the code points become a uint32 array and each shingle's polynomial
    hash is built with ``shingle`` shifted array operations (uint64 wrap-around is
    the modulus), instead of hashing thousands of Python substrings one by one.
    """
    points = np.frombuffer(normalised.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if len(points) == 0:
        return np.empty(0, dtype=np.uint32)
    width = min(shingle, len(points))  # a text shorter than a shingle is one shingle
    count = len(points) - width + 1
    rolled = np.zeros(count, dtype=np.uint64)
    for offset in range(width):
        rolled = rolled * _ROLL + points[offset:offset + count]
    return (rolled ^ (rolled >> _FOLD)).astype(np.uint32)


def _shingles_of(text: str, shingle: int) -> np.ndarray:
    """The text's shingle set: distinct hashes, sorted."""
    return _distinct(_shingle_hashes(normalised_for_shingles(text), shingle))


def _distinct(hashes: np.ndarray) -> np.ndarray:
    """``np.unique(hashes)``, by sorting: numpy 2's hash-table unique is much slower on these small arrays."""
    ordered = np.sort(hashes)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


_PERMUTATIONS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of datasketch's "affine32" permutations for ``num_perm`` and the fixed seed, as uint32.

    Drawn here as datasketch draws them (tests/test_dedup.py compares them with
    ``MinHash(...).permutations``): importing datasketch pulls in scipy, most of
    an archive writer's start-up, for two arrays.
    """
    if num_perm not in _PERMUTATIONS:
        draw = np.random.RandomState(_SEED)
        a = draw.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)  # odd: a bijection
        b = draw.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        _PERMUTATIONS[num_perm] = (a, b)
    return _PERMUTATIONS[num_perm]


def _premix(hashes: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, the bijection the affine32 scheme applies before permuting."""
    mixed = hashes ^ (hashes >> np.uint32(16))
    mixed *= np.uint32(0x85EBCA6B)
    mixed ^= mixed >> np.uint32(13)
    mixed *= np.uint32(0xC2B2AE35)
    return mixed ^ (mixed >> np.uint32(16))


# Shingles per step: a 128 × 8192 uint32 block (4 MB).  Laid out permutation by
# shingle, each permutation's minimum is a reduction over contiguous memory
# (benchmarks/write_path_profile.py times a signature against the straightforward version).
_MINHASH_COLUMNS = 8192


def _minhash(hashes: np.ndarray, num_perm: int) -> np.ndarray:
    """The hash values datasketch's ``update_batch`` would give from these 32-bit hashes, computed in numpy.

    Same permutations, scheme and values (tests/test_dedup.py compares them), so
    stored signatures stay comparable; it skips datasketch's per-value Python
    call and works on whole blocks of shingles.
    """
    a, b = _permutations(num_perm)
    values = np.full(num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
    mixed = _premix(hashes.astype(np.uint32))
    for start in range(0, len(mixed), _MINHASH_COLUMNS):
        block = np.multiply.outer(a, mixed[start:start + _MINHASH_COLUMNS])  # uint32: wrapping is the scheme's mod 2^32
        block += b[:, None]
        np.minimum(values, block.min(axis=1), out=values)
    return values


@dataclass(frozen=True)
class _Sketch:
    whole: np.ndarray  # MinHash (uint32 hash values) of all shingles
    head: np.ndarray  # MinHash of the shingles of the first HEAD_CHARS characters
    size: int  # distinct shingles in the text


def _sketch_of(text: str, shingle: int, num_perm: int, head_chars: int) -> _Sketch:
    hashes = _shingle_hashes(normalised_for_shingles(text), shingle)
    whole = _distinct(hashes)
    head = hashes[: max(1, head_chars - shingle + 1)]  # a MinHash is the same over repeated values
    return _Sketch(_minhash(whole, num_perm), _minhash(head, num_perm), len(whole))


def _encode(sketch: _Sketch, shingle: int, head_chars: int) -> bytes:
    header = _SIGNATURE_HEADER.pack(shingle, len(sketch.whole), head_chars, sketch.size)
    return header + sketch.whole.astype("<u4").tobytes() + sketch.head.astype("<u4").tobytes()


def _decode(sig: bytes) -> tuple[tuple[int, int, int], _Sketch]:
    shingle, num_perm, head_chars, size = _SIGNATURE_HEADER.unpack_from(sig)
    values = np.frombuffer(sig, dtype="<u4", offset=_SIGNATURE_HEADER.size)
    if len(values) != 2 * num_perm:
        raise ValueError(f"signature of {len(sig)} bytes does not hold 2 × {num_perm} hash values")
    whole, head = values[:num_perm].astype(np.uint32), values[num_perm:].astype(np.uint32)
    return (shingle, num_perm, head_chars), _Sketch(whole, head, size)


# A stored signature at this module's defaults, as one record: a block of them is read with
# one numpy call instead of one decode per signature (the refresh reads many per new text).
_SIGNATURE_RECORD = np.dtype([
    ("shingle", "u1"), ("num_perm", "<u2"), ("head_chars", "<u2"), ("size", "<u4"), ("values", "<u4", (2 * NUM_PERM,)),
])
assert _SIGNATURE_RECORD.itemsize == _SIGNATURE_HEADER.size + 2 * NUM_PERM * 4


@dataclass(frozen=True)
class _SketchRows:
    """Sketches as rows of two matrices, so that pairs of them are compared by indexing, not one by one."""

    row_of: dict[int, int]  # text id -> its row
    whole: np.ndarray  # texts × num_perm, uint32
    head: np.ndarray  # texts × num_perm, uint32
    size: np.ndarray  # distinct shingles of each text

    @classmethod
    def of(cls, sketches: Mapping[int, _Sketch]) -> _SketchRows:
        ids = list(sketches)
        if not ids:
            return cls({}, np.empty((0, NUM_PERM), np.uint32), np.empty((0, NUM_PERM), np.uint32), np.empty(0, np.int64))
        return cls(
            {text_id: row for row, text_id in enumerate(ids)},
            np.stack([sketches[text_id].whole for text_id in ids]),
            np.stack([sketches[text_id].head for text_id in ids]),
            np.array([sketches[text_id].size for text_id in ids], dtype=np.int64),
        )

    @classmethod
    def decoded(cls, signatures: Mapping[int, bytes]) -> _SketchRows:
        """The rows of stored signatures made at this module's defaults.

        One of other parameters is left out: its sketch cannot be compared with these, and
        no band key files it (``band_keys``), so it is never a refresh's candidate.
        """
        sized = [text_id for text_id, sig in signatures.items() if len(sig) == _SIGNATURE_RECORD.itemsize]
        records = np.frombuffer(b"".join(signatures[text_id] for text_id in sized), dtype=_SIGNATURE_RECORD)
        current = (records["num_perm"] == NUM_PERM) & (records["shingle"] == SHINGLE) & (records["head_chars"] == HEAD_CHARS)
        records = records[current]
        values = records["values"]
        return cls(
            {text_id: row for row, text_id in enumerate(np.array(sized, dtype=np.int64)[current].tolist())},
            np.ascontiguousarray(values[:, :NUM_PERM], dtype=np.uint32),
            np.ascontiguousarray(values[:, NUM_PERM:], dtype=np.uint32),
            records["size"].astype(np.int64),
        )

    def joined(self, other: _SketchRows) -> _SketchRows:
        offset = len(self.size)
        return _SketchRows(
            {**self.row_of, **{text_id: offset + row for text_id, row in other.row_of.items()}},
            np.concatenate([self.whole, other.whole]),
            np.concatenate([self.head, other.head]),
            np.concatenate([self.size, other.size]),
        )


def signature(text: str, *, num_perm: int = NUM_PERM, shingle: int = SHINGLE) -> bytes:
    """Two MinHashes of the text's character shingles, as bytes to keep in a BLOB.

    The first covers the whole text, the second only its first ``HEAD_CHARS``
    normalised characters: a preview and its full text start alike, so their heads
    match although their wholes differ.  Layout (little-endian): shingle size
    (uint8), num_perm (uint16), head length (uint16), distinct shingles (uint32),
    then 2 × num_perm uint32 hash values (datasketch's "affine32" scheme, seed 1):
    1,033 bytes at the defaults.  ``cluster_texts`` recomputes a signature whose
    header does not match its parameters instead of comparing unlike sketches.
    """
    if not 1 <= shingle <= 255 or not 2 <= num_perm <= 65535:
        raise ValueError("shingle must be in 1..255 and num_perm in 2..65535")
    return _encode(_sketch_of(text, shingle, num_perm, HEAD_CHARS), shingle, HEAD_CHARS)


def signature_params(sig: bytes) -> tuple[int, int, int]:
    """(shingle, num_perm, head length) a signature was made with."""
    shingle, num_perm, head_chars, _ = _SIGNATURE_HEADER.unpack_from(sig)
    return shingle, num_perm, head_chars


def signature_is_current(sig: bytes) -> bool:
    """Was ``sig`` made with this module's defaults?  A stored signature that is not is recomputed."""
    return signature_params(sig) == (SHINGLE, NUM_PERM, HEAD_CHARS)


def similarity(sig_a: bytes, sig_b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets (whole texts)."""
    params_a, sketch_a = _decode(sig_a)
    params_b, sketch_b = _decode(sig_b)
    if params_a != params_b:
        raise ValueError(f"signatures made with different parameters {params_a} and {params_b} cannot be compared")
    return _estimate(sketch_a.whole, sketch_b.whole)


# -- clustering ------------------------------------------------------------------------------


class _UnionFind:
    def __init__(self, ids: Iterable[int]) -> None:
        self.parent = {i: i for i in ids}

    def add(self, item: int) -> None:
        self.parent.setdefault(item, item)

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:  # the smaller id becomes the root: roots are the cluster ids
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


class _ShingleCache:
    """Exact shingle sets for confirming candidates, computed on demand, the latest few kept.

    Keeping all of them would cost ~10 KB per text (1 GB at 100,000 texts).
    """

    def __init__(self, texts: Mapping[int, str], shingle: int, size: int = 4096) -> None:
        self.texts, self.shingle, self.size = texts, shingle, size
        self.cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def __getitem__(self, text_id: int) -> np.ndarray:
        if text_id in self.cache:
            self.cache.move_to_end(text_id)
            return self.cache[text_id]
        hashes = _shingles_of(self.texts[text_id], self.shingle)
        self.cache[text_id] = hashes
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return hashes


@dataclass(frozen=True)
class _Candidate:
    a: int
    b: int
    heads_match: bool  # their first HEAD_CHARS characters are (nearly) the same


def _same_text(a: np.ndarray, b: np.ndarray, heads_match: bool, threshold: float) -> bool:
    """Confirm a candidate on the exact shingle sets: by Jaccard, or as a preview by containment."""
    small, large = sorted((len(a), len(b)))
    shared = len(np.intersect1d(a, b, assume_unique=True))
    if shared / (small + large - shared) >= threshold:
        return True
    if shared / small < CONTAINMENT:
        return False
    # Nearly all of the smaller text is in the larger one.  Of comparable length, that is
    # a copy wherever it sits; much shorter, only a preview (same start) counts, so that a
    # short text quoted inside a long 汇编 does not glue that 汇编's other texts to it.
    return small >= MIN_SIZE_RATIO * large or (heads_match and small >= MIN_PREVIEW_SHINGLES)


class _Texts(Mapping[int, str]):
    """The texts by id: those given, the others loaded (``load_texts``) when first asked for.

    A store that has every text's signature and exact key needs only the texts of
    the candidate pairs, a few in a thousand.
    """

    def __init__(self, by_id: Mapping[int, TextForDedup], load_texts: Callable[[Sequence[int]], Mapping[int, str]] | None):
        self.by_id, self.load_texts = by_id, load_texts

    def __getitem__(self, text_id: int) -> str:
        text = self.by_id[text_id].text
        if text is None:
            if self.load_texts is None:
                raise ValueError(f"text {text_id} was given without its text and without load_texts")
            text = self.load_texts([text_id])[text_id]
        return text

    def __iter__(self) -> Iterator[int]:
        return iter(self.by_id)

    def __len__(self) -> int:
        return len(self.by_id)


def _sketches(
    ids: Sequence[int], texts: Mapping[int, str], stored: Mapping[int, bytes], shingle: int, num_perm: int
) -> dict[int, _Sketch]:
    """Sketches of the texts that are long enough for near-duplicate matching."""
    sketches = {}
    for text_id in ids:
        sig = stored.get(text_id)
        if sig is not None and signature_params(sig) == (shingle, num_perm, HEAD_CHARS):
            sketch = _decode(sig)[1]
        else:  # missing, or made with other parameters
            sketch = _sketch_of(texts[text_id], shingle, num_perm, HEAD_CHARS)
        if sketch.size >= MIN_SHINGLES:
            sketches[text_id] = sketch
    return sketches


def _band_pairs(
    sketches: Mapping[int, _Sketch], part: str, params: tuple[int, int], num_perm: int, cap: int | None = None
) -> set[tuple[int, int]]:
    """Pairs (a < b) of texts whose ``part`` sketches agree on all the rows of at least one band.

    The banding of datasketch's MinHashLSH (band i is hash values i·rows … (i+1)·rows,
    bucketed by equality), done a band at a time over the matrix of all sketches:
    the same candidate pairs (tests/test_dedup.py compares them), without a
    Python call per text and band.  Each band's rows are folded into one 64-bit
    key and sorted as numbers; only the few keys held by two or more texts are
    looked at, and their texts grouped by the rows themselves, so a collision of
    folded keys never makes a pair.

    With ``cap``, a pair must also have one of its texts among the first ``cap`` texts
    (smallest ids) of the band's stored key (``band_keys``): the ``BAND_CAP`` rule.
    """
    bands, rows = params  # rows fix the S-curve's steepness; other num_perm scale the bands
    bands = max(2, bands * num_perm // NUM_PERM)
    ids = np.array(sorted(sketches), dtype=np.int64)
    if len(ids) < 2:
        return set()
    matrix = np.stack([getattr(sketches[text_id], part) for text_id in ids.tolist()])
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        block = matrix[:, band * rows:(band + 1) * rows]
        keys = _folded_keys(block)
        if cap is not None:
            # Ranked in the stored key's bucket, as the archive's band index ranks them: its top
            # bits, the texts of which a chance collision may mix, are the bucket.
            keys >>= np.uint64(64 - _BAND_KEY_BITS)
        order, runs = _equal_key_runs(keys)
        for start, stop in runs:
            buckets: dict[bytes, list[tuple[int, int]]] = {}
            for rank, row in enumerate(np.sort(order[start:stop]).tolist()):  # rows are in id order
                buckets.setdefault(block[row].tobytes(), []).append((rank, int(ids[row])))
            for members in buckets.values():  # a bucket of two or more texts: its pairs are candidates
                for index, (rank, text_id) in enumerate(members[:-1]):
                    if cap is not None and rank >= cap:
                        break  # neither this text nor a later one is admitted: no pair among them
                    pairs.update((text_id, other) for _, other in members[index + 1:])
    return pairs


def _folded_keys(block: np.ndarray) -> np.ndarray:
    """One uint64 per row of a uint32 matrix: equal rows give equal keys (unequal ones almost never do)."""
    columns = block.astype(np.uint64)
    keys = columns[:, 0].copy()
    for column in range(1, columns.shape[1]):
        keys *= _ROLL  # the shingle hash's odd multiplier; uint64 wrap-around is the modulus
        keys ^= columns[:, column]
    return keys


# -- band keys: the LSH buckets of one signature, for an index kept beside the archive -----------
#
# A stored band key is one bucket of one band of one sketch: the band's slot (whole-text bands
# first, then head bands) in the high bits, the top 32 bits of the band's folded rows below.
# 32 bits keep a key at six bytes in SQLite; a key two texts share by chance is harmless, since
# a pair is only proposed when the rows themselves agree (``_screened_pairs``).
_BAND_KEY_BITS = 32


def band_scheme() -> str:
    """What stored band keys depend on: keys made under another scheme must all be rebuilt."""
    return (
        f"affine32 seed {_SEED}, shingle {SHINGLE}, num_perm {NUM_PERM}, head {HEAD_CHARS}, "
        f"bands {LSH_BANDS}, min shingles {MIN_SHINGLES}, key bits {_BAND_KEY_BITS}"
    )


def clustering_scheme() -> str:
    """What stored clusters depend on: clusters made under another scheme need a full refresh."""
    return (
        f"{band_scheme()}; threshold {THRESHOLD}, containment {CONTAINMENT}, size ratio {MIN_SIZE_RATIO}, "
        f"preview {MIN_PREVIEW_SHINGLES}, heads {HEADS_MATCH}, margin {SCREEN_MARGIN}, band cap {BAND_CAP}"
    )


def _sketch_band_keys(sketches: Sequence[_Sketch]) -> np.ndarray:
    """Band keys (int64), a row per sketch: one per band of the whole-text sketch, then one per band of the head."""
    bands, rows = LSH_BANDS
    if not sketches:
        return np.empty((0, 2 * bands), dtype=np.int64)
    keys = []
    for slot, part in enumerate(("whole", "head")):
        matrix = np.stack([getattr(sketch, part)[: bands * rows] for sketch in sketches])
        # All bands of all sketches folded at once: one row of ``rows`` values per (sketch, band).
        folded = _folded_keys(matrix.reshape(-1, rows)).reshape(len(sketches), bands) >> np.uint64(64 - _BAND_KEY_BITS)
        band_slots = np.arange(slot * bands, (slot + 1) * bands, dtype=np.uint64)
        keys.append((band_slots << np.uint64(_BAND_KEY_BITS)) | folded)
    return np.concatenate(keys, axis=1).astype(np.int64)


def band_keys(sig: bytes) -> list[int]:
    """Band keys of a stored signature: the buckets its text is filed under, to find its candidates.

    No keys for a signature made with other parameters or of a text too short for near-duplicate
    matching (``MIN_SHINGLES``): such a text is never proposed, so it need not be filed.
    """
    if not signature_is_current(sig):
        return []
    sketch = _decode(sig)[1]
    return _sketch_band_keys([sketch])[0].tolist() if sketch.size >= MIN_SHINGLES else []


def _equal_key_runs(keys: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The order that sorts ``keys``, and the (start, stop) of each run of two or more equal keys in it."""
    order = np.argsort(keys)
    ordered = keys[order]
    repeats = np.flatnonzero(ordered[1:] == ordered[:-1])  # i: sorted keys i and i + 1 are equal
    if not len(repeats):
        return order, []
    run_starts = repeats[np.concatenate(([True], repeats[1:] != repeats[:-1] + 1))]
    run_ends = repeats[np.concatenate((repeats[1:] != repeats[:-1] + 1, [True]))] + 2
    return order, list(zip(run_starts.tolist(), run_ends.tolist()))


def _candidates(
    sketches: Mapping[int, _Sketch], representatives: Collection[int], threshold: float, num_perm: int
) -> Iterator[_Candidate]:
    """Pairs (a < b) of ``representatives`` worth confirming, in order: similar as wholes, or starting alike.

    Whole-text LSH banding finds copies with small edits.  It cannot find a preview
    (Jaccard ≈ the preview's share of its full text, below 0.1 for some) without
    proposing much of the corpus, since unrelated texts on one topic share stock
    phrases; but a preview keeps the start of its text, so a second banding over
    the heads proposes it.  The bands hold every text of ``sketches``, so that each
    key's first texts (``BAND_CAP``) are the ones the archive's band index ranks first.
    Pairs are screened on the sketches before anything exact is computed.
    """
    pairs = set().union(*(_band_pairs(sketches, part, LSH_BANDS, num_perm, BAND_CAP) for part in ("whole", "head")))
    for text_id, other in sorted(pairs):
        if text_id not in representatives or other not in representatives:
            continue
        heads_match = _screen(sketches[text_id], sketches[other], threshold)
        if heads_match is not None:
            yield _Candidate(text_id, other, heads_match)


def _screen(a: _Sketch, b: _Sketch, threshold: float) -> bool | None:
    """None when a proposed pair cannot be the same text; else whether the two start alike."""
    return _screen_counts(
        int(np.count_nonzero(a.whole == b.whole)), int(np.count_nonzero(a.head == b.head)), len(a.whole),
        a.size, b.size, threshold,
    )


def _screen_counts(
    whole_equal: int, head_equal: int, num_perm: int, size_a: int, size_b: int, threshold: float
) -> bool | None:
    """``_screen`` from the numbers of equal hash values of the two wholes and of the two heads.

    One function for the pair-by-pair screen and the one over arrays of pairs, so that the
    two take the same decisions, to the last bit of the arithmetic.
    """
    heads_match = head_equal / num_perm >= HEADS_MATCH
    # Starting alike matters to ``_same_text`` only for a preview much shorter than its text;
    # of comparable lengths, two texts are the same by Jaccard or containment, which the whole
    # sketches screen.  Texts from one template start alike by the thousand in a large archive:
    # sent to the exact check for their heads alone, they made most of the checks (on
    # benchmarks/dedup_refresh.py's 100,000 texts: 3.2 times fewer checks, the same clusters).
    small, large = sorted((size_a, size_b))
    if heads_match and small < MIN_SIZE_RATIO * large:
        return True
    return heads_match if _plausible(whole_equal / num_perm, size_a, size_b, threshold) else None


def _estimate(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of equal hash values (datasketch's ``jaccard``)."""
    return float(np.count_nonzero(a == b)) / len(a)


def _plausible(whole: float, size_a: int, size_b: int, threshold: float) -> bool:
    """Could the pair pass ``_same_text`` without matching heads?  Judged on the MinHash estimate ``whole``."""
    if whole >= threshold - SCREEN_MARGIN:
        return True
    small, large = sorted((size_a, size_b))
    if small < MIN_SIZE_RATIO * large:
        return False
    # |A ∩ B| = J / (1 + J) · (|A| + |B|): the estimate's error grows by large/small.
    return whole / (1 + whole) * (small + large) / small >= CONTAINMENT - 2 * SCREEN_MARGIN


def _canonical_rank(text: TextForDedup) -> tuple:
    # Complete before truncated, then the oldest copy, then the longest, then the smallest id.
    return (text.truncated, text.first_seen, -text.length, text.id)


def cluster_texts(
    texts: Sequence[TextForDedup],
    signatures: Mapping[int, bytes] | None = None,
    *,
    threshold: float = THRESHOLD,
    num_perm: int = NUM_PERM,
    shingle: int = SHINGLE,
    exact_keys: Mapping[int, str] | None = None,
    load_texts: Callable[[Sequence[int]], Mapping[int, str]] | None = None,
) -> Clusters:
    """Group exact and near-duplicate texts; pick each group's canonical text.

    ``signatures`` (text id -> ``signature()`` bytes) are used where they were made
    with ``shingle`` and ``num_perm``; missing or stale ones are computed, as are
    ``exact_keys`` (text id -> ``exact_key()``) not given.  A text given as None
    (with its ``chars``) is read through ``load_texts`` (ids -> texts) only when
    one of those must be computed or it is in a candidate pair.  The result depends only
    on the texts, their ids (``BAND_CAP`` admits a band key's smallest ids) and the parameters,
    not on their order.  The LSH banding (LSH_BANDS) is tuned for thresholds of about 0.7;
    much lower ones would also need more bands.
    """
    by_id = {text.id: text for text in texts}
    if len(by_id) != len(texts):
        raise ValueError("text ids must be unique")
    ids = sorted(by_id)
    groups = _UnionFind(ids)
    text_of = _Texts(by_id, load_texts)

    # 1. Exact duplicates: one representative per exact key pairs in the LSH.
    representative: dict[str, int] = {}
    exact_keys = exact_keys or {}
    for text_id in ids:
        key = exact_keys.get(text_id) or exact_key(text_of[text_id])
        if key in representative:
            groups.union(representative[key], text_id)
        else:
            representative[key] = text_id

    # 2. Near duplicates: two LSH indexes propose, exact shingle sets confirm.  Every text long
    # enough is banded, as the archive files every text, but only representatives pair.
    sketches = _sketches(ids, text_of, signatures or {}, shingle, num_perm)
    shingles = _ShingleCache(text_of, shingle)
    for pair in _candidates(sketches, set(representative.values()), threshold, num_perm):
        if groups.find(pair.a) == groups.find(pair.b):
            continue  # already joined: no proof needed
        if _same_text(shingles[pair.a], shingles[pair.b], pair.heads_match, threshold):
            groups.union(pair.a, pair.b)

    cluster_of = {text_id: groups.find(text_id) for text_id in ids}
    members: dict[int, list[TextForDedup]] = {}
    for text_id in ids:
        members.setdefault(cluster_of[text_id], []).append(by_id[text_id])
    canonical_of = {cluster: min(group, key=_canonical_rank).id for cluster, group in members.items()}
    return Clusters(cluster_of=cluster_of, canonical_of=canonical_of)


# -- incremental refresh ---------------------------------------------------------------------
#
# cluster_texts' clusters are the connected parts of a graph: texts with one exact key are
# joined; the first text (smallest id) of each key, its representative, is joined to another
# representative when a band proposes the pair and the shingle sets confirm it.  Whether
# two texts are joined depends on those two texts and on whether one of them is admitted
# (BAND_CAP) to a band key they share.  A text arriving with a larger id than all others
# changes no other text's admission; a text that changes (keeping its id) may move another
# text into a key's first BAND_CAP or out of them, and the store counts that text as changed
# too (the archive's band index does, by triggers).  So after some texts change (or arrive),
# an edge between two texts that did not change is still there, and only edges at the
# changed texts come or go, plus those of a representative whose key a changed text took
# over.  A stored cluster holding none of those texts therefore stays whole and can only
# grow, by an edge to a changed text; one holding one may come apart, so its members are
# joined again from their own edges.  update_clusters does exactly that, and so gives what
# cluster_texts gives over all the texts (tests/test_dedup_incremental.py compares them).


@dataclass(frozen=True)
class ArchivedText:
    """A stored text as the refresh sees it: what ranks it, its exact key, the cluster it was last given."""

    text: TextForDedup  # without its text (None): loaded only for a candidate pair
    exact_key: str
    cluster_id: int

    @property
    def id(self) -> int:
        return self.text.id


class DuplicateIndex(Protocol):
    """What ``update_clusters`` reads from a store of texts, signatures and band keys.

    The store holds, for every text, its exact key, its current signature filed under that
    signature's ``band_keys``, and the cluster the last refresh gave it; a text that entered or
    left a key's first ``BAND_CAP`` texts since then is among the changed ones.  archive.database
    is one.
    """

    def texts(self, ids: Collection[int]) -> dict[int, ArchivedText]:
        """Those of ``ids`` that are stored."""

    def cluster_members(self, cluster_ids: Collection[int]) -> dict[int, ArchivedText]:
        """Every text whose stored cluster is one of ``cluster_ids``."""

    def texts_with_keys(self, keys: Collection[str]) -> dict[int, ArchivedText]:
        """Every text whose exact key is one of ``keys``."""

    def first_with_keys(self, keys: Collection[str]) -> dict[str, int]:
        """Each key's smallest text id."""

    def filed_under(self, keys: Collection[int], excluding: Collection[int] = ()) -> dict[int, list[int]]:
        """Band key -> ids of the texts filed under it but ``excluding``, for those of ``keys`` that such a text holds."""

    def first_filed_under(self, keys: Collection[int], excluding: Collection[int], count: int) -> dict[int, list[int]]:
        """As ``filed_under``, but only the ``count`` smallest ids of each key."""

    def signatures(self, ids: Collection[int]) -> dict[int, bytes]:
        """Stored signatures of the texts' current contents."""

    def load_texts(self, ids: Sequence[int]) -> dict[int, str]:
        """The texts themselves."""


@dataclass(frozen=True)
class ClusterUpdate:
    """The clusters ``update_clusters`` made anew; every other stored cluster stands as it was."""

    members: dict[int, list[TextForDedup]]  # cluster id -> its texts
    canonical_of: dict[int, int]  # cluster id -> id of its canonical text
    replaced: set[int]  # stored cluster ids that no longer stand as they were (the new ids may reuse some)


_LOOKUP_CHUNK = 128  # representatives whose candidates are looked up together
_SCREEN_BLOCK = 2048  # candidates (or pairs) screened together: two 2048 × 128 uint32 matrices per sketch part


def _screened_pairs(
    pairs: Sequence[tuple[int, int]], sketches: Mapping[int, _Sketch] | _SketchRows, threshold: float,
    through: Sequence[int] | None = None,
) -> list[tuple[int, int, bool]]:
    """The pairs whose sketches share a band and pass ``_screen``, with whether they start alike.

    ``through`` gives, for each pair, the bands (bit i: slot i of ``band_keys``) it may share to
    count; None: any band.  A key two texts share by chance is told apart here, by the rows.
    The sketches are compared a block of pairs at a time in numpy; the decision itself is
    ``_screen_counts``, the one ``_candidates`` takes pair by pair.
    """
    rows = sketches if isinstance(sketches, _SketchRows) else _SketchRows.of(sketches)
    bands, band_rows = LSH_BANDS
    slots = np.uint64(1) << np.arange(2 * bands, dtype=np.uint64)
    num_perm = rows.whole.shape[1]
    kept = []
    for start in range(0, len(pairs), _SCREEN_BLOCK):
        block = pairs[start:start + _SCREEN_BLOCK]
        left = np.array([rows.row_of[a] for a, _ in block], dtype=np.intp)
        right = np.array([rows.row_of[b] for _, b in block], dtype=np.intp)
        equal = {part: getattr(rows, part)[left] == getattr(rows, part)[right] for part in ("whole", "head")}
        agreeing = np.concatenate(
            [equal[part][:, : bands * band_rows].reshape(len(block), bands, band_rows).all(axis=2) for part in ("whole", "head")],
            axis=1,
        )  # pair × slot: the band's rows agree
        if through is not None:
            allowed = np.array(through[start:start + _SCREEN_BLOCK], dtype=np.uint64)
            agreeing &= (allowed[:, None] & slots) != 0
        banded = np.flatnonzero(agreeing.any(axis=1))
        whole_equal = equal["whole"][banded].sum(axis=1).tolist()
        head_equal = equal["head"][banded].sum(axis=1).tolist()
        size_a, size_b = rows.size[left[banded]].tolist(), rows.size[right[banded]].tolist()
        for at, index in enumerate(banded.tolist()):
            heads_match = _screen_counts(whole_equal[at], head_equal[at], num_perm, size_a[at], size_b[at], threshold)
            if heads_match is not None:
                a, b = block[index]
                kept.append((a, b, heads_match))
    return kept


def update_clusters(
    index: DuplicateIndex, changed: Collection[int], *, threshold: float = THRESHOLD
) -> ClusterUpdate:
    """Remake the clusters that ``changed`` texts (new or with a new content) reach, as ``cluster_texts`` would.

    The index's stored clusters must be ``cluster_texts``' result over the texts as they
    stood before these changes, and every text's exact key, signature and band keys current.
    Work and memory grow with the changed texts, the clusters they were and come to be in,
    and their candidates, not with the archive: a new text meets at most ``BAND_CAP`` texts per
    band key (an older text the cap admits, when it changes, meets every text of the key), and
    only each key's first ``BAND_CAP`` texts are read, except for such a key.  Removed
    texts are not handled: the archive does not remove texts.
    """
    changed_texts = index.texts(changed)
    affected = {text.cluster_id for text in changed_texts.values()}
    # A changed text with a smaller id than its key's first unchanged text takes the key over:
    # that text stops being a representative and its edges go, so its cluster is remade too.
    first_unchanged: dict[str, ArchivedText] = {}
    for text in sorted(index.texts_with_keys({t.exact_key for t in changed_texts.values()}).values(), key=lambda t: t.id):
        if text.id not in changed_texts:
            first_unchanged.setdefault(text.exact_key, text)
    for text in changed_texts.values():
        taken_over = first_unchanged.get(text.exact_key)
        if taken_over is not None and text.id < taken_over.id:
            affected.add(taken_over.cluster_id)
    regrouped = {**index.cluster_members(affected), **changed_texts}

    groups = _UnionFind(regrouped)
    # A text outside the regrouped clusters stands for its whole stored cluster (negative, so
    # that a cluster's node is never a text's).
    def node(text: ArchivedText) -> int:
        if text.id in regrouped:
            return text.id
        groups.add(-1 - text.cluster_id)
        return -1 - text.cluster_id

    # Exact keys: each regrouped text joins its key's first text, which alone goes on to the bands.
    firsts = index.first_with_keys({text.exact_key for text in regrouped.values()})
    outside = index.texts([first for first in firsts.values() if first not in regrouped])
    representatives = []
    for text in regrouped.values():
        first = firsts[text.exact_key]
        if first == text.id:
            representatives.append(text.id)
        else:
            groups.union(node(text), node(regrouped.get(first) or outside[first]))

    # Near duplicates: the representatives' band keys propose, the exact shingle sets confirm.
    is_representative = set(representatives)
    by_id = {text.id: text.text for text in regrouped.values()}
    text_of = _Texts(by_id, index.load_texts)
    # Exact checks grow with the candidates; the few latest shingle sets serve a chunk's repeats.
    shingles = _ShingleCache(text_of, SHINGLE, size=256)
    representatives.sort()
    for start in range(0, len(representatives), _LOOKUP_CHUNK):
        chunk = representatives[start:start + _LOOKUP_CHUNK]
        sketches = _sketches(chunk, text_of, index.signatures(chunk), SHINGLE, NUM_PERM)
        chunk_rows = _SketchRows.of(sketches)
        keys_of = dict(zip(sketches, _sketch_band_keys(list(sketches.values())).tolist()))
        # The chunk's own texts are left out of the lookup (each would find itself under all its
        # keys) and put back here.
        # Each key's first texts alone decide which are admitted, so only those are read (a common
        # key holds more texts the larger the archive); a chunk's text admitted under a key whose
        # list was cut meets every text of the key, and reads that key whole.
        filed = index.first_filed_under(
            {key for keys in keys_of.values() for key in keys}, excluding=keys_of.keys(), count=BAND_CAP
        )
        cut = {key for key, ids in filed.items() if len(ids) >= BAND_CAP}
        for text_id, keys in keys_of.items():
            for key in keys:
                filed.setdefault(key, []).append(text_id)
        ranked = {key: sorted(set(ids)) for key, ids in filed.items()}  # each key's texts, first (admitted) ones first
        del filed
        whole = {key for text_id, keys in keys_of.items() for key in keys if key in cut and text_id in ranked[key][:BAND_CAP]}
        if whole:
            for key, ids in index.filed_under(whole, excluding=keys_of.keys()).items():
                ranked[key] = sorted({*ids, *(text_id for text_id, keys in keys_of.items() if key in keys)})
        # candidate -> the chunk's texts that proposed it -> the slots of the keys it was proposed through
        proposers: dict[int, dict[int, int]] = {}
        for text_id, keys in keys_of.items():
            for slot, key in enumerate(keys):
                filed_texts = ranked[key]
                admitted = filed_texts[:BAND_CAP]
                # An admitted text meets every text of the key; any other, only the admitted ones.
                for other in filed_texts if text_id in admitted else admitted:
                    if other != text_id and not (other in keys_of and other < text_id):  # a chunk's pair once
                        through = proposers.setdefault(other, {})
                        through[text_id] = through.get(text_id, 0) | 1 << slot
        del ranked
        # Candidates are read and screened a block at a time: memory stays bounded.
        screened: list[tuple[int, int, bool]] = []
        candidates = sorted(proposers)
        for block_start in range(0, len(candidates), _SCREEN_BLOCK):
            block = candidates[block_start:block_start + _SCREEN_BLOCK]
            # A filed text without a current signature is no longer stored (its rows outlived it).
            stored = _SketchRows.decoded(index.signatures([other for other in block if other not in sketches]))
            pairs = [
                (text_id, other, slots) for other in block if other in sketches or other in stored.row_of
                for text_id, slots in sorted(proposers[other].items())
            ]
            screened += _screened_pairs(
                [(text_id, other) for text_id, other, _ in pairs], chunk_rows.joined(stored), threshold,
                [slots for _, _, slots in pairs],
            )
        # Only representatives pair: a candidate outside may have an older text with its exact key.
        outside_texts = index.texts({other for _, other, _ in screened} - regrouped.keys())
        outside_firsts = index.first_with_keys({text.exact_key for text in outside_texts.values()})
        known = {**{i: t for i, t in outside_texts.items() if outside_firsts.get(t.exact_key) == i}, **regrouped}
        for text_id, other, heads_match in screened:
            if other not in known or (other in regrouped and other not in is_representative):
                continue
            a, b = node(regrouped[text_id]), node(known[other])
            if groups.find(a) == groups.find(b):
                continue  # already joined: no proof needed
            by_id.setdefault(other, known[other].text)
            if _same_text(shingles[text_id], shingles[other], heads_match, threshold):
                groups.union(a, b)

    # The remade clusters: every part that holds a regrouped text, with the stored clusters it took in.
    parts: dict[int, list[int]] = {}
    for item in list(groups.parent):
        parts.setdefault(groups.find(item), []).append(item)
    parts = {root: items for root, items in parts.items() if any(item >= 0 for item in items)}
    taken_in = {-1 - item for items in parts.values() for item in items if item < 0}
    members_of_taken: dict[int, list[TextForDedup]] = {}
    for text in index.cluster_members(taken_in).values():
        members_of_taken.setdefault(text.cluster_id, []).append(text.text)
    members: dict[int, list[TextForDedup]] = {}
    canonical_of: dict[int, int] = {}
    for items in parts.values():
        group = [
            member for item in items
            for member in (members_of_taken.get(-1 - item, []) if item < 0 else [regrouped[item].text])
        ]
        cluster = min(member.id for member in group)
        members[cluster] = group
        canonical_of[cluster] = min(group, key=_canonical_rank).id
    return ClusterUpdate(members=members, canonical_of=canonical_of, replaced=affected | taken_in)
