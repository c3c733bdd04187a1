"""The ``fanwen`` command's entry point: ``fanwen extract`` without click, everything else through it.

``fanwen extract`` is a batch tool whose whole process is timed against trafilatura's
(benchmarks/cleaning_scorecard.py); importing click is a large share of its start-up.
Only this module's check on the first argument comes before the command's own
parser, so ``fanwen extract`` behaves the same run either way.
"""

from __future__ import annotations

import sys


def main() -> int | None:
    arguments = sys.argv[1:]
    if arguments[:1] == ["extract"]:
        from fanwen.extract_command import main as extract_main

        return extract_main(arguments[1:])
    from fanwen.cli import main as cli_main

    return cli_main()
