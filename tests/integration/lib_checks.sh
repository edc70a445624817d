# shellcheck shell=bash
# Check bookkeeping for the integration tests (sourced by every lab test):
# timestamped log lines, pass/fail counts and the failures' names for the
# closing summary, and the preflight checks they share.
#
# The test sets ROOT (the source tree) and HERE (tests/integration) and sources
# this file first; that also sets what every lab test shares: LAB
# (scripts/lab.sh), LABD (scripts/lab), the defaults of SIPFRONT_BIN
# (build/dataplane/sipfront), SIPFRONT_PROFILE (nic-profiles/af_packet.json)
# and WORKERS (SF_WORKERS, 2), sources scripts/lab/common.sh and
# lib_sipfront.sh, sets FE (sipfront's SIP address on the phones' side), starts
# the clock (T0=${SECONDS}) and sets lab_started=0.
# Then sfd_it_begin (lib_sipfront.sh) makes the run dir and installs the traps.
#
#   log MSG...              a line prefixed with the seconds since T0
#   ok MSG... / bad MSG...  count a passed / failed check and log it
#   check WHAT CMD...       ok WHAT when CMD succeeds, else bad WHAT
#   fatal MSG...            bad MSG, then exit 1 (the caller's EXIT trap cleans up)
#   known_limit MSG...      note a known limitation (listed in the summary)
#   need_root               fatal unless running as root
#   need_tools TOOL...      fatal "missing tool: TOOL" for the first one not in PATH
#   need_numbers V...       fatal "not a number: V" for the first V not all digits
#   bg_pids                 array: PIDs of the background jobs the test started
#                           (bg_stop TERMs and reaps the ones still running)
#   checks_summary NAME KEEPVAR [--limits] [--rmdir-empty]
#                           the closing summary, then exit 0 iff nothing failed:
#                           counts a non-zero RC (${1} of the EXIT trap, see
#                           sfd_it_cleanup) as a failure, lists known limits and
#                           failures and the last sipfront log lines (SFD_LOG),
#                           keeps SF_LAB_RUN on failure or when ${KEEPVAR} is 1,
#                           else removes it; prints "NAME: N passed, M failed
#                           (T s)". --limits adds ", K known limit(s)" to that
#                           line; --rmdir-empty removes an empty run dir on
#                           failure instead of saying it was kept.

LAB="${ROOT}/scripts/lab.sh"
LABD="${ROOT}/scripts/lab"
SIPFRONT_BIN=${SIPFRONT_BIN:-${ROOT}/build/dataplane/sipfront}
SIPFRONT_PROFILE=${SIPFRONT_PROFILE:-${ROOT}/nic-profiles/af_packet.json}
WORKERS=${SF_WORKERS:-2}
# shellcheck source=SCRIPTDIR/../../scripts/lab/common.sh
. "${LABD}/common.sh"
# shellcheck source=SCRIPTDIR/lib_sipfront.sh
. "${HERE}/lib_sipfront.sh"
# shellcheck disable=SC2034  # FE is for the test that sources this file
FE="${SF_IP_FE_ACC}:${SF_SIP_PORT}" # where the phones reach sipfront

T0=${SECONDS}
lab_started=0
passed=0
failed=0
declare -a failures=()
declare -a limits=()
declare -a bg_pids=()

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

known_limit() {
    limits+=("$*")
    log "KNOWN LIMIT - $*"
}

need_root() {
    [[ ${EUID} -eq 0 ]] || fatal "must run as root (network namespaces)"
}
need_tools() {
    local tool
    for tool in "$@"; do
        command -v "${tool}" >/dev/null || fatal "missing tool: ${tool}"
    done
}
need_numbers() {
    local v
    for v in "$@"; do
        [[ ${v} =~ ^[0-9]+$ ]] || fatal "not a number: ${v}"
    done
}

bg_stop() {
    local p
    for p in "${bg_pids[@]}"; do
        if kill -0 "${p}" 2>/dev/null; then
            kill -TERM "${p}" 2>/dev/null
            wait "${p}" 2>/dev/null
        fi
    done
}

checks_summary() {
    local rc=$1 name=$2 keepvar=$3 opt with_limits=0 rmdir_empty=0 f
    shift 3
    for opt in "$@"; do
        case ${opt} in
            --limits) with_limits=1 ;;
            --rmdir-empty) rmdir_empty=1 ;;
            *) echo "checks_summary: unknown option ${opt}" >&2 ;;
        esac
    done
    if ((failed == 0 && rc != 0)); then
        failed=1 # aborted before any check failed (e.g. interrupted)
    fi
    echo
    for f in "${limits[@]}"; do echo "  known limit: ${f}"; done
    if ((failed > 0)); then
        for f in "${failures[@]}"; do echo "  failed: ${f}"; done
        if [[ -e ${SFD_LOG} ]]; then
            echo "  last sipfront log lines (${SFD_LOG}):"
            grep -v '^ *$' "${SFD_LOG}" | tail -n 30 | sed 's/^/    /'
        fi
        if ((rmdir_empty)); then
            rmdir "${SF_LAB_RUN}" 2>/dev/null || echo "  logs kept in ${SF_LAB_RUN}"
        else
            echo "  logs kept in ${SF_LAB_RUN}"
        fi
    elif [[ ${!keepvar:-0} != 1 ]]; then
        rm -rf "${SF_LAB_RUN}"
    else
        echo "  logs kept in ${SF_LAB_RUN}"
    fi
    if ((with_limits)); then
        echo "${name}: ${passed} passed, ${failed} failed, ${#limits[@]} known limit(s) ($((SECONDS - T0)) s)"
    else
        echo "${name}: ${passed} passed, ${failed} failed ($((SECONDS - T0)) s)"
    fi
    ((failed == 0)) && exit 0
    exit 1
}
