#!/usr/bin/env bash
# Renders the real main window on the demo tenant to PNG, for the README and
# the AppStream metainfo:
#   bash build-aux/screenshots.sh [BUILD_DIR]
# writes data/screenshots/board.png (a Break and Fix plan open), and
# bitlocker.png and activity.png when those views are built in. It runs the
# window test's demo case (the real RdWindow, RdSession and in-process demo
# tenant) at 1280x800 under Xvfb, on a private session bus, with throwaway
# settings, plans and cache.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/_build}
out=$top/data/screenshots

meson compile -C "$build" tests/test-window >/dev/null
mkdir -p "$out"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

env -i PATH="$PATH" HOME="$scratch" LC_ALL=C.UTF-8 \
  XDG_CONFIG_HOME="$scratch/config" XDG_RUNTIME_DIR="$scratch" \
  GSETTINGS_BACKEND=memory GSETTINGS_SCHEMA_DIR="$build/data" \
  NO_AT_BRIDGE=1 GDK_BACKEND=x11 \
  RD_SCREENSHOT_DIR="$out" RD_SCREENSHOT_SIZE=1280x800 \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$build/tests/test-window" -p /rd/window/demo/builds

ls -l "$out"
