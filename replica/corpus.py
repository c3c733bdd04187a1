"""Deterministic generator of synthetic Chinese official texts (讲话稿, 发言稿, 心得体会 ...).

The replica 范文 sites serve these texts on 127.0.0.1 so that the crawler and the
cleaner can be tested against a known truth.  Everything is assembled from the
hand-written phrase bank ``phrasebank.toml`` next to this module:

* a *setting* per text: place, department, topic, year, whether the text keeps
  template placeholders (X县, 202x年, ××同志, ____% ...);
* a *title* built from genre-specific patterns (在…上的讲话, …表态发言, …心得体会);
* a *layout* per genre: salutation, opening, numbered section headings
  (一、…) as paragraphs of their own, body paragraphs, closing;
* body paragraphs filled sentence by sentence up to a length budget;
* in about one text in three, one or two sentences that use the words site
  boilerplate uses (版权, 代写, 联系, 下载, 公众号 …, the bank's [traps]), so that a
  cleaner that deletes lines by keyword loses text the tests can see.

Determinism: every text has its own ``random.Random`` seeded with a string built
from the call's seed and the text's index (string seeds are hashed with SHA-512
by ``random``, not with ``hash()``), and a second one for its trap sentences (so
that adding them changed no other text); the phrase bank is read in file order and
no set is ever iterated.  The text at index i is therefore the same for every
``count`` > i, except when its first-choice title was already taken by an
earlier text of the same call.
"""

from __future__ import annotations

import datetime
import random
import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

__all__ = [
    "GENRES",
    "GENRE_TITLE_KEYWORDS",
    "PLACEHOLDER_PATTERN",
    "SampleText",
    "generate_texts",
    "load_phrasebank",
]

GENRES: tuple[str, ...] = (
    "讲话稿", "发言稿", "致辞", "主持词", "心得体会", "工作总结", "工作计划", "述职报告", "汇报材料", "演讲稿",
)

# The keyword by which a title shows its genre (docs/site-families.md, "Genre keywords").  Every generated
# title contains its own genre's keyword and no other genre's keyword.
GENRE_TITLE_KEYWORDS: dict[str, str] = {
    "讲话稿": "讲话",
    "发言稿": "发言",
    "致辞": "致辞",
    "主持词": "主持词",
    "心得体会": "心得体会",
    "工作总结": "总结",
    "工作计划": "计划",
    "述职报告": "述职",
    "汇报材料": "汇报",
    "演讲稿": "演讲",
}


@dataclass(frozen=True)
class SampleText:
    key: str  # stable id: f"{prefix}{index:05d}", index counted from 0
    title: str
    genre: str  # one of GENRES
    published: datetime.datetime  # naive, 2019-01-01 .. 2025-12-31, with a time of day
    paragraphs: tuple[str, ...]  # clean body; headings (一、…) are paragraphs of their own


# -- tunables -------------------------------------------------------------------------------

EARLIEST = datetime.datetime(2019, 1, 1)
LATEST = datetime.datetime(2025, 12, 31, 23, 59, 59)
PLACEHOLDER_SHARE = 0.6  # texts that keep template placeholders
ASCII_PUNCTUATION_SHARE = 0.2  # texts written with ASCII ",:;()" as some sites have them
TRAP_SHARE = 1 / 3  # texts quoting one or two sentences with boilerplate's words ([traps])
MIN_HAN = 1500  # at least this many Chinese characters per text ...
MAX_CHARS = 5000  # ... and at most this many characters in all (punctuation included)
TITLE_ATTEMPTS = 200  # fresh settings tried before giving up on a unique title

_NUMERALS = "一二三四五六七八九十"
_NOT_HAN = re.compile(r"[^\u4e00-\u9fff]+")
_SLOT = re.compile(r"\{(\w+)\}")
_TO_ASCII = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")"})
# Events that are opened with an 开幕式 (festivals, games, fairs); others get a plain 致辞.
_OPENING_CEREMONY_SUFFIXES = ("节", "运动会", "洽谈会", "展销会", "大赛", "论坛", "大会")
# Length targets (low, high, mode) before the fill overshoots a little: skewed towards
# shorter texts, median near 2,800 characters overall.  Ceremonial genres run shorter,
# as they do on the real sites.
_TARGET_LENGTHS = {
    "致辞": (1700, 3200, 1900),
    "主持词": (1700, 3600, 2000),
    "演讲稿": (1700, 3800, 2300),
    "*": (1700, 4850, 2100),
}
_LEVELS = ("县", "县", "县", "市", "市", "区")  # county-level texts dominate on these sites
_UPPER = {"县": "市", "区": "市", "市": "省"}


@lru_cache(maxsize=1)
def load_phrasebank() -> dict[str, Any]:
    """The parsed phrase bank (cached; treat it as read-only)."""
    raw = resources.files(__package__).joinpath("phrasebank.toml").read_bytes()
    return tomllib.loads(raw.decode("utf-8"))


# -- public entry point ---------------------------------------------------------------------


