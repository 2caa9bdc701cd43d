#!/usr/bin/env bash
# Debian packages the reports and the tests need: a headless Jupyter (nbclient + nbconvert), the classic
# notebook UI (for the live "run all" test) and Chromium (to open the exported HTML). Installs only what is
# missing, so it is quick when everything is there. Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail
packages=(jupyter-nbconvert python3-nbclient jupyter-client jupyter-notebook chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${packages[*]})"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "system packages missing: ${missing[*]} (run as root or install sudo)" >&2; exit 1; }
  sudo="sudo"
fi
echo "system packages: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
