#!/usr/bin/env bash
# Create .venv and install the project with its test dependencies (idempotent).
# Debian packages the tests use (a real Redis server, a headless Chromium) are
# installed with apt-get when missing and when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# chromium + a CJK font: tests/test_browser.py (screenshots of Chinese pages need the font).
SYSTEM_PACKAGES=(redis-server chromium fonts-wqy-microhei)
missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: missing Debian packages ${missing[*]} (install them as root; their tests will fail)" >&2
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
