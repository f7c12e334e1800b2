#!/usr/bin/env bash
# Update the message catalogues after changing messages in the code:
#   bash scripts/i18n.sh          extract, merge into dsar/locale/fr/.../dsar.po, compile
# then translate the new or fuzzy entries in dsar.po and run it again.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PYBABEL:-.venv/bin/pybabel}
"$bin" -q extract -F babel.cfg -k N_ --no-location --sort-output --project dsar \
  -o dsar/locale/dsar.pot .
"$bin" -q update -i dsar/locale/dsar.pot -d dsar/locale -D dsar --no-fuzzy-matching \
  --ignore-obsolete
"$bin" -q compile -d dsar/locale -D dsar --statistics
