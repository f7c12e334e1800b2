#!/usr/bin/env bash
# Install dsar into ./.venv with WeasyPrint's system libraries: what a user needs, no more.
# The tests' needs (test extras, chromium, dovecot, poppler) are scripts/test.sh's.
# With PIP_CONSTRAINT=constraints.txt (as .ci/run does) pip takes the known-good versions.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt.sh

# WeasyPrint needs Pango; without libharfbuzz-subset0 it silently renders ~3x slower
# (../shared/NOTES.md).
apt_install_missing libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
echo "dsar installed: $(.venv/bin/dsar --version)"