def generate_texts(
    count: int, *, seed: int, prefix: str = "t", genres: Sequence[str] | None = None
) -> list[SampleText]:
    """``count`` texts, identical for identical arguments, with unique titles.

    Genres are dealt in shuffled rounds of ``genres`` (default: all of GENRES),
    so each listed genre appears once per round and the mix stays even.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    chosen = tuple(GENRES if genres is None else genres)
    if not chosen:
        raise ValueError("genres must not be empty")
    unknown = [genre for genre in chosen if genre not in GENRES]
    if unknown:
        raise ValueError(f"unknown genre(s) {unknown}; expected some of {GENRES}")

    bank = load_phrasebank()
    used_titles: set[str] = set()  # membership tests only, never iterated
    texts = []
    for index in range(count):
        genre = _genre_for(index, chosen, seed)
        rng = random.Random(f"fanwen-corpus:{seed}:{index}")
        trap_rng = random.Random(f"fanwen-corpus-traps:{seed}:{index}")
        texts.append(_write_text(rng, trap_rng, bank, genre, f"{prefix}{index:05d}", used_titles))
    return texts


def _genre_for(index: int, genres: tuple[str, ...], seed: int) -> str:
    """Round-robin over ``genres`` in an order reshuffled for every round."""
    round_number, position = divmod(index, len(genres))
    order = list(genres)
    random.Random(f"fanwen-corpus-genres:{seed}:{round_number}").shuffle(order)
    return order[position]


def _write_text(rng: random.Random, trap_rng: random.Random, bank: dict, genre: str, key: str,
                used_titles: set[str]) -> SampleText:
    published = _random_datetime(rng)
    for _ in range(TITLE_ATTEMPTS):
        setting = _Setting.draw(rng, bank, genre, published)
        title = setting.title()
        if title not in used_titles:
            break
    else:
        raise RuntimeError(f"no unique title found for {genre} after {TITLE_ATTEMPTS} settings")
    used_titles.add(title)
    paragraphs = _Writer(rng, bank, setting).body()
    if setting.slots.placeholders:
        paragraphs = _ensure_placeholder(paragraphs, setting.slots.fixed)
    paragraphs = _with_trap_sentences(paragraphs, trap_rng, bank)
    if rng.random() < ASCII_PUNCTUATION_SHARE:
        paragraphs = [paragraph.translate(_TO_ASCII) for paragraph in paragraphs]
    return SampleText(key=key, title=title, genre=genre, published=published, paragraphs=tuple(paragraphs))


# Trap groups kept out of generated texts: headings and attachment lines are paragraphs, not
# sentences to slip into one; closings only end a text; and the gold pages mark a leaked
# editor's intro by 小编 alone (tests/fixtures/gold), so 小编 stays on the trap pages.
_TRAP_GROUPS_NOT_MIXED = ("headings", "attachment_lines", "closings", "editor")
_PROSE_END = ("。", "！", "？")
_SHORT_CLOSING = 12  # "谢谢大家！", "散会！": a last paragraph too short to open with a quote


def _with_trap_sentences(paragraphs: list[str], rng: random.Random, bank: dict) -> list[str]:
    """About one text in three gets one or two [traps] sentences, where a reader meets them anywhere.

    A sentence ends the first paragraph, opens the last one, or sits in between as a
    paragraph of its own or the end of one: the head and tail of a text are where a
    cleaner looks for chrome, the middle is where it must never cut.
    """
    if rng.random() >= TRAP_SHARE:
        return paragraphs
    sentences = _mixable_trap_sentences(bank)
    for sentence in rng.sample(sentences, rng.randint(1, 2)):
        if sum(map(len, paragraphs)) + len(sentence) > MAX_CHARS:
            break
        paragraphs = _place_trap(paragraphs, sentence, rng)
    return paragraphs


def _mixable_trap_sentences(bank: dict) -> list[str]:
    groups = bank["traps"]["sentences"]
    return [sentence for name, group in groups.items() if name not in _TRAP_GROUPS_NOT_MIXED for sentence in group]


def _place_trap(paragraphs: list[str], sentence: str, rng: random.Random) -> list[str]:
    # Salutations (同志们：) and headings take no sentence; the genre's opening and closing
    # words (大家好, 谢谢, 审议) stay where they are.
    def prose(index: int) -> bool:
        return paragraphs[index].endswith(_PROSE_END)

    last = len(paragraphs) - 1
    where = rng.random()
    if where < 0.25 and prose(0):
        return [paragraphs[0] + sentence, *paragraphs[1:]]
    if where < 0.5 and prose(last) and len(paragraphs[last]) > _SHORT_CLOSING:
        return [*paragraphs[:last], sentence + paragraphs[last]]
    inner = [index for index in range(2, last) if prose(index)]
    if not inner:
        return paragraphs
    index = _choice(rng, inner)
    if rng.random() < 0.5:
        return [*paragraphs[:index], sentence, *paragraphs[index:]]
    return [*paragraphs[:index], paragraphs[index] + sentence, *paragraphs[index + 1:]]


# What counts as a template placeholder (docs/site-families.md, "Template placeholders"): X县, xx局, ××同志,
# ____%, 某某镇, 20__年.
PLACEHOLDER_PATTERN = re.compile(r"[Xx×]|_{2,}|某")


def _ensure_placeholder(paragraphs: list[str], fixed: dict[str, str]) -> list[str]:
    """A template text shows its placeholders: if none came up, name the place (我县 → X县) once."""
    if any(PLACEHOLDER_PATTERN.search(paragraph) for paragraph in paragraphs):
        return paragraphs
    for i, paragraph in enumerate(paragraphs):
        if fixed["we"] in paragraph:
            return [*paragraphs[:i], paragraph.replace(fixed["we"], fixed["place"], 1), *paragraphs[i + 1:]]
    return paragraphs


def _random_datetime(rng: random.Random) -> datetime.datetime:
    span = int((LATEST - EARLIEST).total_seconds())
    return EARLIEST + datetime.timedelta(seconds=rng.randrange(span + 1))


# -- slots ----------------------------------------------------------------------------------


class _Slots:
    """Fills the ``{slot}`` fields of phrase-bank templates for one text.

    Fixed slots (place, unit, year ...) keep one value for the whole text; number,
    name and month slots draw a new value at every use, as real texts quote many
    different figures and people.
    """

    def __init__(self, rng: random.Random, bank: dict, placeholders: bool) -> None:
        self.rng = rng
        self.bank = bank
        self.placeholders = placeholders
        self.fixed: dict[str, str] = {}

    def fill(self, template: str, **extra: str) -> str:
        if "{" not in template:  # most phrases have no slots
            return template
        pieces = list(_split_template(template))  # literal, slot name, literal, ..., literal
        for i in range(1, len(pieces), 2):
            pieces[i] = self._value(pieces[i], extra, template)
        return "".join(pieces)

    def _value(self, name: str, extra: dict[str, str], template: str) -> str:
        if name in extra:
            return extra[name]
        if name in self.fixed:
            return self.fixed[name]
        if name in self._dynamic:
            return self._dynamic[name](self)
        raise KeyError(f"unknown slot {{{name}}} in phrase bank template {template!r}")

    def _placeholder_number(self) -> str | None:
        # Templates keep some real figures even when they blank out names and places.
        if self.placeholders and self.rng.random() < 0.45:
            return _choice(self.rng, self.bank["placeholders"]["number"])
        return None

    def _pct(self) -> str:  # growth and reductions
        return self._placeholder_number() or f"{self.rng.uniform(1.5, 25.0):.1f}"

    def _rate(self) -> str:  # coverage and success rates
        return self._placeholder_number() or f"{self.rng.uniform(85.0, 99.8):.1f}"

    def _small_pct(self) -> str:  # percentage points, unemployment and the like
        return self._placeholder_number() or f"{self.rng.uniform(0.5, 5.5):.1f}"

    def _few(self) -> str:  # times a month, days of an event
        return self._placeholder_number() or str(self.rng.randint(2, 6))

    def _n(self) -> str:
        return self._placeholder_number() or str(self.rng.randint(2, 60))

    def _num(self) -> str:
        return self._placeholder_number() or str(self.rng.randint(120, 9800))

    def _amt(self) -> str:
        return self._placeholder_number() or f"{self.rng.uniform(1.2, 96.0):.1f}"

    def _name(self) -> str:
        if self.placeholders:
            return _choice(self.rng, self.bank["placeholders"]["name"])
        names = self.bank["names"]
        return _choice(self.rng, names["surnames"]) + _choice(self.rng, names["given"])

    def _month(self) -> str:
        if self.placeholders and self.rng.random() < 0.5:
            return _choice(self.rng, self.bank["placeholders"]["month"])
        return str(self.rng.randint(1, 12))

    def _ordinal(self) -> str:
        if self.placeholders:
            return _choice(self.rng, self.bank["placeholders"]["ordinal"])
        return _NUMERALS[self.rng.randint(1, 9)]

    _dynamic: dict[str, Callable[[_Slots], str]] = {
        "pct": _pct,
        "rate": _rate,
        "small_pct": _small_pct,
        "few": _few,
        "n": _n,
        "num": _num,
        "amt": _amt,
        "name": _name,
        "month": _month,
        "ord": _ordinal,
    }


# -- setting and title ----------------------------------------------------------------------

# Genre → sub-kinds of that genre with their weights; a sub-kind names the title
# patterns in [titles] and selects a layout.
_FLAVOURS: dict[str, tuple[tuple[str, float], ...]] = {
    "讲话稿": (("讲话稿", 1.0),),
    "发言稿": (("交流发言", 0.65), ("表态发言", 0.35)),
    "致辞": (("致辞", 1.0),),  # becomes 开幕致辞 for festivals and fairs, see _Setting.title
    "主持词": (("会议主持词", 0.65), ("活动主持词", 0.35)),
    "心得体会": (("学习心得", 0.45), ("培训心得", 0.25), ("工作心得", 0.3)),
    "工作总结": (("单位总结", 0.7), ("个人总结", 0.3)),
    "工作计划": (("单位计划", 0.7), ("个人计划", 0.3)),
    "述职报告": (("述职报告", 1.0),),
    "汇报材料": (("汇报材料", 1.0),),
    "演讲稿": (("演讲稿", 1.0),),
}
_THEORY_TOPICS = ("理论学习", "作风建设", "基层党建")  # what 学习心得 are about


def _month_key(moment: datetime.datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _current(items: list[dict], published: datetime.datetime) -> list[dict]:
    """Items whose since/until window (YYYY-MM, optional) contains the publication month."""
    month = _month_key(published)
    return [item for item in items if item.get("since", "0000-00") <= month <= item.get("until", "9999-12")]


def _content_year(genre: str, published: datetime.datetime) -> int:
    """The year a text is about: summaries look back, plans look ahead."""
    if genre in ("工作总结", "述职报告") and published.month <= 2:
        return published.year - 1
    if genre == "工作计划" and published.month >= 10:
        return published.year + 1
    return published.year


@dataclass
class _Setting:
    """Everything one text is about; fixed before the title and body are written."""

    genre: str
    flavour: str
    topic: dict
    topics: tuple[dict, ...]  # the topic first, then related topics lending material
    slots: _Slots

    @classmethod
    def draw(cls, rng: random.Random, bank: dict, genre: str, published: datetime.datetime) -> _Setting:
        flavour = _weighted_choice(rng, _FLAVOURS[genre])
        placeholders = rng.random() < PLACEHOLDER_SHARE
        slots = _Slots(rng, bank, placeholders)
        by_key = _topics_by_key(bank)
        candidates = _current(bank["topics"], published)
        if flavour == "学习心得":
            candidates = [topic for topic in candidates if topic["key"] in _THEORY_TOPICS]
        topic = _choice(rng, candidates)
        topics = (topic, *(by_key[key] for key in topic.get("related", ())))
        setting = cls(genre, flavour, topic, topics, slots)
        setting._fill_fixed_slots(rng, bank, published)
        return setting

    def _fill_fixed_slots(self, rng: random.Random, bank: dict, published: datetime.datetime) -> None:
        fixed = self.slots.fixed
        placeholders = self.slots.placeholders
        places, marks = bank["places"], bank["placeholders"]
        level = _choice(rng, _LEVELS)
        kind = {"县": "county", "市": "city", "区": "district"}[level]
        place = _choice(rng, marks[kind] if placeholders else places[kind])
        town = _choice(rng, marks["town"] if placeholders else places["town"])
        fixed.update(
            level=level,
            place=place,
            we="我" + level,
            whole="全" + level,
            party=level + "委",
            gov=level + "政府",
            head=level + "长",
            upper=_UPPER[level],
            upper_whole="全" + _UPPER[level],
            town=town,
            town_head=town[-1] + "长",
            village=_choice(rng, marks["village"] if placeholders else places["village"]),
            region=_choice(rng, places["region"]),
            subject=_choice(rng, self.topic["subjects"]),
        )
        fixed.update(self._unit(rng, bank, level, place))
        fixed.update(self._years(rng, bank, _content_year(self.genre, published)))
        # Compound slots are themselves templates over the slots above.
        titles = bank["titles"]
        fixed["meeting"] = fixed["subject"] + _choice(rng, titles["meeting_kinds"])
        fixed["speaker"] = self.slots.fill(_choice(rng, titles["speakers"]))
        fixed["position"] = self.slots.fill(_choice(rng, titles["positions"]))
        fixed["role"] = _choice(rng, titles["roles"])
        fixed["training"] = self.slots.fill(_choice(rng, titles["trainings"]))
        fixed["occasion"] = _choice(rng, titles["occasions"])
        fixed["study"] = _choice(rng, _current(bank["studies"], published))["name"]
        fixed["event"] = self.slots.fill(self._event_template(rng, bank))
        theme = _choice(rng, self.topic.get("themes", []) + titles["generic_themes"])
        fixed["theme"] = theme
        fixed["theme_sp"] = theme.replace("，", " ")

    def _unit(self, rng: random.Random, bank: dict, level: str, place: str) -> dict[str, str]:
        dept, head = self.topic["dept"], self.topic["head"]
        if self.slots.placeholders:
            if dept.endswith("局") and rng.random() < 0.5:  # a bare XX局 only stands for a 局
                unit = _choice(rng, bank["placeholders"]["unit"])
                head = "局长" if unit.endswith("局") else "负责人"
                return {"unit": unit, "unit_head": unit + head, "topic_head": "局长"}
            unit = place + dept
        else:
            unit = level + dept
        return {"unit": unit, "unit_head": unit + head, "topic_head": head}

    def _years(self, rng: random.Random, bank: dict, year: int) -> dict[str, str]:
        if self.slots.placeholders and rng.random() < 0.7:
            marks = bank["placeholders"]
            form = _choice(rng, marks["year_2010s"] if year < 2020 else marks["year_2020s"])
            texts = {"year": form, "last_year": form, "next_year": form}
        else:
            texts = {"year": str(year), "last_year": str(year - 1), "next_year": str(year + 1)}
        texts["yyear"] = texts["year"] + "年"
        texts["tyear"] = texts["yyear"] if rng.random() < 0.35 else ""
        return texts

    def _event_template(self, rng: random.Random, bank: dict) -> str:
        own = self.topic.get("events", [])
        if own and rng.random() < 0.75:
            return _choice(rng, own)
        return _choice(rng, bank["titles"]["generic_events"])

    def title(self) -> str:
        flavour = self.flavour
        if flavour == "致辞" and self.slots.fixed["event"].endswith(_OPENING_CEREMONY_SUFFIXES):
            flavour = "开幕致辞" if self.slots.rng.random() < 0.6 else "致辞"
        pattern = _choice(self.slots.rng, self.slots.bank["titles"][flavour])
        return self.slots.fill(pattern)


@cache
def _split_template(template: str) -> tuple[str, ...]:
    """``a{x}b`` → ("a", "x", "b"): literals at even, slot names at odd positions."""
    return tuple(_SLOT.split(template))


@cache
def _slot_names(template: str) -> tuple[str, ...]:
    """The distinct slot names of a template, in order of appearance."""
    return tuple(dict.fromkeys(_SLOT.findall(template)))


def _topics_by_key(bank: dict) -> dict[str, dict]:
    return {topic["key"]: topic for topic in bank["topics"]}


def _choice(rng: random.Random, items: Sequence[Any]) -> Any:
    """``rng.choice`` without its bit-fiddling: the generator picks hundreds of thousands of items."""
    return items[int(rng.random() * len(items))]


def _weighted_choice(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    names = [name for name, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(names, weights=weights)[0]


# -- body -----------------------------------------------------------------------------------


@dataclass
class _Fill:
    """A body paragraph still to be written: its kind, the topic it draws on and a lead-in."""

    kind: str
    topic: dict
    prefix: str = ""


class _Pool:
    """Hands out the items of one phrase list in random order, each once.

    Pools of clause parts (actions, leads, outcomes) start over when used up;
    pools of whole sentences run dry instead, so a text never repeats a sentence.
    """

    def __init__(self, items: Sequence[str], rng: random.Random, refill: bool) -> None:
        if not items:
            raise ValueError("empty phrase list in phrase bank")
        self._items = items
        self._rng = rng
        self._refill = refill
        self._left = list(items)

    def draw(self) -> str | None:
        if not self._left:
            if not self._refill:
                return None
            self._left = list(self._items)
        # Take a random remaining item (swap it to the end, then pop): cheaper than a
        # shuffle when, as usual, only a few items of a list are needed.
        left = self._left
        i = int(self._rng.random() * len(left))
        left[i], left[-1] = left[-1], left[i]
        return left.pop()


Producer = Callable[[dict], "str | None"]


class _Writer:
    """Writes the paragraphs of one text: a genre layout, then every fill up to a length budget."""

    def __init__(self, rng: random.Random, bank: dict, setting: _Setting) -> None:
        self.rng = rng
        self.bank = bank
        self.setting = setting
        self.slots = setting.slots
        self._pools: dict[tuple[str, ...], _Pool] = {}
        self._by_key = _topics_by_key(bank)
        self._said: set[str] = set()  # sentences already in this text (membership tests only)
        self._listed: set[str] = set()  # once-per-text lists already written

    # ---- phrase sources

    def _pool(self, key: tuple[str, ...], items: Callable[[], Sequence[str]], refill: bool) -> _Pool:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(items(), self.rng, refill)
        return pool

    def _bank_list(self, path: tuple[str, ...]) -> list[str]:
        node: Any = self.bank
        for part in path:
            node = node[part]
        return node

    def draw(self, *path: str) -> str:
        """A phrase from the bank list at ``path`` (e.g. "common", "leads"); repeats only when all were used."""
        item = self._pool(path, lambda: self._bank_list(path), refill=True).draw()
        return self.slots.fill(item)  # type: ignore[arg-type]

    def fresh(self, *path: str) -> str | None:
        """A sentence from the bank list at ``path`` not yet used in this text, or None."""
        item = self._pool(("fresh", *path), lambda: self._bank_list(path), refill=False).draw()
        return None if item is None else self.slots.fill(item)

    def draw_from(self, key: tuple[str, ...], items: Sequence[str]) -> str:
        return self.slots.fill(self._pool(key, lambda: items, refill=True).draw())  # type: ignore[arg-type]

    def fresh_from(self, key: tuple[str, ...], items: Sequence[str]) -> str | None:
        item = self._pool(key, lambda: items, refill=False).draw()
        return None if item is None else self.slots.fill(item)

    def source(self, *path: str) -> Producer:
        """A producer of fresh sentences from one bank list."""
        return lambda _topic: self.fresh(*path)

    def action(self, topic: dict) -> str:
        # Mostly the topic's own measures; now and then a related topic's, for variety.
        if self.rng.random() < 0.15 and topic.get("related"):
            topic = self._topic(_choice(self.rng, topic["related"]))
        return self.draw_from(("actions", topic["key"]), topic["actions"])

    def _topic(self, key: str) -> dict:
        return self._by_key[key]

    def topic_sentence(self, topic: dict) -> str | None:
        return self.fresh_from(("sentences", topic["key"]), topic["sentences"])

    def data_sentence(self, topic: dict) -> str | None:
        return self.fresh_from(("data", topic["key"]), topic["data"])

    # ---- composed sentences: patterns over clause parts, never run dry

    def compose(self, kind: str, topic: dict) -> str:
        """A sentence from the [patterns] list ``kind``, its clause slots drawn for ``topic``."""
        path = ("patterns", kind)
        pool = self._pool(path, lambda: self._bank_list(path), refill=True)
        template: str = pool.draw()  # type: ignore[assignment]
        parts: dict[str, str] = {}
        for name in _slot_names(template):  # draw only the parts this pattern uses
            if name in self._PARTS:
                parts[name] = self._PARTS[name](self, topic)
        return self.slots.fill(template, **parts)

    _PARTS: dict[str, Callable[[_Writer, dict], str]] = {
        "action": lambda w, topic: w.action(topic),
        "action2": lambda w, topic: w.action(topic),
        "lead": lambda w, topic: w.draw("common", "leads"),
        "result": lambda w, topic: w.draw("common", "results"),
        "future": lambda w, topic: w.draw("common", "future_results"),
        "next_lead": lambda w, topic: w.draw("common", "next_leads"),
        "plan": lambda w, topic: w.draw("common", "plans"),
    }

    def composed(self, topic: dict) -> str:
        """What was done: a lead, one or two measures, an outcome."""
        return self.compose("report", topic)

    def future(self, topic: dict) -> str:
        """What will be done next."""
        return self.compose("future", topic)

    def instruction(self, topic: dict) -> str:
        return self.compose("instruction", topic)

    def promise(self, topic: dict) -> str:
        return self.compose("promise", topic)

    def resolution(self, topic: dict) -> str:
        """A first-person intention, for 心得体会 and 述职报告."""
        return self.compose("resolution", topic)

    def task(self, topic: dict) -> str:
        return self.compose("task", topic)

    def pledge_from_exhort(self, topic: dict) -> str | None:
        # A leader's 要… becomes the speaker's 我们将…
        exhorts = [line for line in self.bank["common"]["exhorts"] if line.startswith("要")]
        line = self.fresh_from(("pledged exhorts",), exhorts)
        return None if line is None else "我们将" + line[1:]

    # ---- paragraph kinds: each is an endless stream of sentences

    def _stream(self, topic: dict, producers: Sequence[Producer], fallback: Callable[[dict], str]) -> Iterator[str]:
        """Sentences from randomly chosen producers; a producer that ran dry hands over to ``fallback``."""
        while True:
            for _ in range(4):  # composed sentences can come out twice; try again a few times
                sentence = _choice(self.rng, producers)(topic) or fallback(topic)
                if sentence not in self._said:
                    break
            self._said.add(sentence)
            yield sentence

    def _enumerated(self, numerals: str, topic: dict) -> Iterator[str]:
        for numeral in numerals:
            if self.rng.random() < 0.5:
                yield f"{numeral}是{self.action(topic)}，{self.draw('common', 'results')}。"
            else:
                follow = self.data_sentence(topic) if self.rng.random() < 0.4 else self.topic_sentence(topic)
                yield f"{numeral}是{self.action(topic)}。" + (follow or self.composed(topic))

    def _measures(self, topic: dict) -> Iterator[str]:
        yield self.composed(topic)
        yield from self._enumerated(_NUMERALS[:4], topic)
        yield from self._stream(topic, (self.composed, self.topic_sentence, self.data_sentence), self.composed)

    def _achievements(self, topic: dict) -> Iterator[str]:
        yield self.composed(topic)
        yield self.data_sentence(topic) or self.composed(topic)
        producers = (self.composed, self.topic_sentence, self.data_sentence, self.composed)
        yield from self._stream(topic, producers, self.composed)

    def _exhort(self, topic: dict) -> Iterator[str]:
        exhorts = self.source("common", "exhorts")
        yield from self._stream(topic, (exhorts, exhorts, self.instruction, self.topic_sentence), self.instruction)

    def _pledge(self, topic: dict) -> Iterator[str]:
        producers = (
            self.promise, self.future, self.source("pledge", "body"), self.pledge_from_exhort, self.topic_sentence
        )
        yield from self._stream(topic, producers, self.promise)

    def _problems(self, topic: dict) -> Iterator[str]:
        yield "在肯定成绩的同时，我们也清醒地认识到，工作中还存在一些问题和不足："
        for numeral in _NUMERALS[:5]:
            yield f"{numeral}是{self.draw('common', 'problems')}。"
        yield "对这些问题，我们将高度重视，采取有力措施认真加以解决。"
        yield from self._stream(topic, (self.future, self.topic_sentence), self.future)

    def _self_problems(self, topic: dict) -> Iterator[str]:
        # Shortcomings and remedies are listed once per text; later paragraphs only resolve.
        if "shortcomings" not in self._listed:
            self._listed.add("shortcomings")
            yield "回顾过去的工作，我也清醒地认识到自身还存在一些不足："
            for numeral in _NUMERALS[:4]:
                yield f"{numeral}是{self.draw('common', 'self_problems')}。"
        if "remedies" not in self._listed:
            self._listed.add("remedies")
            yield "针对这些不足，我将在今后的工作中认真加以改进："
            for numeral in _NUMERALS[:4]:
                yield f"{numeral}是{self.draw('common', 'plans')}。"
        yield from self._stream(topic, (self.resolution, self.source("reflection", "body")), self.resolution)

    def _plans(self, topic: dict) -> Iterator[str]:
        yield self.future(topic)
        for numeral in _NUMERALS[:4]:
            yield f"{numeral}是{self.draw('common', 'plans')}。"
        producers = (self.future, self.topic_sentence, self.source("common", "exhorts"))
        yield from self._stream(topic, producers, self.future)

    def _tasks(self, topic: dict) -> Iterator[str]:
        """Tasks of a work plan: measures in the future tense."""
        yield from self._stream(topic, (self.task, self.future, self.topic_sentence, self.task), self.task)

    def _goals(self, topic: dict) -> Iterator[str]:
        yield from self._stream(topic, (self.source("plan", "goals"),), self.future)

    def _reflect(self, topic: dict) -> Iterator[str]:
        body = self.source("reflection", "body")
        yield from self._stream(topic, (body, body, self.topic_sentence, self.resolution), self.resolution)

    def _duty(self, topic: dict) -> Iterator[str]:
        producers = (self.source("review", "work"), self.composed, self.data_sentence, self.source("review", "work"))
        yield from self._stream(topic, producers, self.composed)

    def _study(self, topic: dict) -> Iterator[str]:
        producers = (self.source("review", "study"), self.source("reflection", "body"))
        yield from self._stream(topic, producers, self.resolution)

    def _integrity(self, topic: dict) -> Iterator[str]:
        producers = (self.source("review", "integrity"), self.source("reflection", "body"))
        yield from self._stream(topic, producers, self.resolution)

    def _greet(self, topic: dict) -> Iterator[str]:
        body = self.source("address", "body")
        yield from self._stream(topic, (body, body, self.topic_sentence), self.composed)

    def _oration(self, topic: dict) -> Iterator[str]:
        body = self.source("oration", "body")
        stories, reflections = self.source("oration", "stories"), self.source("reflection", "body")
        producers = (body, body, stories, self.topic_sentence, reflections)
        yield from self._stream(topic, producers, self.resolution)

    def _basic(self, topic: dict) -> Iterator[str]:
        producers = (self.source("report", "basic"), self.data_sentence, self.topic_sentence)
        yield from self._stream(topic, producers, self.composed)

    def _support(self, topic: dict) -> Iterator[str]:
        """Sentences backing up a host's point (一要…); the points themselves use up the exhortations."""
        yield from self._stream(topic, (self.topic_sentence, self.instruction, self.composed), self.instruction)

    _KINDS: dict[str, Callable[[_Writer, dict], Iterator[str]]] = {
        "measures": _measures,
        "achievements": _achievements,
        "exhort": _exhort,
        "pledge": _pledge,
        "problems": _problems,
        "self_problems": _self_problems,
        "plans": _plans,
        "tasks": _tasks,
        "goals": _goals,
        "reflect": _reflect,
        "duty": _duty,
        "study": _study,
        "integrity": _integrity,
        "greet": _greet,
        "oration": _oration,
        "basic": _basic,
        "support": _support,
    }

    # ---- assembling a text

    def body(self) -> list[str]:
        target = self._target_length()
        fills_wanted = max(5, min(17, round(target * 0.85 / self.rng.uniform(190, 290))))
        layout = _LAYOUTS[self.setting.flavour](self, fills_wanted)
        fixed = [item for item in layout if isinstance(item, str)]
        fixed_length = sum(len(item) for item in fixed)
        fills = [item for item in layout if isinstance(item, _Fill)]
        budget = max(60 * len(fills), target - fixed_length)
        written: dict[int, _Paragraph] = {}
        for position, item in enumerate(layout):
            if isinstance(item, _Fill):
                share = budget / len(fills) * self.rng.uniform(0.75, 1.25)
                written[position] = _Paragraph(item.prefix, self._KINDS[item.kind](self, item.topic), share)
        _fit_length(list(written.values()), fixed_length, sum(_han_count(item) for item in fixed))
        return [written[position].text() if isinstance(item, _Fill) else item for position, item in enumerate(layout)]

    def _target_length(self) -> int:
        low, high, mode = _TARGET_LENGTHS.get(self.setting.genre, _TARGET_LENGTHS["*"])
        return round(self.rng.triangular(low, high, mode))

    # ---- layout helpers

    def headings(self, titles: list[str]) -> list[str]:
        return [f"{_NUMERALS[i]}、{title}" for i, title in enumerate(titles)]

    def topic_heading(self, topic: dict | None = None) -> str:
        topic = topic or self.setting.topic
        return self.draw_from(("headings", topic["key"]), topic["headings"])

    def subpoints(self, count: int, kinds: Sequence[str], heads: str = "topic") -> list[_Fill]:
        """``count`` paragraphs under at most six sub-points, each opening with （一）<short heading>。

        ``heads`` says where the short headings come from: the topic's section headings
        ("topic", "related" also lets related topics in), its measures ("actions", as
        speeches number them) or the generic next-step headings ("next").
        """
        fills = []
        for i, paragraphs in enumerate(_spread(count, min(count, 6), self.rng)):
            topic = self.setting.topic
            if heads == "related" and i > 0 and self.rng.random() < 0.4:
                topic = _choice(self.rng, self.setting.topics)
            if heads == "actions":
                short = self.action(topic)
            elif heads == "next":
                short = self.draw("common", "next_headings")
            else:
                short = self.topic_heading(topic)
            kind = _choice(self.rng, kinds)
            fills.append(_Fill(kind, topic, f"（{_NUMERALS[i]}）{short.split('，')[0]}。"))
            fills += [_Fill(kind, topic) for _ in range(paragraphs - 1)]
        return fills

    def fills(self, count: int, kind: str, topic: dict | None = None) -> list[_Fill]:
        return [_Fill(kind, topic or self.setting.topic) for _ in range(count)]


