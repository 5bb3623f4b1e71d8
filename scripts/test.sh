#!/usr/bin/env bash
# Installs everything the tests need (Python packages; as root, the Debian packages for the browser,
# IMAP and load tests) and runs the whole suite against real PostgreSQL, Redis, RabbitMQ and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt
scripts/system-packages.sh
exec .venv/bin/python -m pytest "$@"
