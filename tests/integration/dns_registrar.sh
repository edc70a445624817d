#!/usr/bin/env bash
# A dynamic registrar (registrars[].host) of the sipfront daemon, resolved by
# DNS on its control core, with two Kamailio registrars in the netns lab:
#
#   sf-ua (phones: sipsend.py) -> sipfront (DPDK in sf-fe) -> Kamailio #1 198.18.2.2 (sf-core)
#                                      |                  \-> Kamailio #2 198.18.2.3 (sf-core)
#                                      \-> DNS (kernel socket) -> dnsresp.py on 127.0.0.1:5353 in sf-fe
#
# Config configs/dns_registrar.json: PEER_TO_PEER, registrar 1 = host
# reg.sipfront.lab (domain sipfront.lab, Kamailio's alias), dns.servers
# 127.0.0.1:5353, TTL clamped to 1..2 s, retry 1 s; no rate limiting, so every
# phone REGISTER goes upstream. The zone file says reg.sipfront.lab A with TTL 2.
#
# (1) A = 198.18.2.2: sipfront logs the address; user1 registers (200), Kamailio
#     #1 holds it, #2 nothing
# (2) A = 198.18.2.3: once sipfront has re-resolved (log), user2 registers at #2,
#     and user1's next REGISTER (live binding, new Call-ID) goes to #2 as well;
#     the SIGUSR1 report lists the workers' address for registrar 1
# (3) NXDOMAIN: once the 2 s answer ran out and the re-query failed, sipfront
#     logs it unresolved and user3 gets 503 (no registrar); nothing more reaches
#     either Kamailio
# (4) A = 198.18.2.2 again: user4 registers at #1
#
#   sudo tests/integration/dns_registrar.sh
#   meson test -C build --suite integration dns_registrar
#
# Env: SIPFRONT_BIN (default build/dataplane/sipfront), SIPFRONT_PROFILE
# (nic-profiles/af_packet.json), SF_WORKERS (2), DNS_KEEP=1 keeps the run dir.
# Needs root, kamailio, python3, iproute2. About 30 s.
# Prints "ok"/"FAIL" per check and "N passed, M failed"; exit 0 iff all passed.

set -euo pipefail

ROOT="${SIPFRONT_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
HERE="${ROOT}/tests/integration"

HOST=reg.sipfront.lab
DNS_PORT=5353

# shellcheck source=SCRIPTDIR/lib_checks.sh
. "${HERE}/lib_checks.sh"
# shellcheck source=SCRIPTDIR/lib_registrars.sh
. "${HERE}/lib_registrars.sh"

sfd_it_begin dns_registrar DNS_KEEP dns
pid_dns="" # the DNS responder (in bg_pids once started)
ZONE="${SF_LAB_RUN}/zone.json"
DNS_LOG="${SF_LAB_RUN}/dns.log"

# zone A|NXDOMAIN: rewrites the responder's zone (re-read per query), atomically.
zone() {
    if [[ $1 == NXDOMAIN ]]; then
        echo "{\"${HOST}\": {\"rcode\": 3}}" >"${ZONE}.new"
    else
        sf_is_lab_ip "$1" || return 1
        echo "{\"${HOST}\": {\"a\": [\"$1\"], \"ttl\": 2}}" >"${ZONE}.new"
    fi
    mv -f "${ZONE}.new" "${ZONE}"
}

# wait_log PATTERN SECONDS: until sipfront's log has a line matching PATTERN
# (fixed string) after the mark set by mark_log.
LOG_MARK=0
mark_log() { LOG_MARK=$(wc -l <"${SFD_LOG}"); }
wait_log() {
    local deadline=$((SECONDS + $2))
    while ((SECONDS <= deadline)); do
        tail -n "+$((LOG_MARK + 1))" "${SFD_LOG}" | grep -qF -- "$1" && return 0
        sleep 0.2
    done
    return 1
}

# phone USER: one REGISTER from sf-ua through sipfront; prints the final code.
phone() {
    ip netns exec "${SF_NS_UA}" timeout 15 python3 "${HERE}/sipsend.py" register \
        --dst "${SF_IP_FE_ACC}:${SF_SIP_PORT}" --bind "${SF_IP_UA}" --user "$1" --wait 8 |
        python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["code"])'
}

# seen NAME USER: how many REGISTERs for USER Kamailio NAME received.
seen() { reg_lines "$1" SF-P2P | grep -c " to=$2 " || true; }

# ---------------------------------------------------------------- preflight
sfd_preflight
need_tools ip kamailio kamcmd python3 timeout pgrep
if ! [[ ${WORKERS} =~ ^[0-9]+$ ]] || ((WORKERS < 1)); then fatal "SF_WORKERS not a number >= 1: ${WORKERS}"; fi
sfd_no_lab_up
python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
r = c["registrars"]
assert c["passthrough"]["mode"] == "PEER_TO_PEER" and len(r) == 1 and r[0]["host"] == sys.argv[2]
assert c["dns"]["servers"] == ["127.0.0.1:" + sys.argv[3]] and not c.get("rateLimit", {}).get("enabled", False)
' "${SIPFRONT_CONFIG}" "${HOST}" "${DNS_PORT}" ||
    fatal "${SIPFRONT_CONFIG}: want PEER_TO_PEER, one registrar with host ${HOST}, dns.servers [127.0.0.1:${DNS_PORT}], no rate limiting"

