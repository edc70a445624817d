#!/usr/bin/env bash
# Primary/secondary registrars (PEER_TO_PEER, registrarMode PRIMARY_SECONDARY,
# registrarIndex [1, 2]) with two Kamailios, primary killed, in the netns lab:
#
#   sf-ua (sipp phones) -> sipfront (DPDK net_af_packet in sf-fe) -> Kamailio #1 198.18.2.2 (primary)
#                                                                  \-> Kamailio #2 198.18.2.3 (secondary)
#
# Config configs/failover_ps.json (failover.json with PRIMARY_SECONDARY):
# Timer F 3 s, no rate limiting, so every phone REGISTER is forked to both.
# Kamailio #1 waits PS_DELAY1_MS per REGISTER, #2 PS_DELAY2_MS (longer), so
# the primary's 200 normally answers the phone and REGISTERs are pending at #1
# when it dies (scripts/lab/kamailio-registrar-p2p.cfg with SF_DELAY_US; one
# SF-P2P line per REGISTER, one SF-SAVED per 200).
#
# (1) N phones register (PS_RATE per s) and refresh PS_REFRESHES times every
#     PS_INTERVAL s; both registrars hold all N bindings, each with sipfront's
#     Contact <sip:OUTCALLID@198.18.2.1:5060> and the same out-leg Call-ID at both
# (2) during the first refresh round Kamailio #1 is killed (SIGKILL, main PID
#     and children, by PID) with REGISTERs pending at it
# (3) refreshes keep working via #2: sipp sees a 200 for every REGISTER (no
#     failed call; the phones whose primary leg died got #2's 200), #2 saved
#     every REGISTER of every phone (N x (1 + PS_REFRESHES)) and still holds all
#     N; sipfront timed out the legs to the dead #1 (eng.timer_f_timeouts > 0)
#     without ever answering a phone with an error or failing over
#     (eng.registrar_failovers = 0, eng.registrar_unavailable = 0)
#
#   sudo tests/integration/failover_ps.sh
#   meson test -C build --suite integration failover_ps
#
# Env: SIPFRONT_BIN (default build/dataplane/sipfront), SIPFRONT_PROFILE
# (nic-profiles/af_packet.json), SF_WORKERS (2), PS_USERS (100), PS_RATE (25),
# PS_EXPIRES (30), PS_REFRESHES (3), PS_INTERVAL (8 s), PS_DELAY1_MS (100),
# PS_DELAY2_MS (200), PS_KEEP=1 keeps the run dir. Needs root, kamailio, sipp
# (sip-tester), python3, iproute2. About 40 s.
# Prints "ok"/"FAIL" per check and "N passed, M failed"; exit 0 iff all passed.

set -euo pipefail

ROOT="${SIPFRONT_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
HERE="${ROOT}/tests/integration"

N=${PS_USERS:-100}
RATE=${PS_RATE:-25}
EXPIRES=${PS_EXPIRES:-30}
R=${PS_REFRESHES:-3}
P=${PS_INTERVAL:-8}
D1=${PS_DELAY1_MS:-100}
D2=${PS_DELAY2_MS:-200}
PORT=5070

# shellcheck source=SCRIPTDIR/lib_checks.sh
. "${HERE}/lib_checks.sh"
# shellcheck source=SCRIPTDIR/lib_registrars.sh
. "${HERE}/lib_registrars.sh"

sfd_it_begin failover_ps PS_KEEP failover-ps

# ---------------------------------------------------------------- preflight
sfd_preflight
need_tools ip kamailio kamcmd sipp python3 timeout pgrep
need_numbers "${WORKERS}" "${N}" "${RATE}" "${EXPIRES}" "${R}" "${P}" "${D1}" "${D2}"
((WORKERS >= 1 && N >= 2 && N <= 999 && RATE >= 1 && R >= 2 && P >= N / RATE + 2 && P < EXPIRES && D1 < D2)) ||
    fatal "need PS_USERS 2..999, PS_REFRESHES >= 2, PS_USERS/PS_RATE + 2 <= PS_INTERVAL < PS_EXPIRES, PS_DELAY1_MS < PS_DELAY2_MS"
