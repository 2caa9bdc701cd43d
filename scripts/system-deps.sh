#!/usr/bin/env bash
# The one system package the tests need: Chromium, to open exported reports and drive JupyterLab headless.
# (Python and Jupyter come from the project's own .venv: scripts/python-env.ts.) Installs it when missing and
# this runs as root or with password-less sudo; otherwise says how, and the browser tests fail with the same advice.
set -euo pipefail
chromium="${MIE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  echo "system packages: Chromium present ($chromium)"
  exit 0
fi
if [ -n "${MIE_CHROMIUM:-}" ]; then
  echo "system packages: MIE_CHROMIUM=$MIE_CHROMIUM is not an executable; the browser tests will fail" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "system packages: Chromium missing and not root: the browser tests will fail." >&2
    echo "  Install it with \`sudo apt-get install chromium\` (Debian/Ubuntu) or set MIE_CHROMIUM to a Chromium binary." >&2
    exit 0
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "system packages: no apt-get here: install Chromium yourself and set MIE_CHROMIUM; the browser tests will fail until then" >&2
  exit 0
fi
echo "system packages: installing chromium"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
