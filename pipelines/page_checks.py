"""Pages that answer 200 but are not an article: an anti-bot challenge, a JavaScript-only shell.

Each check is a pure function of the parsed page; ``extract_texts`` turns a
positive answer into the reason an article is rejected (docs/reliability.md).
"""

from __future__ import annotations

from lxml import html

# Words of the verification pages Chinese CDNs and site firewalls answer with 200
# (安全狗, 云锁, 百度云加速, Cloudflare), in the title or in their scripts' paths.
CHALLENGE_MARKERS = (
    "安全验证", "人机验证", "访问验证", "请完成验证", "滑动验证", "访问过于频繁", "请输入验证码",
    "Just a moment", "Checking your browser", "cf-browser-verification", "/_guard/", "safedog", "yunsuo",
)
# A page whose cleaned text is this short and carries a marker is the challenge itself, not
# an article that happens to mention 验证码.
_CHALLENGE_MAX_TEXT = 200
_SHELL_MAX_TEXT = 40


def is_challenge_page(source: str, title: str, text_chars: int) -> bool:
    if any(marker in title for marker in CHALLENGE_MARKERS):
        return True
    return text_chars < _CHALLENGE_MAX_TEXT and any(marker in source for marker in CHALLENGE_MARKERS)


def is_script_shell(root: html.HtmlElement) -> bool:
    """A body that is scripts and next to no text: the content would be drawn by JavaScript."""
    scripts = [s for s in root.iter("script") if (s.text or "").strip() or s.get("src")]
    if not scripts:
        return False
    body = root.find(".//body")
    if body is None:
        return True
    visible = "".join(
        chunk for element in body.iter()
        if isinstance(element.tag, str) and element.tag not in ("script", "style", "noscript")
        for chunk in (element.text or "",)
    )
    return len(visible.strip()) < _SHELL_MAX_TEXT