sfd_no_lab_up
TIMER_F_MS=$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
assert c["passthrough"]["mode"] == "PEER_TO_PEER" and c["registrarMode"] == "PRIMARY_SECONDARY"
assert c["registrarIndex"] == [1, 2] and not c.get("rateLimit", {}).get("enabled", False)
print(c["sip"]["timers"]["timerFMs"])
' "${SIPFRONT_CONFIG}") || fatal "${SIPFRONT_CONFIG}: want PEER_TO_PEER, PRIMARY_SECONDARY, registrarIndex [1, 2], no rate limiting"
SIPP_T=$((N / RATE + 2 + (R + 1) * (P + TIMER_F_MS / 1000 + 1)))
log "run dir ${SF_LAB_RUN}; ${WORKERS} workers; ${N} phones at ${RATE}/s, ${R} refreshes every ${P} s;" \
    "REGISTERs take ${D1} ms at #1, ${D2} ms at #2; Timer F ${TIMER_F_MS} ms"

# ---------------------------------------------------------------- setup
sfd_lab_up
reg_add_second_address || fatal "second registrar address ${SF_IP_CORE2} in ${SF_NS_CORE}"
ok "lab up (dpdk): phones ${SF_IP_UA} -> sipfront ${SF_IP_FE_ACC} | ${SF_IP_FE_CORE} -> registrars ${SF_IP_CORE}, ${SF_IP_CORE2}"

cfg1=$(reg_cfg kam1 "SF_DELAY_US=$((D1 * 1000))" SF_CHILDREN=16)
cfg2=$(reg_cfg kam2 "SF_DELAY_US=$((D2 * 1000))" SF_CHILDREN=16)
reg_start kam1 "${SF_IP_CORE}" "${cfg1}" || fatal "Kamailio #1 (kam1) on ${SF_IP_CORE}"
reg_start kam2 "${SF_IP_CORE2}" "${cfg2}" || fatal "Kamailio #2 (kam2) on ${SF_IP_CORE2}"
ok "Kamailio #1 (primary, ${D1} ms per REGISTER) on ${SF_IP_CORE}:${SF_SIP_PORT}, #2 (secondary, ${D2} ms) on ${SF_IP_CORE2}:${SF_SIP_PORT}"

sfd_it_start "(${WORKERS} workers, PEER_TO_PEER PRIMARY_SECONDARY [1, 2]) and OPTIONS answered on ${FE}" \
    "(PEER_TO_PEER, PRIMARY_SECONDARY [1, 2]) answers OPTIONS on ${FE}"

# ---------------------------------------------------------------- (1) both hold them
"${LABD}/users.sh" "${N}" 1 >"${SF_LAB_RUN}/users.csv"
t_sipp=${SECONDS}
"${LABD}/sipp.sh" -d "${FE}" -p "${PORT}" -u "${SF_LAB_RUN}/users.csv" -o phones \
    -r "${RATE}" -l "${N}" -e "${EXPIRES}" -T "${SIPP_T}" register_refresh.xml -- \
    -key refreshes "${R}" -key interval_ms "$((P * 1000))" -key granted "${EXPIRES}" \
    >"${SF_LAB_RUN}/sipp-phones.txt" 2>&1 &
pid_sipp=$!
bg_pids+=("${pid_sipp}")
log "sipp: ${N} phones (port ${PORT}) started"
check "(1) Kamailio #1 holds all ${N} bindings within $((N / RATE + 3)) s" reg_wait_count kam1 "${N}" "$((N / RATE + 3))"
check "(1) Kamailio #2 holds all ${N} bindings" reg_wait_count kam2 "${N}" 3
check "(1) kam1: ${N} bindings, each with sipfront's Contact <sip:sf...@${SF_IP_FE_CORE}:${SF_SIP_PORT}>" \
    reg_contacts_ok kam1 "${N}" 1 "${N}" "${EXPIRES}"
check "(1) kam2: ${N} bindings, each with sipfront's Contact <sip:sf...@${SF_IP_FE_CORE}:${SF_SIP_PORT}>" \
    reg_contacts_ok kam2 "${N}" 1 "${N}" "${EXPIRES}"
same_ok() {
    local d
    d=$(diff <(awk '{print $1, $4}' "${SF_LAB_RUN}/contacts.kam1.txt" | sort) \
        <(awk '{print $1, $4}' "${SF_LAB_RUN}/contacts.kam2.txt" | sort)) || { log "  $(head -n 4 <<<"${d}" | tr '\n' ' ')"; return 1; }
}
check "(1) each AoR has the same out-leg Call-ID at #1 and #2 (one binding, forked)" same_ok

