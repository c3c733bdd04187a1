#!/usr/bin/env bash
# Set up (if needed), crawl the bundled replica sites into archive.db, serve it in Datasette.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/fanwen demo "$@"
