#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# udisks-session.sh COMMAND...
#
# Runs COMMAND with a system D-Bus, systemd-udevd and udisksd available, as the
# imaging tests need (they make loop devices through UDisks and write to them).
# Each daemon is started only when it is not already running, and only what this
# script started is stopped again, by pid, when COMMAND ends. Must run as root.
# The kernel needs no filesystem drivers: nothing here mounts anything.

set -u

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND..." >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: must run as root (it starts the system bus, udevd and udisksd)" >&2
  exit 77
fi

UDEVD=/lib/systemd/systemd-udevd
UDISKSD=/usr/libexec/udisks2/udisksd
for tool in dbus-daemon dbus-send udevadm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$0: $tool not found" >&2; exit 77; }
done
for tool in "$UDEVD" "$UDISKSD"; do
  [ -x "$tool" ] || { echo "$0: $tool not found (install udev and udisks2)" >&2; exit 77; }
done

started_dbus=""
started_udevd=""
started_udisksd=""
log_dir=$(mktemp -d /tmp/udisks-session.XXXXXX)

cleanup () {
  # Stop in reverse order; only the pids this script started.
  if [ -n "$started_udisksd" ]; then
    kill "$started_udisksd" 2>/dev/null
    wait "$started_udisksd" 2>/dev/null
  fi
  if [ -n "$started_udevd" ]; then
    kill "$started_udevd" 2>/dev/null
  fi
  if [ -n "$started_dbus" ]; then
    kill "$started_dbus" 2>/dev/null
  fi
  rm -rf "$log_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bus_name_has_owner () {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}

# 1. System bus.
if ! dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
     org.freedesktop.DBus.GetId >/dev/null 2>&1; then
  mkdir -p /run/dbus
  rm -f /run/dbus/pid
  dbus-daemon --system --fork --print-pid=3 3>"$log_dir/dbus.pid" || exit 1
  started_dbus=$(cat "$log_dir/dbus.pid")
fi

# 2. udevd (without it udisksd sees no block devices).
if ! udevadm control --ping >/dev/null 2>&1; then
  "$UDEVD" >"$log_dir/udevd.log" 2>&1 &
  started_udevd=$!
  i=0
  until udevadm control --ping >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
      echo "$0: systemd-udevd did not start" >&2
      cat "$log_dir/udevd.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  udevadm trigger --subsystem-match=block --action=add
  udevadm settle --timeout=30
fi

# 3. udisksd.
if ! bus_name_has_owner org.freedesktop.UDisks2; then
  "$UDISKSD" --no-debug >"$log_dir/udisksd.log" 2>&1 &
  started_udisksd=$!
  i=0
  until bus_name_has_owner org.freedesktop.UDisks2; do
    i=$((i + 1))
    if [ "$i" -gt 300 ] || ! kill -0 "$started_udisksd" 2>/dev/null; then
      echo "$0: udisksd did not appear on the system bus" >&2
      cat "$log_dir/udisksd.log" >&2
      exit 1
    fi
    sleep 0.1
  done
fi

"$@"
exit $?