# ---------------------------------------------------------------- (2) kill #1 mid-round
# The first refresh round runs from P s after sipp started for N/RATE s: kill in its middle.
kill_at=$((t_sipp + P + N / RATE / 2 + 1))
while ((SECONDS < kill_at)); do sleep 0.2; done
reg_kill kam1 || fatal "SIGKILL Kamailio #1 (PID from ${SF_LAB_RUN}/kam1/launcher.pid)"
reg_lines kam1 SF-P2P | grep ' to=user' >"${SF_LAB_RUN}/kam1.p2p" || true
reg_lines kam1 SF-SAVED | grep ' to=user' >"${SF_LAB_RUN}/kam1.saved" || true
got1=$(grep -c . "${SF_LAB_RUN}/kam1.p2p" || true)
saved1=$(grep -c . "${SF_LAB_RUN}/kam1.saved" || true)
ok "(2) Kamailio #1 killed (SIGKILL, main PID + children) at $((SECONDS - T0)) s, after ${got1} REGISTERs (${saved1} saved)"
check "(2) the kill came during the first refresh round: ${N} < REGISTERs at #1 (${got1}) < $((2 * N))" \
    test "${got1}" -gt "${N}" -a "${got1}" -lt "$((2 * N))"
check "(2) REGISTERs were pending at #1 when it died: $((got1 - saved1)) received and never answered" \
    test "$((got1 - saved1))" -gt 0

# ---------------------------------------------------------------- (3) refreshes via #2
rc=0
wait "${pid_sipp}" || rc=$?
check "(3) sipp: ${N} phones, 1 + ${R} REGISTERs each, every one answered 200 granting ${EXPIRES} s, no failed call ($(tr '\n' ' ' <"${SF_LAB_RUN}/sipp-phones.txt" | cut -c1-160))" \
    test "${rc}" == 0
sleep 0.5
n2=$(reg_lines kam2 SF-P2P | grep -c ' to=user' || true)
s2=$(reg_lines kam2 SF-SAVED | grep -c ' to=user' || true)
check "(3) kam2 got and saved every phone REGISTER: ${n2} received, ${s2} saved (want ${N} x $((1 + R)) = $((N * (1 + R))))" \
    test "${n2}:${s2}" == "$((N * (1 + R))):$((N * (1 + R)))"
check "(3) Kamailio #2 still holds all ${N} bindings" reg_wait_count kam2 "${N}" 2
check "(3) kam2: ${N} bindings, each with sipfront's Contact" reg_contacts_ok kam2 "${N}" 1 "${N}" "${EXPIRES}"

total() { counter_total "${TABLE}" "$1"; }
if sfd_it_counters "${SF_LAB_RUN}/counters.txt"; then
    fo=$(total eng.registrar_failovers)
    tf=$(total eng.timer_f_timeouts)
    fwd=$(total eng.register_forwarded)
    unav=$(total eng.registrar_unavailable)
    kept=$(total eng.secondary_kept)
    stray=$(total eng.stray_responses)
    log "  eng.timer_f_timeouts $(sfd_counter_row "${TABLE}" eng.timer_f_timeouts), eng.secondary_kept $(sfd_counter_row "${TABLE}" eng.secondary_kept)"
    check "(3) eng.timer_f_timeouts = ${tf}: the legs to the dead #1 timed out (want > 0, at most the REGISTERs #1 never saved in round 1 and after: $((N * (1 + R) - saved1)))" \
        test "${tf}" -gt 0 -a "${tf}" -le "$((N * (1 + R) - saved1))"
    check "(3) eng.registrar_failovers = ${fo}, eng.registrar_unavailable = ${unav} (want 0, 0: forked, nothing to fail over)" \
        test "${fo}:${unav}" == "0:0"
    check "(3) eng.register_forwarded = ${fwd} (want $((N * (1 + R))): every phone REGISTER forked upstream)" \
        test "${fwd}" == "$((N * (1 + R)))"
    check "(1) eng.secondary_kept = ${kept} > 0 (the slower leg's 2xx kept as the secondary binding)" test "${kept}" -gt 0
    check "eng.stray_responses = ${stray} (want 0)" test "${stray}" == 0
fi

check "sipfront still alive" sfd_alive
sfd_it_stop
