# SPDX-License-Identifier: GPL-3.0-or-later
#
# Shared by the loop-device benchmarks (imaging-throughput.sh, compose-throughput.sh); sourced,
# not run. The sourcing script sets `here` (its folder) and calls, in this order:
#
#   bench_args MIN_SIZE_MIB ARG...                    BUILD_DIR [SIZE_MIB] [ROUNDS]: $size_mib
#                                                     (default 1024), $rounds (default 3)
#   bench_setup SCRIPT BUILD_DIR TOOL... -- ARG...   root check, the helper, re-exec inside
#                                                     tests/imaging/udisks-session.sh
#   bench_workdir NEED_KIB                            a temporary folder in BUILD_DIR (same disk
#                                                     as the work tree), removed on exit
#   bench_loop_setup BACKING_FILE                     a loop device through UDisks ($loopdev), on
#                                                     direct I/O unless RD_BENCH_LOOP_DIO=0
#   drop_caches; t0=$EPOCHREALTIME; ...; add_sample LABEL "$(elapsed "$t0")"; stats LABEL
#
# Everything it starts or creates (the loop device, the folder, children left by an interrupt)
# is removed again on exit, also on failure or Ctrl-C.

srcdir=$(dirname "$here")
size_mib=""
rounds=""
builddir=""
imager=""
workdir=""
loopdev=""
loop_mode=""
can_drop=0
declare -A samples

die () {
  echo "$0: $*" >&2
  exit 1
}

bench_usage () {
  echo "usage: sudo bash $0 BUILD_DIR [SIZE_MIB] [ROUNDS]" >&2
  exit 2
}

# bench_args MIN_SIZE_MIB ARG...: the script's own ARGs; a SIZE_MIB below MIN_SIZE_MIB, a
# ROUNDS that is not a whole number from 1, or a wrong count of ARGs prints the usage.
bench_args () {
  local min=$1

  shift
  [ "$#" -ge 1 ] && [ "$#" -le 3 ] || bench_usage
  size_mib=${2:-1024}
  rounds=${3:-3}
  [[ "$size_mib" =~ ^[1-9][0-9]*$ && "$size_mib" -ge "$min" && "$rounds" =~ ^[1-9][0-9]*$ ]] \
    || bench_usage
}

# bench_setup SCRIPT BUILD_DIR TOOL... -- ARG...: ARGs are the script's own, for the re-exec.
bench_setup () {
  local script=$1 tool

  builddir=$(cd "$2" 2>/dev/null && pwd) || { echo "$0: no build folder $2" >&2; exit 2; }
  shift 2
  imager="$builddir/src/imager/recovery-desk-imager"
  if [ "$(id -u)" -ne 0 ]; then
    echo "$0: must run as root (loop devices, udisksd, dropping caches)" >&2
    exit 77
  fi
  if [ ! -x "$imager" ]; then
    echo "$0: $imager not built (ninja -C $builddir)" >&2
    exit 2
  fi
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    command -v "$1" >/dev/null 2>&1 || { echo "$0: $1 not found" >&2; exit 77; }
    shift
  done
  [ "${1:-}" = "--" ] && shift

  # Run once more inside a private system bus, udevd and udisksd (started only if missing).
  if [ -z "${RD_BENCH_IN_SESSION:-}" ]; then
    RD_BENCH_IN_SESSION=1 exec "$srcdir/tests/imaging/udisks-session.sh" bash "$script" "$@"
  fi

  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  if sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
    can_drop=1
  fi
}

bench_cleanup () {
  local status=$?

  trap - EXIT INT TERM
  # Children first (a pipeline left running by an interrupt), then the loop device, then files.
  jobs -p | xargs -r kill 2>/dev/null
  wait 2>/dev/null
  if [ -n "$loopdev" ]; then
    udisksctl loop-delete --no-user-interaction -b "$loopdev" >/dev/null 2>&1 \
      || losetup -d "$loopdev" 2>/dev/null \
      || echo "$0: could not detach $loopdev" >&2
  fi
  if [ -n "$workdir" ]; then
    rm -rf "$workdir"
  fi
  exit "$status"
}

# bench_workdir NEED_KIB: fails unless that much is free next to the build folder.
bench_workdir () {
  local avail_kib

  avail_kib=$(df -Pk "$builddir" | awk 'NR == 2 { print $4 }')
  if [ "$avail_kib" -lt "$1" ]; then
    die "needs $(($1 / 1024)) MiB free next to $builddir, has $((avail_kib / 1024)) MiB"
  fi
  workdir=$(mktemp -d "$builddir/$(basename "$0" .sh).XXXXXX") \
    || die "could not make a temporary folder"
}

bench_loop_setup () {
  local out

  out=$(udisksctl loop-setup --no-user-interaction -f "$1" 2>&1) \
    || die "udisksctl loop-setup failed: $out"
  loopdev=$(printf '%s\n' "$out" | grep -o '/dev/loop[0-9]*' | head -n 1)
  [ -n "$loopdev" ] || die "no loop device in: $out"
  udevadm settle --timeout=30
  loop_mode="buffered"
  if [ "${RD_BENCH_LOOP_DIO:-1}" != 0 ] && losetup --direct-io=on "$loopdev" 2>/dev/null; then
    loop_mode="direct I/O"
  fi
}

drop_caches () {
  sync
  if [ "$can_drop" = 1 ]; then
    echo 3 >/proc/sys/vm/drop_caches
  fi
}

caches_note () {
  [ "$can_drop" = 1 ] && echo "dropped before each run" || echo "NOT dropped (not permitted)"
}

# Seconds since an EPOCHREALTIME, to the microsecond.
elapsed () {
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'
}

# add_sample LABEL VALUE: VALUE is whatever the script compares (MiB/s, seconds).
add_sample () {
  samples[$1]="${samples[$1]:-} $2"
}

# stats LABEL [DECIMALS]: "min median max" of a sample list (default 1 decimal).
stats () {
  printf '%s\n' ${samples[$1]} | sort -n | awk -v d="${2:-1}" '{ v[NR] = $1 }
    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          f = "%." d "f"
          printf f " " f " " f, v[1], m, v[NR] }'
}
