# shellcheck shell=bash
# Helpers to run the sipfront daemon inside the netns lab (sourced by the lab
# tests through tests/integration/lib_checks.sh, and by scripts/demo.sh; not a
# test itself).
#
# The caller sources scripts/lab/common.sh first, has SF_LAB_RUN set and the
# lab up in DPDK mode (scripts/lab.sh up, no --kernel-fe). The daemon is
# started with `ip netns exec sf-fe BIN EAL... -- --config --profile --workers`;
# `ip netns exec` execs it, so $! is the daemon's own PID. Everything is
# stopped by that PID only.
#
#   sfd_check_bin BIN               fail clearly when the binary is missing
#   sfd_lcores N                    EAL --lcores map: main lcore 0 on CPU 0,
#                                   workers spread over the other CPUs
#   sfd_start BIN CONFIG PROFILE N  start, wait until it answers OPTIONS on
#                                   198.18.1.1:5060 (SFD_START_TIMEOUT, 30 s);
#                                   sets SFD_PID, SFD_LOG
#   sfd_alive                       the daemon is still running
#   sfd_probe [SECONDS]             one OPTIONS probe from sf-ua (python sender)
#   sfd_counters OUTFILE            SIGUSR1, wait for the table, write the new
#                                   log bytes to OUTFILE
#   sfd_stop                        SIGTERM, wait (10 s), SIGKILL if needed;
#                                   sets SFD_EXIT (exit status or "killed")
#   sfd_counter_row TABLE NAME      the numbers of one counter row (see below)
#   counter_total TABLE NAME        sum over the workers of counter NAME in a
#                                   SIGUSR1 table (WORKERS set): the total
#                                   column, 0 when the row is omitted
#
# For the lab tests in tests/integration (they source lib_checks.sh, which
# sources this file and sets LAB, LABD, SIPFRONT_BIN, SIPFRONT_PROFILE, WORKERS
# and lab_started=0):
#
#   sfd_it_begin NAME KEEPVAR TAG [--kamailio] [--limits] [--rmdir-empty]
#                                   SIPFRONT_CONFIG defaults to
#                                   HERE/configs/NAME.json; makes the run dir
#                                   SF_LAB_RUN=/tmp/sipfront-it-TAG.XXXXXX
#                                   (exported); EXIT trap sfd_it_cleanup,
#                                   INT/TERM log "interrupted" and exit 130
#   sfd_it_cleanup                  the EXIT trap: TERM the test's bg_pids,
#                                   sfd_stop, and once the lab was started
#                                   (lab_started=1) lab.sh down (--kamailio: stop
#                                   the lab's one Kamailio first) and a failed
#                                   check for sf-* namespaces left behind; then
#                                   checks_summary NAME KEEPVAR [--limits]
#                                   [--rmdir-empty] (exits)
#   sfd_preflight                   root, the binary, NIC profile and config
#   sfd_no_lab_up                   fatal when sf-* namespaces exist already
#   sfd_lab_up                      lab_started=1, lab.sh up (DPDK), lab.env
#   sfd_it_start FAIL_MSG OK_MSG    sfd_start with the test's settings: fatal
#                                   "sipfront start FAIL_MSG", else ok
#                                   "sipfront pid PID OK_MSG"
#   sfd_it_counters FILE [LABEL]    sfd_counters into FILE, sets TABLE=FILE; ok
#                                   "[LABEL ]SIGUSR1: counters table printed"
#                                   or bad "[LABEL ]no counters table after
#                                   SIGUSR1" (and returns 1)
#   sfd_it_stop                     sfd_stop, check it exited with status 0

SFD_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sipsend.py"
SFD_PID=""
SFD_LOG=""
SFD_EXIT=""
SFD_FILE_PREFIX="sfit$$"

sfd_check_bin() {
    local bin=$1
    if [[ ! -x ${bin} ]]; then
        printf '%s: error: sipfront binary not found or not executable: %s\n' "${0##*/}" "${bin}" >&2
        printf '%s: error: build it first: meson setup build && ninja -C build (dataplane/ must exist)\n' "${0##*/}" >&2
        return 1
    fi
}

sfd_lcores() {
    local n=$1 ncpu i cpu map="0@0"
    ncpu=$(nproc)
    for ((i = 1; i <= n; i++)); do
        if ((ncpu > 1)); then cpu=$((1 + (i - 1) % (ncpu - 1))); else cpu=0; fi
        map+=",${i}@${cpu}"
    done
    echo "${map}"
}

