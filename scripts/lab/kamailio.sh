#!/usr/bin/env bash
# Run the lab's core registrar (Kamailio) inside netns sf-core.
#
#   kamailio.sh [-n NAME] [-l IP[:PORT]] start    start in the background (foreground
#                                                  mode, -DD -E), wait until it answers
#                                                  RPC and a SIP OPTIONS probe
#   kamailio.sh [-n NAME] stop                     stop the PID that `start` recorded
#   kamailio.sh [-n NAME] status                   running? + usrloc/registrar stats
#   kamailio.sh [-n NAME] count                    number of contacts in usrloc
#   kamailio.sh [-n NAME] users                    number of AoRs in usrloc
#   kamailio.sh [-n NAME] contacts                 one line per binding: "AOR CONTACT EXPIRES"
#   kamailio.sh [-n NAME] registers                REGISTER requests received (log lines)
#   kamailio.sh [-n NAME] stat NAME...             e.g. stat registrar:accepted_regs
#   kamailio.sh [-n NAME] rpc CMD [ARGS...]        any kamcmd command
#
# NAME (default "kamailio") selects the instance directory ${SF_LAB_RUN}/NAME,
# which holds kamailio.log (stderr), kamailio_ctl (binrpc socket),
# launcher.pid (the PID we started) and kamailio.pid (Kamailio's own -P).
# IP defaults to 198.18.2.2, PORT to 5060; a second registrar needs its own
# NAME and an extra address added to sf-core by the caller first
# (e.g. ip -n sf-core addr add 198.18.2.3/24 dev core0).
#
# Password scheme: see kamailio-registrar.cfg (password = "pw-" + user).

set -euo pipefail

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/common.sh
. "${LAB_DIR}/common.sh"

KAM_CFG="${KAM_CFG:-${LAB_DIR}/kamailio-registrar.cfg}"
KAM_NAME=kamailio
KAM_IP=${SF_IP_CORE}
KAM_PORT=${SF_SIP_PORT}
KAM_NS=${SF_NS_CORE}
START_TIMEOUT=${KAM_START_TIMEOUT:-15}

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

