#!/usr/bin/env bash
# Install the servers scripts/cluster/cluster.py starts: PostgreSQL (Dagster's instance
# storage and run queue) and Redis (the Celery broker), from Debian packages.
# Idempotent: does nothing when both are there. Needs root (CI runs as root); the Python
# side (dagster-celery, dagster-postgres, celery, redis) is in the project's dev extra.
set -euo pipefail

have() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && command -v redis-server >/dev/null; }

if have; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "scripts/cluster/install.sh: postgresql and redis-server are missing and this is not root:" \
         "run 'sudo apt-get install postgresql redis-server'" >&2
    exit 3
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql redis-server >/dev/null
have