# ---------------------------------------------------------------- setup
sfd_lab_up
reg_add_second_address || fatal "second registrar address ${SF_IP_CORE2} in ${SF_NS_CORE}"
reg_start kam1 "${SF_IP_CORE}" "$(reg_cfg kam1)" || fatal "Kamailio #1 (kam1) on ${SF_IP_CORE}"
reg_start kam2 "${SF_IP_CORE2}" "$(reg_cfg kam2)" || fatal "Kamailio #2 (kam2) on ${SF_IP_CORE2}"
ok "lab up (dpdk); Kamailio #1 on ${SF_IP_CORE}, #2 on ${SF_IP_CORE2}"

zone "${SF_IP_CORE}"
ip netns exec "${SF_NS_FE}" timeout 200 python3 "${HERE}/dnsresp.py" --bind 127.0.0.1 --port "${DNS_PORT}" \
    --zone "${ZONE}" --seconds 180 >"${DNS_LOG}" 2>&1 &
pid_dns=$!
bg_pids+=("${pid_dns}")
sleep 0.3
kill -0 "${pid_dns}" 2>/dev/null || fatal "dnsresp.py did not start: $(cat "${DNS_LOG}")"
ok "DNS responder pid ${pid_dns} on 127.0.0.1:${DNS_PORT} in ${SF_NS_FE}: ${HOST} A ${SF_IP_CORE} ttl 2"

sfd_it_start "(${WORKERS} workers) and OPTIONS answered" \
    "answers OPTIONS"

# ---------------------------------------------------------------- (1)
check "(1) sipfront resolved ${HOST} to ${SF_IP_CORE}" \
    wait_log "registrar 1 ${HOST}: ${SF_IP_CORE}:5060" 5
code=$(phone user1) || code="none"
check "(1) user1 registered through the resolved registrar (code ${code}, want 200)" test "${code}" = 200
check "(1) Kamailio #1 holds user1" reg_wait_count kam1 1 5
check "(1) Kamailio #2 saw no REGISTER" test "$(seen kam2 user1)" = 0

# ---------------------------------------------------------------- (2)
mark_log
zone "${SF_IP_CORE2}"
check "(2) sipfront re-resolved ${HOST} to ${SF_IP_CORE2} within TTL + 3 s" \
    wait_log "registrar 1 ${HOST}: ${SF_IP_CORE2}:5060" 5
code=$(phone user2) || code="none"
check "(2) user2 registered (code ${code}, want 200)" test "${code}" = 200
code=$(phone user1) || code="none"
check "(2) user1's next REGISTER answered (code ${code}, want 200)" test "${code}" = 200
check "(2) Kamailio #2 holds user1 and user2" reg_wait_count kam2 2 5
check "(2) user1's second REGISTER went to #2, not #1 (kam1 saw $(seen kam1 user1), kam2 $(seen kam2 user1))" \
    test "$(seen kam1 user1):$(seen kam2 user1)" = "1:1"
check "(2) Kamailio #1 never saw user2" test "$(seen kam1 user2)" = 0
sfd_counters "${SF_LAB_RUN}/counters2.txt" || true
check "(2) the SIGUSR1 report shows the workers' registrar 1 at ${SF_IP_CORE2}" \
    grep -Eq "^dynamic registrars \(snapshot generation [0-9]+\): 1=${SF_IP_CORE2}:5060$" "${SF_LAB_RUN}/counters2.txt"

# ---------------------------------------------------------------- (3)
mark_log
zone NXDOMAIN
check "(3) sipfront marked ${HOST} unresolved after NXDOMAIN" wait_log "registrar 1 ${HOST}: unresolved (NXDOMAIN)" 6
code=$(phone user3) || code="none"
check "(3) user3 gets 503 while the registrar is unresolved (code ${code})" test "${code}" = 503
check "(3) no Kamailio saw user3" test "$(seen kam1 user3):$(seen kam2 user3)" = "0:0"

# ---------------------------------------------------------------- (4)
mark_log
zone "${SF_IP_CORE}"
check "(4) sipfront resolved ${HOST} again, to ${SF_IP_CORE}" wait_log "registrar 1 ${HOST}: ${SF_IP_CORE}:5060" 5
code=$(phone user4) || code="none"
check "(4) user4 registered at #1 again (code ${code}, want 200)" test "${code}" = 200
check "(4) Kamailio #1 saw user4, #2 did not" test "$(seen kam1 user4):$(seen kam2 user4)" = "1:0"
check "DNS queries answered by the responder: $(grep -c "${HOST}" "${DNS_LOG}" || true) (want >= 4)" \
    test "$(grep -c "${HOST}" "${DNS_LOG}" || true)" -ge 4
