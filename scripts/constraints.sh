#!/usr/bin/env bash
# Move constraints.txt (the versions CI installs) to the newest releases, on purpose:
# a fresh .venv with the newest versions pyproject.toml allows, the whole suite run
# against them, and the file written only when it passes.
set -euo pipefail
cd "$(dirname "$0")/.."
unset PIP_CONSTRAINT
rm -rf .venv
bash scripts/install.sh
bash scripts/test.sh
{
  echo "# Known-good versions: the suite passed with exactly these (scripts/constraints.sh, $(date -u +%F))."
  echo "# CI installs with them (.ci/run: PIP_CONSTRAINT); pyproject.toml keeps the ranges."
  .venv/bin/python -m pip freeze --exclude-editable
} >constraints.txt
echo "constraints.txt written; commit it with the suite's result"
