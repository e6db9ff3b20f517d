#!/usr/bin/env bash
# Builds Recovery Desk and runs every test suite:
#   bash build-aux/run-tests.sh [BUILD_DIR] [-- extra meson setup options]
# unit runs as is, ui under Xvfb on a private session bus, imaging with a
# private system bus, udevd and udisksd (as root).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-_build}
shift || true
[ "${1:-}" = "--" ] && shift

bash "$top/build-aux/install-deps.sh"

cd "$top"
if [ -d "$build" ]; then
  meson setup --reconfigure "$build" "$@"
else
  meson setup "$build" "$@"
fi
meson compile -C "$build"

status=0
tally=${RD_TEST_TALLY:-$build/tally.txt}
[ -n "${RD_TEST_TALLY:-}" ] || rm -f "$tally"
suites=$(meson test -C "$build" --list 2>/dev/null | sed -n 's/^recovery-desk:\([^ ]*\) \/ .*/\1/p' | sort -u)

run_suite () {
  local suite=$1; shift
  if ! grep -qx "$suite" <<<"$suites"; then
    echo "run-tests: no $suite tests in this build"
    return 0
  fi
  echo "run-tests: suite $suite"
  "$@" meson test -C "$build" --suite "$suite" --print-errorlogs --no-rebuild || status=1
  python3 "$top/build-aux/tally-tests.py" "$build/meson-logs/testlog.json" "$tally"
}

run_suite unit
run_suite graph
run_suite ui dbus-run-session -- xvfb-run -a -s "-screen 0 1600x1000x24"
if [ -x tests/imaging/udisks-session.sh ]; then
  run_suite imaging tests/imaging/udisks-session.sh
fi

[ -n "${RD_TEST_TALLY:-}" ] || python3 "$top/build-aux/tally-tests.py" --print "$tally"
exit $status
