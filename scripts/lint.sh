#!/usr/bin/env bash
# Lint, layers and types: ruff, import-linter's contracts (README, "How the code is laid out"), mypy.
# Configured in pyproject.toml; scripts/test.sh runs this before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache
.venv/bin/mypy
