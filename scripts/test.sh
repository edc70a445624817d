#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite of sipfront:
# format check, clang-tidy, unit tests (plain and ASan+UBSan), integration tests
# in network namespaces, and the parser fuzzer. Exits non-zero on any failure.
#
# Environment: FUZZ_SECONDS (default 60), SKIP_TIDY=1, SKIP_FUZZ=1, SKIP_INTEGRATION=1
# for quicker local runs (CI sets none of them).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

step() { printf '\n=== %s\n' "$*"; }

# Runs `meson test` and adds its Ok/Fail counts to the closing summary.
passed=0
failed=0
suite() {
  local log rc=0
  log=$(mktemp)
  meson test "$@" 2>&1 | tee "$log" || rc=$?
  passed=$((passed + $(awk '/^Ok:/ {n += $2} END {print n + 0}' "$log")))
  failed=$((failed + $(awk '/^Fail:|^Timeout:/ {n += $2} END {print n + 0}' "$log")))
  rm -f "$log"
  if [ "$rc" -ne 0 ]; then
    echo "$passed passed, $failed failed"
    exit "$rc"
  fi
}

step "bootstrap"
./scripts/bootstrap.sh

step "format check (.clang-format)"
mapfile -t sources < <(git ls-files -co --exclude-standard '*.cpp' '*.hpp' '*.h' '*.cc' | grep -v '^build' || true)
[ ${#sources[@]} -gt 0 ] && clang-format --dry-run --Werror "${sources[@]}"

step "configure + build (warnings are errors)"
[ -f build/build.ninja ] || meson setup build --werror -Dbuildtype=debugoptimized
meson configure build --werror >/dev/null
ninja -C build -j"$jobs"

if [ "${SKIP_TIDY:-0}" != 1 ]; then
  step "clang-tidy (.clang-tidy) on the libraries"
  mapfile -t lib_sources < <(git ls-files -co --exclude-standard 'sipparse/src/*.cpp' 'regengine/src/*.cpp' 'ctrl/src/*.cpp' 'dataplane/src/*.cpp')
  # clang-tidy parses the build's commands as clang would: drop the GCC-only tuning
  # flags of meson.build (clang rejects them) from a copy of the compile database.
  tidy_db=$(mktemp -d)
  python3 - build/compile_commands.json "$tidy_db/compile_commands.json" <<'PY'
import json, re, sys
db = json.load(open(sys.argv[1]))
for e in db:
    e["command"] = re.sub(r"\s-mmem(set|cpy)-strategy=\S+", "", e["command"])
json.dump(db, open(sys.argv[2], "w"))
PY
  tidy_rc=0
  tidy_out=$(clang-tidy --quiet -p "$tidy_db" "${lib_sources[@]}" 2>&1) || tidy_rc=$?
  rm -rf "$tidy_db"
  if [ "$tidy_rc" -ne 0 ]; then
    printf '%s\n' "$tidy_out" | grep -v 'warnings generated' >&2
    echo "clang-tidy found problems" >&2
    exit 1
  fi
fi

step "unit tests"
suite -C build --print-errorlogs --no-rebuild --suite unit

step "unit tests under ASan + UBSan"
[ -f build-asan/build.ninja ] ||
  meson setup build-asan --werror -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false
ninja -C build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  suite -C build-asan --print-errorlogs --no-rebuild --suite unit

step "DPDK tests (EAL --no-huge on net_ring: steering, ARP, reassembly)"
suite -C build --print-errorlogs --no-rebuild --suite dataplane

if [ "${SKIP_INTEGRATION:-0}" != 1 ]; then
  step "integration tests (network namespaces, sipp, Kamailio)"
  suite -C build --print-errorlogs --no-rebuild --suite integration
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  step "fuzzing sipparse for ${FUZZ_SECONDS:-60} s"
  ./scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
fi

step "all test suites passed"
echo "$passed passed, $failed failed"
