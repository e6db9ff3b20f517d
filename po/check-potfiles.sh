#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks po/POTFILES.in against the source tree. It fails when a file under src/ or ui/ that marks
# strings for translation, or a desktop, metainfo or settings schema file under data/, is listed in
# neither po/POTFILES.in nor po/POTFILES.skip, and when po/POTFILES.in names a file that does not
# exist. Strings in a file missing from the list never reach translators, and a stale entry makes
# the translation template fail to build.
#
# Usage: check-potfiles.sh [SOURCE_ROOT]

set -u
LC_ALL=C
export LC_ALL

root=${1:-$(dirname "$0")/..}
cd "$root" || exit 1

potfiles=po/POTFILES.in
skipfile=po/POTFILES.skip

if [ ! -f "$potfiles" ]; then
  echo "FAIL: $root/$potfiles does not exist"
  exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Entries of a POTFILES-style list: no comments, no "[encoding: ...]" lines, no blank lines.
entries ()
{
  sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*\[/d' \
      -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"
}

entries "$potfiles" > "$tmp/listed-in-order"
sort -u "$tmp/listed-in-order" > "$tmp/listed"
if [ -f "$skipfile" ]; then
  entries "$skipfile" | sort -u > "$tmp/skipped"
else
  : > "$tmp/skipped"
fi

# Calls of the gettext keywords GLib's preset knows (also with GNU-style "_ ("), and translatable
# properties in GtkBuilder files.
c_re='(^|[^[:alnum:]_])(_|N_|C_|NC_|Q_|ngettext|dngettext|g_dngettext|g_dpgettext2?)[[:space:]]*\('
ui_re='translatable[[:space:]]*=[[:space:]]*["'\''](yes|true|y|t|1)["'\'']'

{
  for dir in src ui; do
    [ -d "$dir" ] || continue
    find "$dir" -type f \( -name '*.c' -o -name '*.h' \) -exec grep -lE -e "$c_re" {} +
    find "$dir" -type f -name '*.ui' -exec grep -liE -e "$ui_re" {} +
  done
  if [ -d data ]; then
    find data -type f \( -name '*.desktop.in' -o -name '*.desktop.in.in' \
      -o -name '*.metainfo.xml.in' -o -name '*.metainfo.xml.in.in' -o -name '*.gschema.xml' \)
  fi
} | sed 's|^\./||' | sort -u > "$tmp/translatable"

status=0

# Files with translatable strings that neither list names.
sort -u "$tmp/listed" "$tmp/skipped" > "$tmp/known"
comm -23 "$tmp/translatable" "$tmp/known" > "$tmp/missing"
if [ -s "$tmp/missing" ]; then
  echo "FAIL: these files have translatable strings but are not in $potfiles:"
  sed 's/^/  /' "$tmp/missing"
  echo "Add them to $potfiles (keep it sorted), or to $skipfile if they must not be translated."
  status=1
fi

# Entries that name no file.
while IFS= read -r f; do
  if [ ! -f "$f" ]; then
    echo "$f"
  fi
done < "$tmp/listed" > "$tmp/stale"
if [ -s "$tmp/stale" ]; then
  echo "FAIL: $potfiles names files that do not exist:"
  sed 's/^/  /' "$tmp/stale"
  echo "Remove them from $potfiles, or fix their paths (relative to the source root)."
  status=1
fi

# Notes that do not fail the check.
comm -12 "$tmp/listed" "$tmp/skipped" | sed "s|^|note: listed in both $potfiles and $skipfile: |"
if ! sort -c "$tmp/listed-in-order" 2> /dev/null; then
  echo "note: $potfiles is not sorted"
fi
if [ "$(wc -l < "$tmp/listed-in-order")" -ne "$(wc -l < "$tmp/listed")" ]; then
  echo "note: $potfiles has duplicate entries"
fi

if [ "$status" -eq 0 ]; then
  echo "ok: $(wc -l < "$tmp/listed") files in $potfiles, $(wc -l < "$tmp/translatable") files with translatable strings, all listed or skipped"
fi
exit "$status"
