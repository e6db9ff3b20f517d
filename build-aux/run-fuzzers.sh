#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang and runs each for a while:
#   bash build-aux/run-fuzzers.sh [SECONDS_PER_TARGET]   (default 30)
# The build directory (_build-fuzz, or $RD_FUZZ_BUILD) is configured when it
# is missing. Each target runs on a copy of its seed corpus in
# BUILD/fuzz-run/TARGET/, so the repository is not modified; a crash, leak,
# sanitizer report or timeout fails the run and names the reproducer, which
# replays with BUILD/fuzz/fuzz-TARGET REPRODUCER. When RD_TEST_TALLY is set
# (as .ci/run sets it), "passed failed 0" is added to that tally file.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-30}
build=${RD_FUZZ_BUILD:-_build-fuzz}
targets=(graph-page graph-error token-response jwt-claims plan-store core-json iso-reader)

cd "$top"
if [ ! -f "$build/build.ninja" ]; then
  rm -rf "$build"
  # The libraries get the coverage instrumentation (fuzzer-no-link) and the
  # sanitizers; fuzz/meson.build links the targets with -fsanitize=fuzzer.
  CC=clang meson setup "$build" -Dfuzzing=true -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false \
    "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined"
fi
if ! meson compile -C "$build" "${targets[@]/#/fuzz/fuzz-}"; then
  echo "run-fuzzers: the fuzz targets did not build"
  [ -z "${RD_TEST_TALLY:-}" ] || echo "0 ${#targets[@]} 0" >> "$RD_TEST_TALLY"
  exit 1
fi

run=$build/fuzz-run
rm -rf "$run"
mkdir -p "$run"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
export LC_ALL=C.UTF-8
unset G_MESSAGES_DEBUG RD_FUZZ_VERBOSE

passed=0
failed=0
failures=()
for target in "${targets[@]}"; do
  dir=$run/$target
  mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/tmp"
  cp fuzz/corpus/"$target"/* "$dir/corpus/"
  # The ISO reader reads no JSON, and its inputs are sparse images of a few
  # KiB (see fuzz/fuzz-iso-reader.c) that need room to grow; the others keep
  # libFuzzer's default length, the largest seed's.
  extra=()
  case $target in
    iso-reader) : > "$dir/dict"; extra=(-max_len=65536) ;;
    *) cat fuzz/json.dict > "$dir/dict" ;;
  esac
  [ -f "fuzz/$target.dict" ] && cat "fuzz/$target.dict" >> "$dir/dict"

  echo "run-fuzzers: fuzz-$target for ${seconds}s"
  rc=0
  TMPDIR=$dir/tmp "$build/fuzz/fuzz-$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -dict="$dir/dict" "${extra[@]}" \
    -artifact_prefix="$dir/artifacts/" "$dir/corpus" > "$dir/log" 2>&1 || rc=$?

  reproducers=$(find "$dir/artifacts" -type f | sort)
  if [ $rc -eq 0 ] && [ -z "$reproducers" ]; then
    passed=$((passed + 1))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
    cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n 1 || true)
    echo "run-fuzzers: fuzz-$target clean: ${execs:-?} runs, ${cov:-cov: ?}"
  else
    failed=$((failed + 1))
    failures+=("$target")
    echo "run-fuzzers: fuzz-$target FAILED (exit $rc); log: $dir/log"
    grep -E 'ERROR: |SUMMARY: |runtime error|rd-fuzz: |ERROR \*\*|assertion' "$dir/log" | head -n 20 || true
    for reproducer in $reproducers; do
      echo "run-fuzzers: reproducer: $reproducer ($build/fuzz/fuzz-$target $reproducer)"
    done
  fi
done

echo "run-fuzzers: $passed targets clean, $failed failed${failures[*]:+ (${failures[*]})}"
if [ -n "${RD_TEST_TALLY:-}" ]; then
  echo "$passed $failed 0" >> "$RD_TEST_TALLY"
fi
[ $failed -eq 0 ]