class _Paragraph:
    """A body paragraph being written: sentences from a stream until it reaches its length."""

    def __init__(self, prefix: str, stream: Iterator[str], target: float) -> None:
        self.prefix = prefix
        self.stream = stream
        self.sentences: list[str] = []
        self._length = len(prefix)
        while self._length < target or not self.sentences:
            self.grow()

    def __len__(self) -> int:
        return self._length

    def grow(self) -> None:
        sentence = next(self.stream)
        self.sentences.append(sentence)
        self._length += len(sentence)

    def shrink(self) -> int:
        """Drop the last sentence; returns the number of characters removed."""
        removed = len(self.sentences.pop())
        self._length -= removed
        return removed

    def text(self) -> str:
        return self.prefix + "".join(self.sentences)


def _han_count(text: str) -> int:
    """Chinese characters in ``text`` (counting the few non-Han runs is the cheap way)."""
    return len(text) - sum(len(run) for run in _NOT_HAN.findall(text))


def _fit_length(paragraphs: list[_Paragraph], fixed_length: int, fixed_han: int) -> None:
    """Trim or grow the written paragraphs until the text meets MAX_CHARS and MIN_HAN."""
    length = fixed_length + sum(len(p) for p in paragraphs)
    while length > MAX_CHARS:
        longest = max((p for p in paragraphs if len(p.sentences) > 1), key=len, default=None)
        if longest is None:
            break
        length -= longest.shrink()
    han = fixed_han + _han_count("".join(p.text() for p in paragraphs))
    while han < MIN_HAN:
        shortest = min(paragraphs, key=len)
        shortest.grow()
        han += _han_count(shortest.sentences[-1])


