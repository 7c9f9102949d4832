#!/bin/sh
# Installs Debian's chromium for the local dashboard's browser test (test/local/dashboard),
# which playwright-core drives at /usr/bin/chromium. Idempotent: does nothing if it is there.
set -eu
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "install-chromium: $CHROMIUM is already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium
if [ ! -x "$CHROMIUM" ]; then
  echo "install-chromium: apt-get installed chromium but $CHROMIUM is missing" >&2
  exit 1
fi
echo "install-chromium: installed $CHROMIUM"
