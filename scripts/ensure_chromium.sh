#!/usr/bin/env bash
# Make sure a headless Chromium is on this machine, for the report's browser tests
# (tests/assets/test_report_browser.py) and for looking at a report by hand.
#
# Chromium comes from Debian's own package (apt), never a browser build downloaded by a
# tool: CI runs as root on a fresh Debian machine whose only network is the package
# registries. Prints the browser's path on stdout; exit 1 (with the reason on stderr)
# when it is missing and cannot be installed (not root, no apt-get).
set -euo pipefail

find_browser() {
    local name
    for name in "${DATASRE_CHROMIUM:-}" chromium chromium-browser google-chrome; do
        if [ -n "$name" ] && command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}

if find_browser; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "ensure_chromium: no chromium on PATH and not root: run 'sudo apt-get install chromium'" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: no chromium on PATH and no apt-get to install it" >&2
    exit 1
fi
echo "ensure_chromium: installing Debian's chromium (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
find_browser || { echo "ensure_chromium: chromium still not on PATH after apt-get" >&2; exit 1; }
