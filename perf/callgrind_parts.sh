#!/usr/bin/env bash
# Instructions per message for each part of BM_parse/sipfront/<msg>: the index
# and each accessor the benchmark calls, counted by callgrind (inclusive, per
# iteration). The figure to watch while tuning one part of the parser: unlike
# wall time on this shared VM, it does not move with other load.
#
# Needs a release build with debug info (function names), e.g.
#   meson setup build-prof --buildtype=release -Ddebug=true -Dtests=false
#   ninja -C build-prof perf/sipparse_bench
# Usage: perf/callgrind_parts.sh [MSG] [BUILD_DIR]   (defaults: register_yealink, build-prof)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
msg=${1:-register_yealink}
build=${2:-$top/build-prof}
bench=$build/perf/sipparse_bench
[ -x "$bench" ] || { echo "callgrind_parts: no benchmark binary at $bench (see the header of this script)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind_parts: valgrind is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/cg.out
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='*bm_sipfront(*' \
  "$bench" --benchmark_filter="^BM_parse/sipfront/$msg\$" --benchmark_min_time=0.02 >/dev/null 2>&1
# Iterations: calls made to message::parse (once per iteration, calibration runs included).
# shellcheck source=perf/callgrind_lib.sh
. "$top/perf/callgrind_lib.sh"
iters=$(calls_to "$out" "sipfront::sip::message::parse(")
[ "${iters:-0}" -gt 0 ] || { echo "callgrind_parts: the benchmark did not run" >&2; exit 1; }
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | python3 -c '
import re, sys
iters = int(sys.argv[1])
parts = [  # (label, function name as callgrind_annotate prints it, up to the argument list)
    ("index: message::parse", "sipfront::sip::message::parse("),
    ("  start line", "sipfront::sip::message::parse_start_line("),
    ("  frame_body (Content-Length)", "sipfront::sip::message::frame_body("),
    ("fields: everything below", "(anonymous namespace)::sipfront_fields("),
    ("  Call-ID: parse_call_id", "sipfront::sip::parse_call_id("),
    ("  CSeq: parse_cseq", "sipfront::sip::parse_cseq("),
    ("  Via: top_via", "sipfront::sip::top_via("),
    ("  From+To: split_name_addr x2", "sipfront::sip::split_name_addr("),
    ("  Contact: first_name_addr", "sipfront::sip::first_name_addr("),
    ("  Expires: parse_delta_seconds", "sipfront::sip::parse_delta_seconds("),
]
ir = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
    if not m:
        continue
    n = int(m.group(1).replace(",", ""))
    # "file:function [object]": the function follows the first ":" after the file name.
    fn = m.group(2).split(":", 1)[1] if ":" in m.group(2) else m.group(2)
    for label, name in parts:
        # A function appears once per file its lines come from; the largest figure is the whole function.
        if fn.startswith(name):
            ir[label] = max(ir.get(label, 0), n)
print("%-34s %8s" % ("part (per message, inclusive)", "instr"))
for label, _ in parts:
    print("%-34s %8d" % (label, ir.get(label, 0) // iters))
total = ir.get("index: message::parse", 0) + ir.get("fields: everything below", 0)
print("%-34s %8d" % ("total: index + fields", total // iters))
' "$iters"