# -- layouts: one per flavour; each returns fixed paragraphs (str) and _Fill placeholders ---


Layout = list[str | _Fill]


def _spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` split into ``parts`` counts of at least one each, roughly even."""
    counts = [1] * parts
    for _ in range(max(0, total - parts)):
        counts[rng.randrange(parts)] += 1
    return counts


def _speech(w: _Writer, n: int) -> Layout:
    opening = [w.draw("speech", "openings")]
    if w.rng.random() < 0.6:
        opening.append(w.draw("speech", "reviews"))
    opening.append(w.draw("common", "speech_turns"))
    layout: Layout = [w.draw("speech", "salutations"), "".join(opening)]
    sections = 3 if n < 7 else 4
    titles = [w.draw("speech", "headings_first")]
    titles += [w.topic_heading() for _ in range(sections - 2)]
    titles.append(w.draw("speech", "headings_last"))
    for heading, count, index in zip(w.headings(titles), _spread(n, sections, w.rng), range(sections)):
        layout.append(heading)
        if 0 < index < sections - 1 and w.rng.random() < 0.5:
            layout += w.subpoints(count, ("exhort", "measures"), heads="actions")
        else:
            # The first section looks back (achievements) as often as it exhorts.
            other = "achievements" if index == 0 else "measures"
            layout += w.fills(count, "exhort" if index == sections - 1 else _choice(w.rng, ("exhort", other)))
    layout.append(w.draw("speech", "closings"))
    if w.rng.random() < 0.3:
        layout.append("谢谢大家！")
    return layout


def _exchange(w: _Writer, n: int) -> Layout:
    layout: Layout = [w.draw("exchange", "salutations"), w.draw_from(("intros",), w.setting.topic["intros"])]
    layout.append(w.draw("exchange", "lead_ins"))
    sections = 3 if n < 8 else 4
    titles = [w.topic_heading() for _ in range(sections)]
    for heading, count in zip(w.headings(titles), _spread(n, sections, w.rng)):
        layout.append(heading)
        layout += [_Fill(_choice(w.rng, ("measures", "achievements", "measures")), w.setting.topic)
                   for _ in range(count)]
    layout.append(w.draw("exchange", "closings"))
    layout.append(w.draw("exchange", "thanks"))
    return layout


def _pledge(w: _Writer, n: int) -> Layout:
    layout: Layout = [w.draw("exchange", "salutations"), w.draw("pledge", "openings")]
    sections = 3 if n < 8 else 4
    titles = [w.draw("pledge", "headings") for _ in range(sections)]
    for heading, count in zip(w.headings(titles), _spread(n, sections, w.rng)):
        layout.append(heading)
        layout += w.fills(count, "pledge")
    layout.append(w.draw("pledge", "closings"))
    return layout


def _address(w: _Writer, n: int) -> Layout:
    return [
        w.draw("address", "salutations"),
        w.draw("address", "openings"),
        w.draw("address", "welcomes"),
        *w.fills(n, "greet"),
        w.draw("address", "closings"),
    ]


def _meeting_host(w: _Writer, n: int) -> Layout:
    host = w.bank["host"]
    steps = sorted(w.rng.sample(range(len(host["turns"])), w.rng.randint(2, 4)))
    agenda = [w.slots.fill(host["agenda_items"][i]) for i in steps] + [w.slots.fill(host["agenda_items"][-1])]
    agenda_text = "；".join(f"{_NUMERALS[i]}是{item}" for i, item in enumerate(agenda))
    layout: Layout = [
        w.draw("host", "salutations"),
        w.draw("host", "starts") + w.draw("host", "purposes"),
        w.draw("host", "attendees"),
        f"今天的会议共有{_NUMERALS[len(agenda) - 1]}项议程：{agenda_text}。",
    ]
    layout += [w.slots.fill(host["turns"][i], step=_NUMERALS[k]) for k, i in enumerate(steps)]
    layout.append(w.draw("host", "leader_turns"))
    layout.append(w.draw("host", "after_speech"))
    layout.append(w.draw("host", "emphasis"))
    # The host's own points: 一要… 二要…, one paragraph each, some run on into a second one.
    points = [line for line in w.bank["common"]["exhorts"] if line.startswith("要")]
    point_count = max(3, min(5, n - 4))
    for i, paragraphs in enumerate(_spread(max(point_count, n - 4), point_count, w.rng)):
        layout.append(_Fill("support", w.setting.topic, _NUMERALS[i] + w.draw_from(("host points",), points)))
        layout += w.fills(paragraphs - 1, "support")
    layout.append(w.draw("host", "closings"))
    layout.append(w.draw("host", "ends"))
    return layout


def _event_host(w: _Writer, n: int) -> Layout:
    host = w.bank["host"]
    steps = sorted(w.rng.sample(range(len(host["event_steps"])), w.rng.randint(3, 5)))
    layout: Layout = [w.draw("host", "salutations"), w.draw("host", "event_starts"), w.draw("host", "event_intro")]
    fills = w.fills(max(3, n - 2), "greet")
    for k, i in enumerate(steps):
        layout.append(w.slots.fill(host["event_steps"][i]))
        if k < len(fills):
            layout.append(fills[k])
    layout += fills[len(steps):]
    layout.append(w.draw("host", "event_closings"))
    return layout


def _reflection(w: _Writer, n: int) -> Layout:
    opening_list = {"学习心得": "openings_study", "培训心得": "openings_training"}.get(w.setting.flavour, "openings_work")
    layout: Layout = [w.draw("reflection", opening_list)]
    if w.rng.random() < 0.25:  # some 心得 run on without headings
        layout += w.fills(n + 2, "reflect")
    else:
        sections = 3 if n < 8 else 4
        titles = [w.draw("reflection", "headings") if w.rng.random() < 0.7 else w.topic_heading()
                  for _ in range(sections)]
        for heading, count in zip(w.headings(titles), _spread(n, sections, w.rng)):
            layout.append(heading)
            layout += w.fills(count, "reflect")
    layout.append(w.draw("reflection", "closings"))
    return layout


def _summary(w: _Writer, n: int) -> Layout:
    done_count = max(2, n - 3)
    layout: Layout = [w.draw("summary", "openings"), "一、" + w.draw("summary", "headings_done")]
    layout += w.subpoints(done_count, ("achievements", "measures"))
    layout += ["二、" + w.draw("summary", "headings_problems"), *w.fills(1, "problems")]
    layout += ["三、" + w.draw("summary", "headings_next")]
    layout += w.subpoints(max(1, n - done_count - 1), ("plans",), heads="next")
    if w.rng.random() < 0.6:
        layout.append(w.draw("summary", "closings"))
    return layout


def _personal_summary(w: _Writer, n: int) -> Layout:
    titles = w.bank["summary"]["personal_headings"]
    counts = _spread(n, 4, w.rng)
    kinds = ("study", "duty", "integrity", "self_problems")
    layout: Layout = [w.draw("summary", "personal_openings")]
    for heading, count, kind in zip(w.headings(titles), counts, kinds):
        layout.append(heading)
        layout += w.subpoints(count, ("duty",)) if kind == "duty" and count > 1 else w.fills(count, kind)
    return layout


def _plan(w: _Writer, n: int) -> Layout:
    plan = w.bank["plan"]
    safeguards = w.rng.sample(plan["safeguards"], w.rng.randint(2, 3))
    task_count = max(2, n - 1)
    layout: Layout = [
        w.draw("plan", "openings"),
        "一、" + _choice(w.rng, plan["headings_guide"]),
        w.draw("plan", "guidance"),
        "二、" + _choice(w.rng, plan["headings_goal"]),
        *w.fills(1, "goals"),
        "三、" + _choice(w.rng, plan["headings_tasks"]),
        *w.subpoints(task_count, ("tasks",), heads="next" if w.rng.random() < 0.3 else "topic"),
        "四、" + _choice(w.rng, plan["headings_safeguard"]),
    ]
    layout += [f"（{_NUMERALS[i]}）{w.slots.fill(text)}" for i, text in enumerate(safeguards)]
    if w.rng.random() < 0.5:
        layout.append(w.draw("plan", "closings"))
    return layout


def _personal_plan(w: _Writer, n: int) -> Layout:
    tasks = w.rng.sample(w.bank["plan"]["personal_tasks"], w.rng.randint(4, 6))
    layout: Layout = [w.draw("plan", "personal_openings")]
    counts = _spread(max(n, len(tasks)), len(tasks), w.rng)
    for i, (task, count) in enumerate(zip(tasks, counts)):
        heading, _, rest = w.slots.fill(task).partition("。")
        layout.append(f"{_NUMERALS[i]}、{heading}")
        first, *more = w.fills(count, _choice(w.rng, ("reflect", "duty", "tasks")))
        layout += [_Fill(first.kind, first.topic, rest), *more]
    layout.append(w.draw("plan", "closings"))
    return layout


def _review(w: _Writer, n: int) -> Layout:
    review = w.bank["review"]
    counts = _spread(n, 4, w.rng)
    counts[1] += 1  # the duties section is the longest in real reports
    layout: Layout = [w.draw("review", "salutations"), w.draw("review", "introductions")]
    layout += ["一、" + _choice(w.rng, review["headings_study"]), *w.fills(counts[0], "study")]
    layout += ["二、" + _choice(w.rng, review["headings_work"])]
    layout += w.subpoints(counts[1], ("duty", "achievements"), heads="related")
    layout += ["三、" + _choice(w.rng, review["headings_integrity"]), *w.fills(counts[2], "integrity")]
    layout += ["四、" + _choice(w.rng, review["headings_gaps"]), *w.fills(counts[3], "self_problems")]
    layout.append(w.draw("review", "closings"))
    return layout


def _report(w: _Writer, n: int) -> Layout:
    report = w.bank["report"]
    done_count = max(2, n - 3)
    layout: Layout = [w.draw("report", "salutations")] if w.rng.random() < 0.7 else []
    layout += [w.draw("report", "openings"), "一、" + _choice(w.rng, report["headings_basic"]), *w.fills(1, "basic")]
    layout += ["二、" + _choice(w.rng, report["headings_done"]), *w.subpoints(done_count, ("measures", "achievements"))]
    layout += ["三、" + _choice(w.rng, report["headings_problems"]), *w.fills(1, "problems")]
    layout += ["四、" + _choice(w.rng, report["headings_next"]), *w.fills(max(1, n - done_count - 2), "plans")]
    layout.append(w.draw("report", "closings"))
    return layout


def _oration(w: _Writer, n: int) -> Layout:
    return [
        w.draw("oration", "salutations"),
        w.draw("oration", "introductions"),
        *w.fills(n + 1, "oration"),
        w.draw("oration", "closings"),
    ]


_LAYOUTS: dict[str, Callable[[_Writer, int], Layout]] = {
    "讲话稿": _speech,
    "交流发言": _exchange,
    "表态发言": _pledge,
    "致辞": _address,
    "会议主持词": _meeting_host,
    "活动主持词": _event_host,
    "学习心得": _reflection,
    "培训心得": _reflection,
    "工作心得": _reflection,
    "单位总结": _summary,
    "个人总结": _personal_summary,
    "单位计划": _plan,
    "个人计划": _personal_plan,
    "述职报告": _review,
    "汇报材料": _report,
    "演讲稿": _oration,
}
