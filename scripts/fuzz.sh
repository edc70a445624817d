#!/usr/bin/env bash
# fuzz.sh [SECONDS]: fuzzes the SIP parser (tests/fuzz/sipparse_fuzz) for SECONDS
# (default 60) and exits non-zero on any crash, invariant violation, sanitizer
# report, leak, timeout or out-of-memory.
#
# Builds in <repo>/build-fuzz with clang, ASan+UBSan and -fsanitize=fuzzer-no-link
# (coverage on the sipparse library too), then runs libFuzzer over a COPY of
# tests/fuzz/corpus in a temporary directory with tests/fuzz/sip.dict. Nothing in
# the repository is written except build-fuzz/. Idempotent; works from any cwd;
# needs no network.
#
# On a failure the temporary directory is kept: it holds the log and the
# reproducer (artifacts/crash-*, leak-*, timeout-*, oom-*). Re-run one with
#   build-fuzz/tests/fuzz/sipparse_fuzz <file>
# minimize it with -minimize_crash=1 -exact_artifact_path=<out>, and add it to
# tests/fuzz/corpus/ as crash-<name> once the bug is fixed.
#
# Environment: FUZZ_BUILD_DIR (default <repo>/build-fuzz), FUZZ_KEEP=1 keeps the
# temporary directory (grown corpus, log) on success too, FUZZ_JOBS for ninja -j.
set -euo pipefail

die() {
  echo "fuzz.sh: $*" >&2
  exit 2
}

duration=${1:-60}
if ! [[ $duration =~ ^[0-9]+$ ]] || ((10#$duration == 0)); then
  die "usage: fuzz.sh [SECONDS]  (a positive integer, got '$duration')"
fi

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$top/build-fuzz}
fuzz_src=$top/tests/fuzz
binary=$build/tests/fuzz/sipparse_fuzz

command -v clang++ >/dev/null || die "clang++ not found (apt-get install clang libclang-rt-14-dev)"
command -v meson >/dev/null || die "meson not found"
command -v ninja >/dev/null || die "ninja not found"
[[ -d $fuzz_src/corpus && -f $fuzz_src/sip.dict ]] || die "missing $fuzz_src/corpus or $fuzz_src/sip.dict"

# ---------------------------------------------------------------- configure + build
# tests=true: tests/meson.build is only entered with it, and it holds subdir('fuzz').
# Only the fuzz target is built; the GoogleTest binaries are configured, not compiled.
# shellcheck disable=SC2054  # b_sanitize takes a comma-separated list
options=(
  -Dfuzz=true
  -Dtests=true
  -Dbenchmarks=false
  -Db_sanitize=address,undefined
  -Db_lundef=false
)
export CC=clang CXX=clang++
# Quiet on success; meson's own report (it prints errors on stdout) on failure.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" | tail -n 40 >&2
    die "failed: $*"
  fi
}
# True when some option differs from the build directory's (meson is Python, so python3 is there).
options_differ() {
  python3 - "$build/meson-info/intro-buildoptions.json" "${options[@]}" <<'PY'
import json, sys
have = {o["name"]: o["value"] for o in json.load(open(sys.argv[1]))}
def text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return ",".join(v) if isinstance(v, list) else str(v)
wanted = (a[2:].split("=", 1) for a in sys.argv[2:])
sys.exit(0 if any(text(have.get(k)) != v for k, v in wanted) else 1)
PY
}
cd "$top"
if [[ -f $build/build.ninja ]] && grep -A1 '^rule cpp_COMPILER' "$build/build.ninja" | grep -q 'command = clang++'; then
  if options_differ; then quiet meson configure "$build" "${options[@]}"; fi
else
  # Never configured, a failed configure, or another compiler: start afresh.
  [[ -d $build/meson-private ]] && rm -rf -- "$build"
  quiet meson setup --wrap-mode=nodownload "$build" "${options[@]}"
fi
ninja -C "$build" ${FUZZ_JOBS:+-j"$FUZZ_JOBS"} tests/fuzz/sipparse_fuzz
[[ -x $binary ]] || die "build produced no $binary"

# ---------------------------------------------------------------- run
work=$(mktemp -d "${TMPDIR:-/tmp}/sipparse-fuzz.XXXXXX")
ok=0
finish() {
  if ((ok)) && [[ ${FUZZ_KEEP:-0} != 1 ]]; then
    rm -rf -- "$work"
  else
    echo "fuzz.sh: kept $work (log, corpus, artifacts)" >&2
  fi
}
trap finish EXIT

mkdir -p "$work/corpus" "$work/artifacts"
find "$fuzz_src/corpus" -maxdepth 1 -type f -exec cp -t "$work/corpus" -- {} +
chmod -R u+w "$work/corpus"
seeds=$(find "$work/corpus" -type f | wc -l)

echo "fuzz.sh: fuzzing sipparse for ${duration} s from ${seeds} seeds (log: $work/fuzz.log)"
status=0
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$binary" "$work/corpus" \
  -dict="$fuzz_src/sip.dict" \
  -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -max_total_time="$duration" -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" \
  >"$work/fuzz.log" 2>&1 || status=$?

# A report counts even if the exit status were 0 (e.g. a recoverable UBSan check).
report_re='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|invariant violated|SUMMARY: '
artifacts=$(find "$work/artifacts" -type f | sort)
if ((status != 0)) || grep -Eq "$report_re" "$work/fuzz.log" || [[ -n $artifacts ]]; then
  echo "---- last lines of $work/fuzz.log" >&2
  tail -n 60 "$work/fuzz.log" >&2
  echo "----" >&2
  grep -Em 5 "$report_re" "$work/fuzz.log" | sed 's/^/fuzz.sh: report: /' >&2 || true
  echo "fuzz.sh: FAILED (exit status $status)" >&2
  while IFS= read -r a; do
    [[ -n $a ]] && echo "fuzz.sh: reproducer: $binary $a" >&2
  done <<<"$artifacts"
  exit 1
fi
ok=1

final_stat() { sed -n "s/^stat::$1: *//p" "$work/fuzz.log" | tail -n 1; }
execs=$(final_stat number_of_executed_units)
rate=$(final_stat average_exec_per_sec)
added=$(final_stat new_units_added)
rss=$(final_stat peak_rss_mb)
last=$(grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1 || true)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
files=$(find "$work/corpus" -type f | wc -l)
echo "fuzz.sh: OK ${duration}s: ${execs:-?} execs (${rate:-?}/s), corpus ${corp:-?} in memory," \
  "${seeds} seeds -> ${files} files (+${added:-?} new), cov ${cov:-?} ft ${ft:-?}, peak RSS ${rss:-?} MB"
