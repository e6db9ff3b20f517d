#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# imaging-throughput.sh BUILD_DIR [SIZE_MIB] [ROUNDS]
#
# The imaging benchmarks of issue 5: recovery-desk-imager against dd (and openssl, xz) on the
# same loop device in the same run. Each contender runs ROUNDS times (default 3), alternating
# with its baseline, with the page cache dropped before every run. Prints the median MiB/s of
# each (min and max beside it), the ratio, the target and PASS or MISS; exits 1 if a target is
# missed. Must run as root: it wraps itself in tests/imaging/udisks-session.sh, makes a random
# image (and its .xz) and a sparse backing file in a temporary folder inside BUILD_DIR (on the
# same disk as the work tree), and sets the loop device up through UDisks. Everything it starts
# or creates is removed again, also on failure or Ctrl-C.
#
# Environment: RD_BENCH_LOOP_DIO=0 keeps the loop device on buffered I/O (default: direct I/O
# to the backing file, so reads and flushes reach the disk as they would on a real key).

set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=lib/loop-bench.sh
. "$here/lib/loop-bench.sh"
bench_args 1 "$@"
bench_setup "${BASH_SOURCE[0]}" "$1" udisksctl xz dd openssl losetup -- "$@"

size=$((size_mib * 1024 * 1024))

# Image, its .xz (random data does not shrink) and the backing file, with room to spare.
bench_workdir $((size_mib * 1024 * 33 / 10 + 256 * 1024))
image="$workdir/image.img"
echo "Making a $size_mib MiB random image and its .xz in $workdir…" >&2
head -c "$size" /dev/urandom >"$image" || die "could not write $image"
# xz needs minutes to find that random data does not compress; stored-xz.py writes the .xz xz
# would end with (stored LZMA2 chunks, in 8 MiB blocks for multi-threaded decoding) in seconds.
if command -v python3 >/dev/null 2>&1; then
  python3 "$here/stored-xz.py" "$image" "$image.xz" && xz -t "$image.xz" \
    || die "could not make $image.xz"
else
  xz -T0 -0 -k "$image" || die "could not compress $image"
fi
truncate -s $((size + 64 * 1024 * 1024)) "$workdir/backing" || die "could not make the backing file"
bench_loop_setup "$workdir/backing"

add_rate () {
  local mibs

  mibs=$(awk -v s="$size_mib" -v t="$2" 'BEGIN { printf "%.1f", s / t }')
  add_sample "$1" "$mibs"
  printf '  %-18s %8.1f MiB/s  (%.2f s)\n' "$1" "$mibs" "$2" >&2
}

events="$workdir/events"
stderr_log="$workdir/stderr"

run_dd_write () {
  local t0

  drop_caches
  t0=$EPOCHREALTIME
  dd if="$image" of="$loopdev" bs=4M oflag=direct conv=fsync status=none || die "dd write failed"
  add_rate dd-write "$(elapsed "$t0")"
}

# Write + flush: the whole helper run, from start (UDisks open, wiping the edges) to exit after
# the final flush. Verifying is measured on its own below.
run_imager_write () {
  local t0

  drop_caches
  t0=$EPOCHREALTIME
  "$imager" write "$image" "$loopdev" --yes --no-verify --progress json >"$events" \
    2>"$stderr_log" || die "recovery-desk-imager write failed: $(cat "$stderr_log")"
  add_rate imager-write "$(elapsed "$t0")"
  grep -q '"event":"done"' "$events" || die "no done event"
}

run_dd_verify () {
  local t0 sum

  drop_caches
  t0=$EPOCHREALTIME
  sum=$(dd if="$loopdev" iflag=direct,count_bytes bs=4M count="$size" status=none \
          | openssl dgst -sha256 -r) || die "dd | openssl failed"
  add_rate dd-sha256 "$(elapsed "$t0")"
  [ "${sum%% *}" = "$image_sha256" ] || die "the device does not hold the image"
}

run_imager_verify () {
  local t0

  drop_caches
  t0=$EPOCHREALTIME
  "$imager" verify "$image" "$loopdev" >/dev/null 2>"$stderr_log" \
    || die "recovery-desk-imager verify failed: $(cat "$stderr_log")"
  add_rate imager-verify "$(elapsed "$t0")"
}

run_xz_dd () {
  local t0

  drop_caches
  t0=$EPOCHREALTIME
  xz -T0 -dc "$image.xz" | dd of="$loopdev" bs=4M iflag=fullblock oflag=direct status=none \
    || die "xz | dd failed"
  add_rate xz-dd "$(elapsed "$t0")"
}

run_imager_xz () {
  local t0

  drop_caches
  t0=$EPOCHREALTIME
  "$imager" write "$image.xz" "$loopdev" --yes --no-verify --progress json >"$events" \
    2>"$stderr_log" || die "recovery-desk-imager write (.xz) failed: $(cat "$stderr_log")"
  add_rate imager-xz "$(elapsed "$t0")"
  grep -q '"event":"done"' "$events" || die "no done event"
}

image_sha256=$(sha256sum "$image" | cut -d ' ' -f 1)
echo "Loop device $loopdev ($loop_mode) over $workdir/backing; $rounds rounds;" \
  "page cache $(caches_note)" >&2

for ((round = 1; round <= rounds; round++)); do
  echo "Round $round/$rounds" >&2
  # Alternate which of each pair goes first, so neither always follows the other.
  if ((round % 2)); then
    run_dd_write; run_imager_write; run_dd_verify; run_imager_verify; run_xz_dd; run_imager_xz
  else
    run_imager_write; run_dd_write; run_imager_verify; run_dd_verify; run_imager_xz; run_xz_dd
  fi
done

missed=0

line () {
  local label=$1 ours=$2 base=$3 target=$4 o b ratio verdict

  read -r -a o <<<"$(stats "$ours")"
  read -r -a b <<<"$(stats "$base")"
  ratio=$(awk -v a="${o[1]}" -v b="${b[1]}" 'BEGIN { printf "%.3f", a / b }')
  if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
    verdict=PASS
  else
    verdict=MISS
    missed=1
  fi
  printf '%-34s %7.1f MiB/s [%s–%s]  vs %7.1f MiB/s [%s–%s]  ratio %.3f  target ≥ %.2f  %s\n' \
    "$label" "${o[1]}" "${o[0]}" "${o[2]}" "${b[1]}" "${b[0]}" "${b[2]}" "$ratio" "$target" "$verdict"
}

echo
echo "imaging-throughput: $size_mib MiB random image, $rounds rounds, loop $loop_mode," \
  "$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "median [min–max] of rounds; ratio = median / baseline median"
line "write+flush vs dd direct,fsync" imager-write dd-write 0.95
line "verify vs dd | openssl dgst" imager-verify dd-sha256 0.90
line ".xz write vs xz -T0 -dc | dd" imager-xz xz-dd 0.90
exit "$missed"
