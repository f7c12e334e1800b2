#!/usr/bin/env bash
# Install dsar into ./.venv with WeasyPrint's system libraries.
# Used by the README's first command and by .ci/run, so both install the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

# WeasyPrint needs Pango; without libharfbuzz-subset0 it silently renders ~3x slower
# (../shared/NOTES.md). poppler-utils gives pdftotext/pdftoppm to read letters back.
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})) && command -v apt-get >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing system libraries: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The browser test of `dsar serve` drives Debian's chromium with Playwright (whose wheel
# brings its driver; no browser download). Not needed to use dsar: a failure only warns.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing chromium for the browser test"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null; } \
    || echo "warning: chromium not installed; the browser test of dsar serve will not run" >&2
fi

# The inbox tests read replies from a real IMAP server: Debian's Dovecot, started by the
# tests themselves on a free port (no system service). Not needed to use dsar.
if ! command -v dovecot >/dev/null && ! [ -x /usr/sbin/dovecot ] && command -v apt-get >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing dovecot-imapd for the inbox tests"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dovecot-imapd >/dev/null; } \
    || echo "warning: dovecot-imapd not installed; the IMAP tests of dsar inbox will fail" >&2
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
echo "dsar installed: $(.venv/bin/dsar --version)"
