#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# sync-100k.sh [BUILD_DIR] [RUNS]
#
# The sync benchmark of issue 3 (see bench/README.md): builds bench/demo-server and
# bench/sync-100k in BUILD_DIR (default _build-perf, best configured with
# -Dbuildtype=release), starts one demo tenant of 100,000 generated devices in its own process,
# runs the benchmark RUNS times (default 3) against it, each run timing curl and then
# RdTenantSync in a fresh process, and stops the server, also on failure or Ctrl-C. Prints every
# run and the min and median of each figure; exits 1 if the median misses a target.

set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(dirname "$here")
builddir=${1:-$srcdir/_build-perf}
runs=${2:-3}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [BUILD_DIR] [RUNS]" >&2; exit 2; }

if [ ! -d "$builddir" ]; then
  meson setup "$builddir" "$srcdir" -Dbuildtype=release >/dev/null || exit 1
fi
ninja -C "$builddir" bench/demo-server bench/sync-100k >/dev/null || exit 1

out=$(mktemp)
results=$(mktemp)
server_pid=
cleanup () {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -f "$out" "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$builddir/bench/demo-server" --devices=100000 --page-size=1000 >"$out" &
server_pid=$!
for _ in $(seq 600); do
  grep -qx ready "$out" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "$0: demo-server failed" >&2; exit 1; }
  sleep 0.1
done
grep -qx ready "$out" || { echo "$0: demo-server did not start" >&2; exit 1; }
graph_url=$(sed -n 's/^graph-url=//p' "$out")
tenant_id=$(sed -n 's/^tenant-id=//p' "$out")
token=$(sed -n 's/^token=//p' "$out")

for run in $(seq "$runs"); do
  echo "== run $run of $runs"
  "$builddir/bench/sync-100k" --graph-url "$graph_url" --tenant-id "$tenant_id" --token "$token" |
    tee -a "$results"
done

# min and median of each figure over the runs
grep '^RESULT' "$results" | awk -v runs="$runs" '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1], NR] = kv[2]; names[kv[1]] = 1 } }
  END {
    n = split("curl_s sync_s ratio rss_mb stall_ms cpu_s", order, " ")
    for (k = 1; k <= n; k++) {
      name = order[k]
      for (i = 1; i <= NR; i++) a[i] = v[name, i]
      for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      med = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
      printf "%-9s min %8.3f  median %8.3f\n", name, a[1], med
      m[name] = med
    }
    printf "median: ratio %.2f (target <= 1.5) %s, peak RSS %.0f MB (<= 300) %s, stall %.1f ms (< 50) %s\n",
      m["ratio"], m["ratio"] <= 1.5 ? "PASS" : "MISS", m["rss_mb"], m["rss_mb"] <= 300 ? "PASS" : "MISS",
      m["stall_ms"], m["stall_ms"] < 50 ? "PASS" : "MISS"
    exit !(m["ratio"] <= 1.5 && m["rss_mb"] <= 300 && m["stall_ms"] < 50)
  }'
