#!/usr/bin/env bash
# The README's test command: install what the tests need when it is missing, check the
# import layers, then run the suite. Arguments go to pytest (bash scripts/test.sh -n 0 tests/test_app.py).
# DSAR_TEST_TODAY=2027-01-29 runs the suite as if it were that day (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt.sh

# chromium: the browser test of `dsar serve` (Playwright drives Debian's, no download);
# dovecot-imapd: the IMAP server of the inbox tests; poppler-utils: pdftotext/pdftoppm
# read the letters back.
apt_install_missing chromium dovecot-imapd poppler-utils

[ -x .venv/bin/dsar ] || bash scripts/install.sh
# dsar and its [test] extra, installed again only when pyproject.toml asks for what the
# venv lacks (or a constraints file is given: CI installs exactly those versions).
if [ -n "${PIP_CONSTRAINT:-}" ] || ! .venv/bin/python scripts/satisfied.py test 2>/dev/null; then
  .venv/bin/python -m pip install -q -e ".[test]"
fi

# the layers of pyproject.toml's [tool.importlinter], and no import cycle inside one
.venv/bin/lint-imports --no-cache
.venv/bin/python scripts/cycles.py

status=0
.venv/bin/python -m pytest -p no:cacheprovider "$@" </dev/null || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no test: that is a failure here" >&2
  exit 1
fi
exit "$status"
