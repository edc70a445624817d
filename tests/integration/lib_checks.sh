# shellcheck shell=bash
# Check bookkeeping for the integration tests (sourced by passthrough.sh and
# ratelimit.sh): timestamped log lines, pass/fail counts and the failures' names
# for the closing summary. The caller sets T0=${SECONDS} at its start.
#
#   log MSG...              a line prefixed with the seconds since T0
#   ok MSG... / bad MSG...  count a passed / failed check and log it
#   check WHAT CMD...       ok WHAT when CMD succeeds, else bad WHAT
#   fatal MSG...            bad MSG, then exit 1 (the caller's EXIT trap cleans up)

passed=0
failed=0
declare -a failures=()

log() { printf '[%3ds] %s\n' "$((SECONDS - T0))" "$*"; }
ok() {
    passed=$((passed + 1))
    log "ok   - $*"
}
bad() {
    failed=$((failed + 1))
    failures+=("$*")
    log "FAIL - $*"
}
check() {
    local what=$1
    shift
    if "$@"; then ok "${what}"; else bad "${what}"; fi
}
# A step without which nothing later means anything.
fatal() {
    bad "$*"
    exit 1
}
