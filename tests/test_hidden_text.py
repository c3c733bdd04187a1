"""Classes hidden by a page's own stylesheet: the same verdicts as matching every rule, in linear time."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.hidden_text import _CLASS_SELECTOR, _HIDING_DECLARATION, classes_hidden_by

# The one-regex reading of a stylesheet that classes_hidden_by replaced, kept as the
# reference for its verdicts (it is quadratic, so only fed short stylesheets here).
_REFERENCE_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def reference_classes(css: str) -> frozenset[str]:
    names = set()
    for selectors, declarations in _REFERENCE_RULE.findall(css):
        if _HIDING_DECLARATION.search(declarations):
            for selector in selectors.split(","):
                match = _CLASS_SELECTOR.match(selector)
                if match:
                    names.add(match.group(1))
    return frozenset(names)


def hidden(css: str) -> frozenset[str]:
    return classes_hidden_by.__wrapped__(css)  # uncached: every call below does the work


@pytest.mark.parametrize("css, expected", [
    (".qzx9{display:none}", {"qzx9"}),
    (".a, p.b {display: none;} .c{visibility:hidden}", {"a", "b", "c"}),
    (".A{DISPLAY : NONE}", {"A"}),
    (".z{color:red;font-size:0}", {"z"}),  # the last declaration, ended by the brace
    (".z{font-size:0px ;color:red}", {"z"}),
    (".z{font-size:0.5em}.y{font-size:0 }", {"y"}),
    ("@media screen{.m{display:none}}.n{color:red}", {"m"}),
    ("@media (display:none){.m{color:red}}", set()),  # a hiding word outside any declarations
    ('div[style*="display:none"]{color:red}', set()),
    ("{display:none}", set()),  # no selector
    (".x{display:none", set()),  # never closed
    (".x{.y{display:none}}", {"y"}),
    (".x{display:none{.y{visibility:hidden}", {"y"}),
    ("p .q{display:none}.r .s{display:none}", set()),  # descendant selectors: not a class of its own
    (".ok{display:none}\n.bad{display:\nnone}", {"ok", "bad"}),
    (".dotless{d\u0131splay:none}", {"dotless"}),  # what re.I accepts, case folding does not
    (".K\u212a{DISPLAY:NONE}.\u0130x{display:none}", {"K\u212a", "\u0130x"}),
])
def test_hidden_classes_of_stylesheets(css, expected):
    assert hidden(css) == expected == reference_classes(css)


_CSS_PIECES = st.sampled_from([
    "{", "}", "{", "}", ".a", ".b", " .c", "p.d", ",", ";", ":", " ", "\n", "display:none", "DISPLAY: None",
    "visibility:hidden", "font-size:0", "font-size:0px", "font-size:0.5em", "color:red", "@media x",
    "url(data:image/svg+xml,<svg>)", "\u0131", "\u0130", "\u212a", "x",
])


@settings(max_examples=500, deadline=None)
@given(st.lists(_CSS_PIECES, max_size=40).map("".join))
def test_same_classes_as_matching_every_rule(css):
    assert hidden(css) == reference_classes(css)


_SPEECH_STYLE_RULES = ".nav{float:left}.qzx9{display:none}"


@pytest.mark.parametrize("pathological", [
    # The last rule never closed (a truncated page): one 20 KB brace-free stretch.
    _SPEECH_STYLE_RULES + ".x{" + "background:#fff;" * 1_300,
    # An SVG data URI whose own <style> holds braces, then 20 KB of path data.
    _SPEECH_STYLE_RULES + '.icon{background:url("data:image/svg+xml,<svg><style>.a{fill:red}</style>'
    + "<path d='M0 0L1 1'/>" * 1_000 + '</svg>")}',
    # 200 KB of unclosed rules, each holding a hiding declaration.
    _SPEECH_STYLE_RULES + "x{display:none" * 14_000,
    "a{" * 100_000 + _SPEECH_STYLE_RULES,
    _SPEECH_STYLE_RULES + ("display" + " " * 1_000) * 200,
])
def test_pathological_stylesheets_cost_milliseconds(pathological):
    # The one-regex reading took 4 s on the first two (quadratic in a brace-free stretch that is not a rule).
    started = time.perf_counter()
    names = hidden(pathological)
    assert time.perf_counter() - started < 0.05
    assert "qzx9" in names
