#!/usr/bin/env bash
# Smoke test of the netns lab without sipfront: sf-fe is a plain kernel router
# (--kernel-fe). sipp registers N distinct users with digest auth to Kamailio
# in sf-core, the test checks the bindings, un-registers some, checks again,
# and tears everything down. Needs root, kamailio, sipp (sip-tester), iproute2.
#
#   sudo tests/integration/lab_smoke.sh
#
# Env: SMOKE_USERS (200), SMOKE_UNREG (10), SMOKE_KEEP=1 keeps the run dir.
# Exit 0 and "PASS" on success, non-zero and "FAIL: ..." otherwise.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB="${ROOT}/scripts/lab.sh"
LABD="${ROOT}/scripts/lab"

N=${SMOKE_USERS:-200}
UNREG=${SMOKE_UNREG:-10}
((N >= 1 && UNREG >= 1 && UNREG < N)) || {
    echo "FAIL: need 1 <= SMOKE_UNREG < SMOKE_USERS" >&2
    exit 2
}

SF_LAB_RUN="$(mktemp -d /tmp/sipfront-lab-smoke.XXXXXX)"
export SF_LAB_RUN
T0=${SECONDS}
lab_started=0
failed=1

log() { printf '[%3ds] %s\n' "$((SECONDS - T0))" "$*"; }
ok() { log "ok   - $*"; }
fail() {
    log "FAIL - $*"
    exit 1
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if ((lab_started)); then
        # Kamailio: only the PID kamailio.sh recorded. Then the namespaces
        # listed in the lab's state file.
        timeout 20 "${LABD}/kamailio.sh" stop >/dev/null 2>&1
        timeout 30 "${LAB}" down >/dev/null 2>&1
    fi
    local left
    left=$(ip netns list 2>/dev/null | awk '$1 ~ /^sf-(ua|fe|core)$/ {print $1}' | tr '\n' ' ')
    if [[ -n ${left} ]]; then
        log "FAIL - namespaces left behind: ${left}"
        rc=1
    fi
    if ((rc == 0 && !failed)); then
        [[ ${SMOKE_KEEP:-0} == 1 ]] || rm -rf "${SF_LAB_RUN}"
        log "PASS lab_smoke (${N} users registered, ${UNREG} un-registered)"
    else
        ((rc != 0)) || rc=1
        log "FAIL lab_smoke (rc=${rc}); logs kept in ${SF_LAB_RUN}"
        if [[ -e ${SF_LAB_RUN}/kamailio/kamailio.log ]]; then
            log "last Kamailio log lines:"
            grep -v '^ *$' "${SF_LAB_RUN}/kamailio/kamailio.log" | tail -n 15 | sed 's/^/    /'
        fi
    fi
    exit "${rc}"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

[[ ${EUID} -eq 0 ]] || fail "must run as root"
for tool in ip kamailio kamcmd sipp timeout; do
    command -v "${tool}" >/dev/null || fail "missing tool: ${tool}"
done
if ip netns list | grep -Eq '^sf-(ua|fe|core)( |$)'; then
    fail "a lab is already up (ip netns list shows sf-*); run scripts/lab.sh down"
fi

log "run dir ${SF_LAB_RUN}"

# --- lab ------------------------------------------------------------------
lab_started=1
timeout 30 "${LAB}" up --kernel-fe || fail "lab.sh up --kernel-fe"
# shellcheck source=/dev/null
. "${SF_LAB_RUN}/lab.env"
[[ ${SF_LAB_MODE} == kernel-fe ]] || fail "lab mode is ${SF_LAB_MODE}"
ok "lab up (kernel-fe): ${SF_IP_UA} -> ${SF_IP_FE_ACC} | ${SF_IP_FE_CORE} -> ${SF_IP_CORE}"

# --- Kamailio ---------------------------------------------------------------
timeout 30 "${LABD}/kamailio.sh" start || fail "kamailio.sh start"
ok "kamailio answering on ${SF_IP_CORE}:${SF_SIP_PORT}"

kam() { timeout 15 "${LABD}/kamailio.sh" "$@"; }

# OPTIONS through the router (the later health-probe path).
timeout 60 "${LABD}/sipp.sh" -o options -T 10 options.xml ||
    fail "OPTIONS ${SF_IP_UA} -> ${SF_IP_CORE} through sf-fe"
ok "OPTIONS 200 through the kernel router"

# --- register N users ------------------------------------------------------------
"${LABD}/users.sh" "${N}" >"${SF_LAB_RUN}/users.csv"
timeout 90 "${LABD}/sipp.sh" -u "${SF_LAB_RUN}/users.csv" -o register \
    -r 100 -l 50 -T 40 register_auth.xml || fail "sipp register_auth.xml"
ok "sipp registered ${N} users (REGISTER/401/REGISTER+auth/200)"

check_bindings() { # check_bindings EXPECTED FIRST_ABSENT
    local want=$1 absent_from=$2 count users contacts lines bad
    count=$(kam count) || fail "kamailio.sh count"
    users=$(kam users) || fail "kamailio.sh users"
    [[ ${count} == "${want}" ]] || fail "usrloc contacts = ${count}, want ${want}"
    [[ ${users} == "${want}" ]] || fail "usrloc AoRs = ${users}, want ${want}"
    contacts=$(kam contacts) || fail "kamailio.sh contacts"
    lines=$(grep -c . <<<"${contacts}" || true)
    [[ ${lines} == "${want}" ]] || fail "ul.dump lists ${lines} contacts, want ${want}"
    # Every binding: AoR userNNNNNN -> sip:userNNNNNN@198.18.1.2:5070, and
    # exactly users 1..want present (users > want were un-registered).
    bad=$(awk -v ip="${SF_IP_UA}" -v port="${SF_UA_SIP_PORT}" -v lim="${absent_from}" '
        {
            n = $1; sub(/^user/, "", n)
            if ($1 !~ /^user[0-9]+$/ || length($1) != 10 || $2 != "sip:" $1 "@" ip ":" port || n + 0 >= lim || seen[$1]++)
                { print; bad++ }
        }' <<<"${contacts}")
    [[ -z ${bad} ]] || fail "unexpected bindings: $(head -n 3 <<<"${bad}" | tr '\n' ' ')"
}

check_bindings "${N}" "$((N + 1))"
ok "Kamailio holds exactly ${N} bindings, each sip:userNNNNNN@${SF_IP_UA}:${SF_UA_SIP_PORT}"

regs=$(kam registers)
accepted=$(kam stat registrar:accepted_regs | awk '{print $2}')
((regs >= 2 * N)) || fail "Kamailio logged ${regs} REGISTERs, want >= $((2 * N))"
((accepted >= N)) || fail "registrar:accepted_regs = ${accepted}, want >= ${N}"
ok "Kamailio saw ${regs} REGISTERs (${N} challenged + ${N} authenticated), accepted_regs=${accepted}"

# --- wrong password is rejected --------------------------------------------------
{
    echo SEQUENTIAL
    echo "user999999;wrong;[authentication username=user999999 password=wrong]"
} >"${SF_LAB_RUN}/badpw.csv"
if timeout 60 "${LABD}/sipp.sh" -u "${SF_LAB_RUN}/badpw.csv" -o badpw -T 15 \
    register_auth.xml >/dev/null 2>&1; then
    fail "REGISTER with a wrong password succeeded"
fi
[[ $(kam count) == "${N}" ]] || fail "binding count changed after a bad-password REGISTER"
ok "wrong password refused, still ${N} bindings"

# --- un-register the last UNREG users ----------------------------------------------
first=$((N - UNREG + 1))
"${LABD}/users.sh" "${UNREG}" "${first}" >"${SF_LAB_RUN}/unreg.csv"
timeout 60 "${LABD}/sipp.sh" -u "${SF_LAB_RUN}/unreg.csv" -o unregister \
    -r 100 -l 50 -T 20 unregister.xml || fail "sipp unregister.xml"
ok "sipp un-registered users ${first}..${N} (Expires: 0)"

check_bindings "$((N - UNREG))" "${first}"
ok "Kamailio holds exactly $((N - UNREG)) bindings; the ${UNREG} un-registered are gone"

# --- nothing tried to leave the lab ----------------------------------------------------
noroute=$(ip netns exec "${SF_NS_FE}" nstat -asz IpExtInNoRoutes IpInAddrErrors IpOutNoRoutes 2>/dev/null |
    awk '$1 ~ /^Ip/ {s += $2} END {print s + 0}')
[[ ${noroute} == 0 ]] || fail "sf-fe dropped ${noroute} packets with no route (traffic to outside the lab?)"
ok "sf-fe saw no packets for destinations outside the lab"

# --- teardown -----------------------------------------------------------------------
kpid=$(<"${SF_LAB_RUN}/kamailio/launcher.pid")
timeout 20 "${LABD}/kamailio.sh" stop || fail "kamailio.sh stop"
if [[ -r /proc/${kpid}/stat ]] && ! awk '{exit ($3 == "Z") ? 0 : 1}' "/proc/${kpid}/stat"; then
    fail "kamailio pid ${kpid} still alive after stop"
fi
ok "kamailio stopped"
timeout 30 "${LAB}" down || fail "lab.sh down"
lab_started=0
if ip netns list | grep -Eq '^sf-(ua|fe|core)( |$)'; then
    fail "namespaces still present after lab.sh down"
fi
ok "lab down, no sf-* namespaces left"

failed=0
