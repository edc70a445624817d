#!/usr/bin/env bash
# Instructions per message for each corpus message, counted by callgrind inside
# the benchmark loops of perf/sipparse_bench: a figure that other load on the
# machine does not change (wall time on a shared VM does, by up to 2x).
#
# Usage: perf/callgrind_parse.sh [BENCH_BINARY]   (default build-release/perf/sipparse_bench)
# Prints: message, sipfront index+fields, sipfront index only (avx2), libosip2, ratio.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bench=${1:-$top/build-release/perf/sipparse_bench}
[ -x "$bench" ] || { echo "callgrind_parse: no benchmark binary at $bench (see perf/RESULTS.md to build it)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind_parse: valgrind is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=perf/callgrind_lib.sh
. "$top/perf/callgrind_lib.sh"

# Ir per iteration of one benchmark: the instructions counted while its function
# runs (every run Google Benchmark makes of it, the calibration runs included),
# divided by the calls it made to the parse entry point, one per iteration.
per_iter() {  # $1 = benchmark name (exact), $2 = function pattern to collect, $3 = per-iteration function
  local out="$work/cg.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$2" \
    "$bench" --benchmark_filter="^$1\$" --benchmark_min_time=0.02 >/dev/null 2>&1
  local iters ir
  iters=$(calls_to "$out" "$3")
  [ -n "$iters" ] && [ "$iters" -gt 0 ] || { echo "callgrind_parse: $1 did not run" >&2; exit 1; }
  ir=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo $((ir / iters))
}

printf '%-24s %10s %10s %10s %7s\n' message sipfront index libosip2 ratio
for f in "$top"/perf/corpus/*.sip; do
  m=$(basename "$f" .sip)
  sf=$(per_iter "BM_parse/sipfront/$m" '*bm_sipfront(*' 'sipfront::sip::message::parse(')
  ix=$(per_iter "BM_parse/sipfront_avx2/$m" '*bm_sipfront_index*' 'sipfront::sip::message::parse(')
  os=$(per_iter "BM_parse/libosip2/$m" '*bm_osip*' 'osip_message_parse')
  awk -v m="$m" -v sf="$sf" -v ix="$ix" -v os="$os" 'BEGIN {printf "%-24s %10d %10d %10d %6.1fx\n", m, sf, ix, os, os / sf}'
done