sfd_alive() {
    [[ -n ${SFD_PID} ]] || return 1
    [[ -r /proc/${SFD_PID}/stat ]] || return 1
    local st
    st=$(sed 's/^.*) //' "/proc/${SFD_PID}/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ -n ${st} && ${st} != Z && ${st} != X ]]
}

sfd_probe() {
    local wait=${1:-1}
    ip netns exec "${SF_NS_UA}" timeout "$((${wait%.*} + 5))" python3 "${SFD_PY}" probe \
        --dst "${SF_IP_FE_ACC}:${SF_SIP_PORT}" --bind "${SF_IP_UA}" --port 5090 \
        --wait "${wait}" --interval 0.3 >/dev/null 2>&1
}

sfd_start() {
    local bin=$1 cfg=$2 prof=$3 n=$4 lc deadline
    sfd_check_bin "${bin}" || return 1
    [[ -r ${cfg} ]] || { sf_log "no config ${cfg}"; return 1; }
    [[ -r ${prof} ]] || { sf_log "no NIC profile ${prof}"; return 1; }
    lc=$(sfd_lcores "${n}")
    mkdir -p "${SF_LAB_RUN}/sipfront"
    SFD_LOG="${SF_LAB_RUN}/sipfront/sipfront.log"
    local -a cmd=("${bin}" --no-huge -m 512 --no-pci --lcores "${lc}"
        --file-prefix "${SFD_FILE_PREFIX}"
        -- --config "${cfg}" --profile "${prof}" --workers "${n}")
    echo "=== start $(date -u +%FT%TZ): ip netns exec ${SF_NS_FE} ${cmd[*]}" >>"${SFD_LOG}"
    sf_log "starting: ip netns exec ${SF_NS_FE} ${cmd[*]}"
    ip netns exec "${SF_NS_FE}" "${cmd[@]}" </dev/null >>"${SFD_LOG}" 2>&1 &
    SFD_PID=$!
    echo "${SFD_PID}" >"${SF_LAB_RUN}/sipfront/sipfront.pid"
    deadline=$((SECONDS + ${SFD_START_TIMEOUT:-30}))
    while ((SECONDS < deadline)); do
        if ! sfd_alive; then
            local rc=0
            wait "${SFD_PID}" 2>/dev/null || rc=$?
            SFD_EXIT=${rc}
            SFD_PID=""
            sf_log "sipfront exited during startup (status ${rc}); last log lines:"
            tail -n 25 "${SFD_LOG}" | sed 's/^/    /' >&2
            return 1
        fi
        if sfd_probe 1; then
            sf_log "sipfront up: pid ${SFD_PID}, ${n} workers (--lcores ${lc}), log ${SFD_LOG}"
            return 0
        fi
    done
    sf_log "sipfront did not answer OPTIONS on ${SF_IP_FE_ACC}:${SF_SIP_PORT} within ${SFD_START_TIMEOUT:-30}s; last log lines:"
    tail -n 25 "${SFD_LOG}" | sed 's/^/    /' >&2
    return 1
}

# sfd_counters OUTFILE: SIGUSR1, then the log bytes written after it, once the
# log has stopped growing for 0.5 s (max 5 s).
sfd_counters() {
    local out=$1 before size last i stable=0
    sfd_alive || return 1
    before=$(stat -c %s "${SFD_LOG}")
    kill -USR1 "${SFD_PID}"
    last=${before}
    for ((i = 0; i < 50; i++)); do
        sleep 0.1
        size=$(stat -c %s "${SFD_LOG}")
        if ((size > before && size == last)); then
            ((++stable >= 5)) && break
        else
            stable=0
        fi
        last=${size}
    done
    tail -c "+$((before + 1))" "${SFD_LOG}" >"${out}"
    [[ -s ${out} ]]
}

sfd_stop() {
    local i rc=0
    [[ -n ${SFD_PID} ]] || return 0
    if sfd_alive; then
        kill -TERM "${SFD_PID}" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            sfd_alive || break
            sleep 0.1
        done
        if sfd_alive; then
            sf_log "sipfront pid ${SFD_PID} ignored SIGTERM for 10 s; sending SIGKILL"
            kill -KILL "${SFD_PID}" 2>/dev/null || true
            SFD_EXIT=killed
        fi
    fi
    wait "${SFD_PID}" 2>/dev/null || rc=$?
    [[ ${SFD_EXIT} == killed ]] || SFD_EXIT=${rc}
    echo "=== stopped $(date -u +%FT%TZ) status ${SFD_EXIT}" >>"${SFD_LOG}"
    SFD_PID=""
    # EAL runtime files of this run (--file-prefix), if any were written.
    rm -rf "/var/run/dpdk/${SFD_FILE_PREFIX}" 2>/dev/null || true
}

# sfd_counter_row TABLE NAME: the integers on the row of counter NAME (one per
# worker, then possibly a total), space separated; empty when absent. Accepts
# "name  1  2  3", "name | 1 | 2 | 3" and "name: 1 2 3".
sfd_counter_row() {
    awk -v n="$2" '
        { line = $0; gsub(/[|:,]/, " ", line); split(line, f, " ") }
        f[1] == n {
            out = ""
            for (i = 2; i in f; i++) if (f[i] ~ /^[0-9]+$/) out = out (out == "" ? "" : " ") f[i]
            row = out
        }
        END { print row }
    ' "$1"
}

# sfd_stale_lab_hint: the command that removes a lab left by an earlier run
# (its run dir holds lab.state; lab.sh down stops its Kamailio and deletes
# exactly the namespaces it created).
sfd_stale_lab_hint() {
    local d cmds=""
    for d in /tmp/sipfront-lab /tmp/sipfront-*; do
        [[ -s ${d}/lab.state ]] || continue
        cmds+="${cmds:+; }SF_LAB_RUN=${d} scripts/lab.sh down"
    done
    echo "${cmds:-scripts/lab.sh down (with the SF_LAB_RUN of the run that made it)}"
}

counter_total() {
    local row v s=0 i
    row=$(sfd_counter_row "$1" "$2")
    read -r -a v <<<"${row}"
    if ((${#v[@]} > WORKERS)); then
        echo "${v[-1]}"
        return
    fi
    for i in "${v[@]}"; do s=$((s + i)); done
    echo "${s}"
}

# ---------------------------------------------------------------- lab tests
SFD_IT_NAME=""
SFD_IT_KEEP=""
SFD_IT_KAM=0
declare -a SFD_IT_SUMMARY=()

sfd_it_begin() {
    local opt
    SFD_IT_NAME=$1
    SFD_IT_KEEP=$2
    SIPFRONT_CONFIG=${SIPFRONT_CONFIG:-${HERE}/configs/${1}.json}
    SF_LAB_RUN="$(mktemp -d "/tmp/sipfront-it-${3}.XXXXXX")"
    export SF_LAB_RUN
    shift 3
    for opt in "$@"; do
        case ${opt} in
            --kamailio) SFD_IT_KAM=1 ;;
            *) SFD_IT_SUMMARY+=("${opt}") ;;
        esac
    done
    trap sfd_it_cleanup EXIT
    trap 'log "interrupted"; exit 130' INT TERM
}

sfd_it_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    # The background jobs this script started (sipp.sh wrappers, responders:
    # TERM only reaches the PIDs it recorded).
    bg_stop
    if [[ -n ${SFD_PID} ]]; then
        log "stopping sipfront pid ${SFD_PID}"
        sfd_stop
    fi
    if ((lab_started)); then
        if ((SFD_IT_KAM)); then
            timeout 20 "${LABD}/kamailio.sh" stop >/dev/null 2>&1
            timeout 30 "${LAB}" down >/dev/null 2>&1
        else
            # lab.sh down stops every Kamailio instance still running (RUN/*/launcher.pid).
            timeout 60 "${LAB}" down >/dev/null 2>&1
        fi
        local left
        left=$(ip netns list 2>/dev/null | awk '$1 ~ /^sf-(ua|fe|core)$/ {print $1}' | tr '\n' ' ')
        if [[ -n ${left} ]]; then
            failed=$((failed + 1))
            log "FAIL - namespaces left behind: ${left}"
        fi
    fi
    checks_summary "${rc}" "${SFD_IT_NAME}" "${SFD_IT_KEEP}" "${SFD_IT_SUMMARY[@]}"
}

sfd_preflight() {
    need_root
    sfd_check_bin "${SIPFRONT_BIN}" || fatal "sipfront binary missing: ${SIPFRONT_BIN}"
    [[ -r ${SIPFRONT_PROFILE} ]] || fatal "NIC profile missing: ${SIPFRONT_PROFILE}"
    [[ -r ${SIPFRONT_CONFIG} ]] || fatal "config missing: ${SIPFRONT_CONFIG}"
}

sfd_no_lab_up() {
    if ip netns list | grep -Eq '^sf-(ua|fe|core)( |$)'; then
        fatal "a lab is already up (ip netns list shows sf-*); remove it with: $(sfd_stale_lab_hint)"
    fi
}

sfd_lab_up() {
    lab_started=1
    timeout 30 "${LAB}" up || fatal "scripts/lab.sh up (DPDK mode)"
    # shellcheck source=/dev/null
    . "${SF_LAB_RUN}/lab.env"
    [[ ${SF_LAB_MODE} == dpdk ]] || fatal "lab mode is ${SF_LAB_MODE}, want dpdk"
}

sfd_it_start() {
    sfd_start "${SIPFRONT_BIN}" "${SIPFRONT_CONFIG}" "${SIPFRONT_PROFILE}" "${WORKERS}" ||
        fatal "sipfront start $1"
    ok "sipfront pid ${SFD_PID} $2"
}

sfd_it_counters() {
    local label=${2:+$2 }
    TABLE=$1
    if sfd_counters "${TABLE}"; then
        ok "${label}SIGUSR1: counters table printed (${TABLE})"
    else
        bad "${label}no counters table after SIGUSR1 (log ${SFD_LOG})"
        return 1
    fi
}

sfd_it_stop() {
    local pid=${SFD_PID}
    sfd_stop
    check "sipfront (pid ${pid}) exits with status 0 on SIGTERM (got ${SFD_EXIT})" test "${SFD_EXIT}" == 0
}
