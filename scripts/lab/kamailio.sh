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
#   kamailio.sh [-n NAME] contacts                 one line per binding:
#                                                  "AOR CONTACT EXPIRES CALL-ID"
#   kamailio.sh [-n NAME] registers                REGISTER requests received (log lines)
#   kamailio.sh [-n NAME] stat NAME...             e.g. stat registrar:accepted_regs
#   kamailio.sh [-n NAME] rpc CMD [ARGS...]        any RPC via kamcmd (small replies)
#   kamailio.sh [-n NAME] jsonrpc CMD [ARGS...]    any RPC via the JSON-RPC FIFO
#                                                  (big replies, e.g. ul.dump)
#
# Env: KAM_SHM_MB (64) / KAM_PKG_MB (8) for -m / -M. ul.dump of N bindings
# needs ~1 KB x N of pkg memory: raise KAM_PKG_MB beyond ~5000 bindings,
# and KAM_SHM_MB beyond ~50000. `count` (a statistic) works at any size.
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
KAM_SHM_MB=${KAM_SHM_MB:-64}
KAM_PKG_MB=${KAM_PKG_MB:-8}

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
KFIFO="${KDIR}/kamailio_rpc.fifo"

# kamcmd over the binrpc socket; fine for small replies. kamcmd exits 0 even
# when the RPC failed, so treat an "error:" reply as failure.
kam_rpc() {
    local out
    out=$(timeout 10 kamcmd -s "unix:${KSOCK}" "$@" 2>&1) || {
        printf '%s\n' "${out}" >&2
        return 1
    }
    if [[ ${out} == error:* || ${out} == ERROR:* ]]; then
        printf '%s\n' "${out}" >&2
        return 1
    fi
    printf '%s\n' "${out}"
}

# jsonrpc METHOD [STRING_PARAM...]: JSON-RPC over the jsonrpcs FIFO, reply
# (pretty JSON) on stdout. Used for big replies (ul.dump), which binrpc/kamcmd
# cannot carry.
jsonrpc() {
    local method=$1 params="" p rpid
    shift
    [[ -p ${KFIFO} ]] || sf_die "no RPC FIFO ${KFIFO} (is ${KAM_NAME} running?)"
    for p in "$@"; do
        [[ ${p} =~ ^[A-Za-z0-9_.:@-]*$ ]] || sf_die "unsupported RPC parameter '${p}'"
        params+="${params:+,}\"${p}\""
    done
    # jsonrpcs only accepts plain names (no '.') for the reply FIFO; it
    # creates nothing itself: we make the FIFO in fifo_reply_dir (KDIR).
    local name="reply_$$_${RANDOM}"
    local rf="${KDIR}/${name}" out="${KDIR}/${name}_out"
    mkfifo -m 600 "${rf}"
    timeout 30 cat "${rf}" >"${out}" &
    rpid=$!
    if ! printf '{"jsonrpc":"2.0","method":"%s","params":[%s],"reply_name":"%s","id":1}\n' \
        "${method}" "${params}" "${name}" | timeout 5 tee "${KFIFO}" >/dev/null; then
        kill "${rpid}" 2>/dev/null || true
        wait "${rpid}" 2>/dev/null || true
        rm -f "${rf}" "${out}"
        sf_die "cannot write to ${KFIFO} (is ${KAM_NAME} running?)"
    fi
    if ! wait "${rpid}"; then
        rm -f "${rf}" "${out}"
        sf_die "no JSON-RPC reply to ${method} within 30s"
    fi
    rm -f "${rf}"
    if grep -q '"error":' "${out}"; then
        cat "${out}" >&2
        rm -f "${out}"
        return 1
    fi
    cat "${out}"
    rm -f "${out}"
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
    ip netns exec "${KAM_NS}" kamailio -f "${KAM_CFG}" -DD -E -x tlsf \
        -m "${KAM_SHM_MB}" -M "${KAM_PKG_MB}" \
        -w "${KDIR}" -Y "${KDIR}" -P "${KDIR}/kamailio.pid" \
        -A "SF_LISTEN=udp:${KAM_IP}:${KAM_PORT}" \
        -A "SF_CTL=\"unix:${KSOCK}\"" \
        -A "SF_RPC_FIFO=\"${KFIFO}\"" -A "SF_RPC_DIR=\"${KDIR}/\"" \
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
    # The RPC wants the bare name and answers "group:name = value".
    out=$(kam_rpc stats.get_statistics "${1#*:}") || sf_die "rpc failed (is ${KAM_NAME} running?)"
    out=$(awk -v n="$1" '$2 == "=" && ($1 == n || $1 ~ ":" n "$") {print $3; exit}' <<<"${out}")
    [[ -n ${out} ]] || sf_die "no statistic $1"
    echo "${out}"
}

# ul.dump -> one line per binding: "AOR CONTACT EXPIRES CALL-ID".
# Parses the pretty-printed JSON line by line (no jq needed).
do_contacts() {
    local out
    out=$(jsonrpc ul.dump) || sf_die "ul.dump failed"
    awk '
        match($0, /^[ \t]*"[^"]*":/) {
            key = substr($0, RSTART, RLENGTH)
            gsub(/^[ \t]*"|":$/, "", key)
            val = substr($0, RSTART + RLENGTH)
            sub(/^[ \t]*/, "", val); sub(/,$/, "", val); gsub(/^"|"$/, "", val)
            if (key == "AoR") aor = val
            else if (key == "Address") addr = val
            else if (key == "Expires") ex = val
            else if (key == "Call-ID") { print aor, addr, ex, val; addr = "" }
        }
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
jsonrpc)
    (($# >= 1)) || usage
    jsonrpc "$@"
    ;;
*) usage ;;
esac
