#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for e-lecteur: system libraries, .venv, the MicroPython wasm port.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(libzbar0 mosquitto chromium openscad libxkbcommon0 xkb-data libx11-data g++)
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: run 'sudo apt-get install ${missing[*]}' (libzbar0 is needed by the zbar engine;" >&2
    echo "       mosquitto, chromium and openscad only by the MQTT, counter-page and enclosure tests, libxkbcommon0," >&2
    echo "       xkb-data and libx11-data by the AZERTY keyboard-wedge test, g++ to build pyquirc for the decode bench)," >&2
    echo "       then 'make setup' again." >&2
    [[ " ${missing[*]} " == *" libzbar0 "* ]] && exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# Each board port's MicroPython API for the static check (host_bridge/devtools/port_api.py): the community
# stubs (micropython-stubs), of the release the firmware is compiled for, one folder per port.
STUBS_VERSION=1.27.0.post1
for pair in rp2:micropython-rp2-rpi-pico-stubs esp32:micropython-esp32-esp32-generic-stubs \
            esp32s3:micropython-esp32-esp32-generic-s3-stubs; do
  dir=".venv/micropython-stubs/${pair%%:*}"
  if [ ! -f "$dir/.installed-$STUBS_VERSION" ]; then
    rm -rf "$dir"
    .venv/bin/python -m pip install -q --no-compile --target "$dir" "${pair#*:}==$STUBS_VERSION"
    touch "$dir/.installed-$STUBS_VERSION"
  fi
done

if command -v npm >/dev/null; then
  (cd tools/micropython && npm install --no-audit --no-fund --silent)
else
  echo "setup: npm not found: the MicroPython (wasm) runtime is unavailable; install nodejs and npm" >&2
  exit 1
fi
echo "setup: done"
