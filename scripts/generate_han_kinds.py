"""Write pipelines/han_kinds.py: which Han characters the decoding census counts as common.

    python scripts/generate_han_kinds.py

The table comes from Python's own GB2312 and Big5 codecs
(``pipelines.decoding.han_block_kinds_from_codecs``); tests/test_decoding.py fails when
the shipped file no longer matches them (a Python whose codecs changed).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.decoding import han_block_kinds_from_codecs  # noqa: E402

LINE = 100

HEADER = '''"""Which Han characters of U+4E00–U+9FFF the decoding census counts as common. Generated: do not edit.

One letter per code point from ``HAN_BLOCK_START``: "h" for a character of GB2312 or of Big5's
level 1 (the frequent characters of Simplified and of Traditional prose), "x" for the rest.
Written by ``python scripts/generate_han_kinds.py`` from Python's codecs
(``pipelines.decoding.han_block_kinds_from_codecs``); tests/test_decoding.py checks it against them.
"""

HAN_BLOCK_START = 0x4E00
HAN_BLOCK_END = 0xA000
'''


def render(kinds: str) -> str:
    rows = [f'    "{kinds[start:start + LINE]}"' for start in range(0, len(kinds), LINE)]
    return HEADER + "HAN_BLOCK_KINDS = (\n" + "\n".join(rows) + "\n)\n"


def main() -> None:
    target = REPO / "pipelines" / "han_kinds.py"
    target.write_text(render(han_block_kinds_from_codecs()), encoding="utf-8")
    print(f"wrote {target.relative_to(REPO)}")


if __name__ == "__main__":
    main()
