#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# compose-throughput.sh BUILD_DIR [SIZE_MIB] [ROUNDS]
#
# The Windows media benchmark of issue 6: recovery-desk-imager composing a Windows-setup key of
# about SIZE_MIB (default 1024) from a Windows-like UDF ISO and writing it onto a loop device
# (`compose --iso ISO --layout setup LOOP --yes`), against the same helper writing the finished
# image raw onto the same loop device (`write IMG LOOP --yes`), in the same run. Both verify, as
# the app does (RD_BENCH_VERIFY=0: both --no-verify). Each runs ROUNDS times (default 3),
# alternating which goes first, with the page cache dropped before every run. Prints the median
# seconds of each (min and max beside it), the ratio, the target (≤ 1.3) and PASS or MISS, and
# where the compose run's time went; exits 1 if the target is missed.
#
# Must run as root: it wraps itself in tests/imaging/udisks-session.sh, makes the ISO (with the
# build's bench/windows-iso, the imaging tests' fixture), the finished image (one untimed
# `compose --output`), the scratch folder and a sparse backing file in a temporary folder inside
# BUILD_DIR (on the same disk as the work tree), and sets the loop device up through UDisks.
# Everything it starts or creates is removed again, also on failure or Ctrl-C.
#
# Environment: RD_BENCH_LOOP_DIO=0 keeps the loop device on buffered I/O; RD_BENCH_SPLIT_MIB
# sets --split-size (default 4094: a 1 GiB install.wim is copied whole; smaller values time the
# split into .swm parts that real, larger install.wim files need); RD_BENCH_VERIFY=0.

set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=lib/loop-bench.sh
. "$here/lib/loop-bench.sh"
bench_args 32 "$@"
split_mib=${RD_BENCH_SPLIT_MIB:-4094}
verify_args=()
[ "${RD_BENCH_VERIFY:-1}" = 0 ] && verify_args=(--no-verify)
bench_setup "${BASH_SOURCE[0]}" "$1" udisksctl losetup genisoimage wimlib-imagex -- "$@"

isotool="$builddir/bench/windows-iso"
[ -x "$isotool" ] || { echo "$0: $isotool not built (ninja -C $builddir bench/windows-iso)" >&2; exit 2; }

# The ISO, the finished image and the backing file hold SIZE each, the scratch image SIZE while
# a run composes.
bench_workdir $((size_mib * 1024 * 45 / 10 + 512 * 1024))
mkdir "$workdir/iso" "$workdir/scratch" || die "could not make folders in $workdir"
scratch="$workdir/scratch"
events="$workdir/events"
stderr_log="$workdir/stderr"

# The other files of the fixture and the FAT32 overhead are a few MiB: the key is about SIZE.
echo "Making a Windows-like ISO with a $((size_mib - 8)) MiB install.wim in $workdir…" >&2
iso=$("$isotool" "$workdir/iso" $((size_mib - 8))) || die "could not make the ISO"
rm -rf "$workdir/iso/iso-tree"

compose_args=(compose --iso "$iso" --layout setup --split-size "$split_mib" --scratch "$scratch"
              --progress json)
"$imager" "${compose_args[@]}" --output "$workdir/finished.img" >"$events" 2>"$stderr_log" \
  || die "recovery-desk-imager compose --output failed: $(cat "$stderr_log")"
image_size=$(stat -c %s "$workdir/finished.img")
truncate -s $((image_size + 64 * 1024 * 1024)) "$workdir/backing" \
  || die "could not make the backing file"
bench_loop_setup "$workdir/backing"

# Seconds per compose step, from the compose-progress events (one every 200 ms).
step_seconds () {
  grep -c "\"step\":\"$1\"" "$events" | awk '{ printf "%.1f", $1 * 0.2 }'
}

run_compose () {
  local t0 t seconds step

  drop_caches
  t0=$EPOCHREALTIME
  "$imager" "${compose_args[@]}" "${verify_args[@]}" --yes "$loopdev" >"$events" \
    2>"$stderr_log" || die "recovery-desk-imager compose failed: $(cat "$stderr_log")"
  t=$(elapsed "$t0")
  grep -q '"event":"done"' "$events" || die "no done event"
  [ -z "$(ls -A "$scratch")" ] || die "the scratch folder is not empty: $(ls -A "$scratch")"
  seconds=$(sed -n 's/.*"event":"compose-done".*"seconds":\([0-9.]*\).*/\1/p' "$events")
  add_sample compose-total "$t"
  add_sample compose-step "$seconds"
  add_sample compose-write "$(awk -v a="$t" -v b="$seconds" 'BEGIN { printf "%.6f", a - b }')"
  for step in preparing partitioning splitting copying; do
    add_sample "step-$step" "$(step_seconds "$step")"
  done
  printf '  %-22s %7.2f s  (composing %.2f s)\n' "compose + write" "$t" "$seconds" >&2
}

run_raw () {
  local t0 t

  drop_caches
  t0=$EPOCHREALTIME
  "$imager" write "$workdir/finished.img" "$loopdev" "${verify_args[@]}" --yes --progress json \
    >"$events" 2>"$stderr_log" || die "recovery-desk-imager write failed: $(cat "$stderr_log")"
  t=$(elapsed "$t0")
  grep -q '"event":"done"' "$events" || die "no done event"
  add_sample raw-write "$t"
  printf '  %-22s %7.2f s\n' "write finished image" "$t" >&2
}

echo "Loop device $loopdev ($loop_mode) over $workdir/backing; image $image_size bytes;" \
  "$rounds rounds; page cache $(caches_note)" >&2
for ((round = 1; round <= rounds; round++)); do
  echo "Round $round/$rounds" >&2
  # Alternate which goes first, so neither always follows the other.
  if ((round % 2)); then
    run_raw; run_compose
  else
    run_compose; run_raw
  fi
done

read -r -a c <<<"$(stats compose-total 2)"
read -r -a r <<<"$(stats raw-write 2)"
ratio=$(awk -v a="${c[1]}" -v b="${r[1]}" 'BEGIN { printf "%.3f", a / b }')
if awk -v x="$ratio" 'BEGIN { exit !(x <= 1.3) }'; then
  verdict=PASS
else
  verdict=MISS
fi

echo
echo "compose-throughput: $((image_size / 1024 / 1024)) MiB Windows-setup key, split at" \
  "$split_mib MiB, $rounds rounds, loop $loop_mode, verify $([ "${#verify_args[@]}" = 0 ] && echo on || echo off)," \
  "$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "median [min–max] of rounds, seconds; ratio = median / baseline median"
printf '%-34s %7.2f s [%s–%s]  vs %7.2f s [%s–%s]  ratio %.3f  target ≤ 1.30  %s\n' \
  "compose+write vs write raw image" "${c[1]}" "${c[0]}" "${c[2]}" "${r[1]}" "${r[0]}" "${r[2]}" \
  "$ratio" "$verdict"
read -r -a s <<<"$(stats compose-step 2)"
read -r -a w <<<"$(stats compose-write 2)"
printf '  composing (compose-done.seconds) %7.2f s [%s–%s]; writing it %7.2f s [%s–%s]\n' \
  "${s[1]}" "${s[0]}" "${s[2]}" "${w[1]}" "${w[0]}" "${w[2]}"
printf '  composing by step (200 ms progress ticks, median):'
for step in preparing partitioning splitting copying; do
  read -r -a x <<<"$(stats "step-$step" 1)"
  printf ' %s %s s' "$step" "${x[1]}"
done
printf '\n'
[ "$verdict" = PASS ]