while getopts 'n:l:h' opt; do
    case ${opt} in
    n) KAM_NAME=${OPTARG} ;;
    l)
        KAM_IP=${OPTARG%%:*}
        [[ ${OPTARG} == *:* ]] && KAM_PORT=${OPTARG##*:}
        ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
(($# >= 1)) || usage
CMD=$1
shift

[[ ${KAM_NAME} =~ ^[A-Za-z0-9_.-]+$ ]] || sf_die "bad instance name '${KAM_NAME}'"
KDIR="${SF_LAB_RUN}/${KAM_NAME}"
KLOG="${KDIR}/kamailio.log"
KSOCK="${KDIR}/kamailio_ctl"
KPIDFILE="${KDIR}/launcher.pid"

kam_rpc() {
    timeout 10 kamcmd -s "unix:${KSOCK}" "$@"
}

# pid_alive PID: running and not a zombie.
pid_alive() {
    local st
    [[ -r /proc/$1/stat ]] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ -n ${st} && ${st} != Z && ${st} != X ]]
}

# our_pid: the recorded PID if it is still our Kamailio, else empty.
our_pid() {
    local pid
    [[ -s ${KPIDFILE} ]] || return 0
    pid=$(<"${KPIDFILE}")
    [[ ${pid} =~ ^[0-9]+$ ]] || return 0
    pid_alive "${pid}" || return 0
    # Guard against PID reuse: must still be a kamailio binary.
    [[ $(readlink "/proc/${pid}/exe" 2>/dev/null) == */kamailio ]] || return 0
    echo "${pid}"
}

do_start() {
    sf_require_root
    command -v kamailio >/dev/null || sf_die "kamailio not installed (apt-get install -y kamailio)"
    sf_netns_exists "${KAM_NS}" || sf_die "netns ${KAM_NS} missing: run scripts/lab.sh up first"
    sf_is_lab_ip "${KAM_IP}" || sf_die "refusing to listen on ${KAM_IP}: not in 198.18.0.0/15"
    [[ -z $(our_pid) ]] || sf_die "${KAM_NAME} already running (pid $(our_pid))"
    ((${#KSOCK} < 100)) || sf_die "control socket path too long: ${KSOCK}"

    mkdir -p "${KDIR}"
    rm -f "${KSOCK}" "${KDIR}/kamailio.pid" "${KPIDFILE}"
    # One log per run, so `registers` counts only this run; keep the previous.
    [[ -e ${KLOG} ]] && mv -f "${KLOG}" "${KLOG}.prev"
    echo "=== start $(date -u +%FT%TZ) udp:${KAM_IP}:${KAM_PORT}" >>"${KLOG}"

    # ip netns exec execs kamailio, so $! is Kamailio's main PID. -DD keeps it
    # in the foreground (no daemonizing), -E logs to stderr (-> kamailio.log).
    ip netns exec "${KAM_NS}" kamailio -f "${KAM_CFG}" -DD -E -x tlsf -m 64 -M 8 \
        -w "${KDIR}" -Y "${KDIR}" -P "${KDIR}/kamailio.pid" \
        -A "SF_LISTEN=udp:${KAM_IP}:${KAM_PORT}" \
        -A "SF_CTL=\"unix:${KSOCK}\"" \
        </dev/null >>"${KLOG}" 2>&1 &
    local pid=$!
    echo "${pid}" >"${KPIDFILE}"

    local deadline=$((SECONDS + START_TIMEOUT)) rpc_ok=0
    while ((SECONDS < deadline)); do
        if ! pid_alive "${pid}"; then
            tail -n 20 "${KLOG}" >&2 || true
            rm -f "${KPIDFILE}"
            sf_die "kamailio exited during startup (log: ${KLOG})"
        fi
        if ((!rpc_ok)) && [[ -S ${KSOCK} ]] && kam_rpc core.uptime >/dev/null 2>&1; then
            rpc_ok=1
        fi
        if ((rpc_ok)) && sip_probe; then
            sf_log "${KAM_NAME} up: pid ${pid}, udp:${KAM_IP}:${KAM_PORT}, rpc unix:${KSOCK}, log ${KLOG}"
            return 0
        fi
        sleep 0.2
    done
    tail -n 20 "${KLOG}" >&2 || true
    do_stop || true
    sf_die "kamailio did not answer within ${START_TIMEOUT}s (log: ${KLOG})"
}

# One SIP OPTIONS from inside sf-core to Kamailio; true on 200.
sip_probe() {
    (cd "${KDIR}" && ip netns exec "${KAM_NS}" timeout 5 sipp "${KAM_IP}:${KAM_PORT}" \
        -sf "${LAB_DIR}/options.xml" -t u1 -i "${KAM_IP}" -m 1 \
        -recv_timeout 1000 -timeout 3s -timeout_error -nostdin \
        </dev/null >/dev/null 2>&1)
}

do_stop() {
    local pid kids p i
    pid=$(our_pid)
    if [[ -z ${pid} ]]; then
        rm -f "${KPIDFILE}"
        sf_log "${KAM_NAME} not running"
        return 0
    fi
    # Kamailio's workers are direct children of the main process.
    kids=$(pgrep -P "${pid}" || true)
    kill -TERM "${pid}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        pid_alive "${pid}" || break
        sleep 0.1
    done
    for p in ${pid} ${kids}; do
        if pid_alive "${p}"; then
            sf_log "pid ${p} ignored SIGTERM; sending SIGKILL"
            kill -KILL "${p}" 2>/dev/null || true
        fi
    done
    for ((i = 0; i < 20; i++)); do
        local any=0
        for p in ${pid} ${kids}; do pid_alive "${p}" && any=1; done
        ((any)) || break
        sleep 0.1
    done
    rm -f "${KPIDFILE}" "${KSOCK}"
    echo "=== stop $(date -u +%FT%TZ)" >>"${KLOG}"
    sf_log "${KAM_NAME} stopped (pid ${pid})"
}

stat_value() { # stat_value NAME -> integer
    local out
    out=$(kam_rpc stats.get_statistics "$1") || sf_die "rpc failed (is ${KAM_NAME} running?)"
    out=$(sed -n "s/^$1 = \([0-9]*\)\$/\1/p" <<<"${out}")
    [[ -n ${out} ]] || sf_die "no statistic $1"
    echo "${out}"
}

# ul.dump -> "AOR CONTACT EXPIRES" lines.
do_contacts() {
    local out
    out=$(kam_rpc ul.dump) || sf_die "rpc failed (is ${KAM_NAME} running?)"
    awk '
        $1 == "AoR:" { aor = $2 }
        $1 == "Address:" { addr = $2 }
        $1 == "Expires:" && addr != "" { print aor, addr, $2; addr = "" }
    ' <<<"${out}"
}

case ${CMD} in
start) do_start ;;
stop) do_stop ;;
status)
    if pid=$(our_pid) && [[ -n ${pid} ]]; then
        echo "${KAM_NAME}: running pid ${pid} udp:${KAM_IP}:${KAM_PORT} (log ${KLOG})"
        kam_rpc stats.get_statistics usrloc: registrar: || true
    else
        echo "${KAM_NAME}: not running"
        exit 1
    fi
    ;;
count) stat_value usrloc:location_contacts ;;
users) stat_value usrloc:location_users ;;
contacts) do_contacts ;;
registers)
    [[ -e ${KLOG} ]] || sf_die "no log ${KLOG}"
    # grep -c exits 1 on zero matches; the count is still printed.
    grep -c 'SF-REGISTER ' "${KLOG}" || true
    ;;
stat)
    (($# >= 1)) || usage
    for s in "$@"; do echo "${s} $(stat_value "${s}")"; done
    ;;
rpc)
    (($# >= 1)) || usage
    kam_rpc "$@"
    ;;
*) usage ;;
esac
