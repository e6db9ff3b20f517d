#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# keyring-session.sh CMD [ARG...]
#
# Runs CMD with a Secret Service on a private session bus: a
# gnome-keyring-daemon whose "login" collection is created and unlocked with
# an empty password, kept in a temporary directory removed afterwards.
#
# It always starts its own bus with dbus-run-session, also when it runs
# inside another session (a developer's desktop, or CI's dbus-run-session for
# the ui suite): tests must never read or write the user's real keyring, and a
# nested private bus costs nothing.
#
# Needs the Debian packages gnome-keyring and dbus-bin (dbus-run-session,
# dbus-send).
set -eu

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi

if [ -z "${RD_KEYRING_SESSION_INNER:-}" ]; then
  RD_KEYRING_SESSION_INNER=1 exec dbus-run-session -- "$0" "$@"
fi
unset RD_KEYRING_SESSION_INNER

if ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  echo "$0: gnome-keyring-daemon not found; install the Debian package gnome-keyring" >&2
  exit 1
fi

keyring_home=$(mktemp -d "${TMPDIR:-/tmp}/rd-keyring.XXXXXX")
mkdir -p "$keyring_home/data" "$keyring_home/runtime"
chmod 700 "$keyring_home/runtime"

keyring_pid=
cleanup () {
  if [ -n "$keyring_pid" ]; then
    kill "$keyring_pid" 2>/dev/null || true
    wait "$keyring_pid" 2>/dev/null || true
  fi
  rm -rf "$keyring_home"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --unlock reads the login password from stdin up to EOF. A lone newline is
# what gnome-keyring takes as the empty password (truly empty input means "no
# password" and leaves the collection to be created through a prompt, which
# needs a display). The daemon stays in the foreground so that its pid is
# ours to stop. The test environment's G_DEBUG=fatal-warnings is not for the
# daemon: it warns about things it recovers from (an item path registered
# twice) and would abort.
printf '\n' | env -u G_DEBUG -u G_MESSAGES_DEBUG XDG_DATA_HOME="$keyring_home/data" \
  XDG_RUNTIME_DIR="$keyring_home/runtime" gnome-keyring-daemon --foreground --unlock --components=secrets \
  >"$keyring_home/daemon.out" 2>&1 &
keyring_pid=$!

# Wait until the Secret Service owns its name on the bus.
tries=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
      grep -q 'boolean true'; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ] || ! kill -0 "$keyring_pid" 2>/dev/null; then
    echo "$0: gnome-keyring-daemon did not start:" >&2
    cat "$keyring_home/daemon.out" >&2
    exit 1
  fi
  sleep 0.1
done

# Export what the daemon prints (GNOME_KEYRING_CONTROL and the like), if
# anything.
while IFS= read -r line; do
  case "$line" in
    GNOME_KEYRING_CONTROL=*)
      export "${line?}"
      ;;
    *)
      ;;
  esac
done <"$keyring_home/daemon.out"

status=0
"$@" || status=$?
exit "$status"
