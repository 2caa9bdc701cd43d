#!/usr/bin/env bash
# The system packages the tests need: Chromium, to open exported reports and drive JupyterLab headless; clang and
# lld (wasm-ld), to check that lib/engine/kernels/kernels.wasm is what its C sources build.
# (Python and Jupyter come from the project's own .venv: scripts/python-env.ts.) Installs what is missing when
# this runs as root or with password-less sudo; otherwise says how, and the browser tests fail (the kernels.wasm
# check skips, saying why) with the same advice.
set -euo pipefail
chromium="${MIE_CHROMIUM:-/usr/bin/chromium}"
missing=()
if [ -x "$chromium" ]; then
  echo "system packages: Chromium present ($chromium)"
elif [ -n "${MIE_CHROMIUM:-}" ]; then
  echo "system packages: MIE_CHROMIUM=$MIE_CHROMIUM is not an executable; the browser tests will fail" >&2
else
  missing+=(chromium)
fi
if command -v clang >/dev/null && command -v wasm-ld >/dev/null; then
  echo "system packages: clang and wasm-ld present"
else
  command -v clang >/dev/null || missing+=(clang)
  command -v wasm-ld >/dev/null || missing+=(lld)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "system packages: ${missing[*]} missing and not root: the browser tests will fail without Chromium, the kernels.wasm check skips without clang and lld." >&2
    echo "  Install them with \`sudo apt-get install ${missing[*]}\` (Debian/Ubuntu), or set MIE_CHROMIUM to a Chromium binary." >&2
    exit 0
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "system packages: no apt-get here: install ${missing[*]} yourself (and set MIE_CHROMIUM to Chromium); the tests that need them fail or skip until then" >&2
  exit 0
fi
echo "system packages: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
