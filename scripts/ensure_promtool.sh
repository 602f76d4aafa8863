#!/bin/sh
# Installs Debian's `prometheus` package (it ships `promtool`) when promtool is missing.
# The export tests (tests/pipelines/test_export_*.py) run `promtool check metrics`,
# `promtool check rules` and `promtool test rules`; CI runs as root on a fresh Debian
# machine with apt. Prints the path of promtool. Exits 1 when it cannot be installed.
set -eu
if command -v promtool >/dev/null 2>&1; then
    command -v promtool
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_promtool: promtool is missing; install Debian's prometheus package (needs root and apt-get)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Other jobs may hold the dpkg lock (apt installs in parallel CI steps): wait for it.
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus >&2
command -v promtool
