#!/usr/bin/env bash
# Registrar failover of the sipfront daemon (PEER_TO_PEER, registrarMode
# INDEXED, registrarIndex [1, 2]) with two Kamailio registrars, in the netns lab:
#
#   sf-ua (sipp phones) -> sipfront (DPDK net_af_packet in sf-fe) -> Kamailio #1 198.18.2.2 (sf-core)
#                                                                  \-> Kamailio #2 198.18.2.3 (sf-core)
#
# Config configs/failover.json: Timer F 3 s (T1 500 ms), no rate limiting, so
# every phone REGISTER goes upstream. Kamailio #1 ("kam1") is slow: each
# REGISTER waits FO_DELAY_MS before save() (scripts/lab/kamailio-registrar-p2p.cfg
# with SF_DELAY_US), so REGISTERs are pending at it when it dies. Kamailio #2
# ("kam2") answers at once. Both log one SF-P2P line per REGISTER and one
# SF-SAVED line per 200 (see the cfg header).
#
# (1) N phones register through sipfront (FO_RATE per s) and then refresh
#     FO_REFRESHES times every FO_INTERVAL s (sipp register_refresh.xml: every
#     REGISTER must get a 200 granting FO_EXPIRES s)
# (2) FO_KILL_AFTER s after sipp starts, kam1 is killed with SIGKILL (main PID
#     and its children, by PID) while registrations are in flight: some
#     REGISTERs reached it and were never answered (SF-P2P, no SF-SAVED), the
#     ones sipfront sends until each worker's first Timer F are lost too
# (3) no binding lost: each worker marks #1 down on Timer F and sends the same
#     out-leg REGISTER (same Call-ID, next CSeq) to #2 (eng.registrar_failovers
#     = eng.timer_f_timeouts = N - the REGISTERs kam1 saved); bindings #1 had
#     saved move to #2 at the phone's next refresh (the binding's registrar is
#     down). kam2 then holds all N, each with sipfront's Contact
#     <sip:OUTCALLID@198.18.2.1:5060>, the out-leg Call-ID the binding had at #1
# (4) Kamailio #1 is started again (empty, "kam1b", same address): the later
#     refreshes still go to #2 only (a live binding keeps its registrar while
#     that one is up): kam1b sees no REGISTER, kam2 exactly failovers + N x
#     FO_REFRESHES; sipp: every phone got 1 + FO_REFRESHES 200s (no failed call)
#
#   sudo tests/integration/failover.sh
#   meson test -C build --suite integration failover
#
# Env: SIPFRONT_BIN (default build/dataplane/sipfront), SIPFRONT_PROFILE
# (nic-profiles/af_packet.json), SF_WORKERS (2), FO_USERS (100), FO_RATE (25),
# FO_EXPIRES (30), FO_REFRESHES (3), FO_INTERVAL (8 s), FO_KILL_AFTER (1.5 s),
# FO_DELAY_MS (300), FO_KEEP=1 keeps the run dir. Needs root, kamailio,
# sipp (sip-tester), python3, iproute2. About 50 s.
# Prints "ok"/"FAIL" per check and "N passed, M failed"; exit 0 iff all passed.

set -euo pipefail

ROOT="${SIPFRONT_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
HERE="${ROOT}/tests/integration"

N=${FO_USERS:-100}
RATE=${FO_RATE:-25}
EXPIRES=${FO_EXPIRES:-30}
R=${FO_REFRESHES:-3}
P=${FO_INTERVAL:-8}
KILL_AFTER=${FO_KILL_AFTER:-1.5}
DELAY_MS=${FO_DELAY_MS:-300}
PORT=5070

# shellcheck source=SCRIPTDIR/lib_checks.sh
. "${HERE}/lib_checks.sh"
# shellcheck source=SCRIPTDIR/lib_registrars.sh
. "${HERE}/lib_registrars.sh"

sfd_it_begin failover FO_KEEP failover

# ---------------------------------------------------------------- preflight
sfd_preflight
need_tools ip kamailio kamcmd sipp python3 timeout pgrep
need_numbers "${WORKERS}" "${N}" "${RATE}" "${EXPIRES}" "${R}" "${P}" "${DELAY_MS}"
[[ ${KILL_AFTER} =~ ^[0-9]+(\.[0-9]+)?$ ]] || fatal "FO_KILL_AFTER not a number: ${KILL_AFTER}"
((WORKERS >= 1 && N >= 2 && N <= 999 && RATE >= 1 && R >= 2 && P >= 1 && P < EXPIRES)) ||
    fatal "need FO_USERS 2..999, FO_REFRESHES >= 2, 1 <= FO_INTERVAL < FO_EXPIRES"
sfd_no_lab_up
read -r TIMER_F_MS RETRY_MS <<<"$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
assert c["passthrough"]["mode"] == "PEER_TO_PEER" and c["registrarMode"] == "INDEXED"
assert c["registrarIndex"] == [1, 2] and not c.get("rateLimit", {}).get("enabled", False)
print(c["sip"]["timers"]["timerFMs"], 60000)
' "${SIPFRONT_CONFIG}")" || fatal "${SIPFRONT_CONFIG}: want PEER_TO_PEER, INDEXED, registrarIndex [1, 2], no rate limiting"
# Everything after the first Timer F must be over before sipfront retries the
# down registrar #1 (60 s, engine registrar_retry_ms): sipp's run bounds it.
SIPP_T=$((N / RATE + 2 + (R + 1) * (P + TIMER_F_MS / 1000 + 1)))
((SIPP_T * 1000 < RETRY_MS)) || fatal "sipp would run ${SIPP_T} s, beyond sipfront's ${RETRY_MS} ms retry of a down registrar"
log "run dir ${SF_LAB_RUN}; sipfront ${SIPFRONT_BIN}; ${WORKERS} workers; ${N} phones at ${RATE}/s," \
    "${R} refreshes every ${P} s; kam1 killed ${KILL_AFTER} s in (each REGISTER ${DELAY_MS} ms there); Timer F ${TIMER_F_MS} ms"

# ---------------------------------------------------------------- setup
sfd_lab_up
reg_add_second_address || fatal "second registrar address ${SF_IP_CORE2} in ${SF_NS_CORE}"
ok "lab up (dpdk): phones ${SF_IP_UA} -> sipfront ${SF_IP_FE_ACC} | ${SF_IP_FE_CORE} -> registrars ${SF_IP_CORE}, ${SF_IP_CORE2}"

cfg1=$(reg_cfg kam1 "SF_DELAY_US=$((DELAY_MS * 1000))" SF_CHILDREN=32)
cfg2=$(reg_cfg kam2 SF_CHILDREN=4)
reg_start kam1 "${SF_IP_CORE}" "${cfg1}" || fatal "Kamailio #1 (kam1) on ${SF_IP_CORE}"
reg_start kam2 "${SF_IP_CORE2}" "${cfg2}" || fatal "Kamailio #2 (kam2) on ${SF_IP_CORE2}"
ok "Kamailio #1 (${DELAY_MS} ms per REGISTER) on ${SF_IP_CORE}:${SF_SIP_PORT}, #2 on ${SF_IP_CORE2}:${SF_SIP_PORT}"

sfd_it_start "(${WORKERS} workers, PEER_TO_PEER INDEXED [1, 2]) and OPTIONS answered on ${FE}" \
    "(PEER_TO_PEER, INDEXED [1, 2]) answers OPTIONS on ${FE}"

# ---------------------------------------------------------------- (1)+(2) register, kill #1
"${LABD}/users.sh" "${N}" 1 >"${SF_LAB_RUN}/users.csv"
"${LABD}/sipp.sh" -d "${FE}" -p "${PORT}" -u "${SF_LAB_RUN}/users.csv" -o phones \
    -r "${RATE}" -l "${N}" -e "${EXPIRES}" -T "${SIPP_T}" register_refresh.xml -- \
    -key refreshes "${R}" -key interval_ms "$((P * 1000))" -key granted "${EXPIRES}" \
    >"${SF_LAB_RUN}/sipp-phones.txt" 2>&1 &
pid_sipp=$!
bg_pids+=("${pid_sipp}")
log "sipp: ${N} phones (port ${PORT}) started"
sleep "${KILL_AFTER}"
reg_kill kam1 || fatal "SIGKILL Kamailio #1 (PID from ${SF_LAB_RUN}/kam1/launcher.pid)"

# The REGISTERs kam1 received, what it saved (answered 200) and what it never answered.
reg_lines kam1 SF-P2P | grep ' to=user' >"${SF_LAB_RUN}/kam1.p2p" || true
reg_lines kam1 SF-SAVED | grep ' to=user' >"${SF_LAB_RUN}/kam1.saved" || true
got1=$(grep -c . "${SF_LAB_RUN}/kam1.p2p" || true)
saved1=$(grep -c . "${SF_LAB_RUN}/kam1.saved" || true)
inflight1=$((got1 - saved1))
ok "(2) Kamailio #1 killed (SIGKILL, main PID + children) at $((SECONDS - T0)) s, after ${got1} REGISTERs reached it"
check "(2) registrations were in flight at #1 when it died: ${inflight1} REGISTERs received and never answered (${saved1} saved)" \
    test "${inflight1}" -gt 0
check "(2) the kill came during registration: ${saved1} of ${N} were saved at #1 before (want 0 < saved < N)" \
    test "${saved1}" -gt 0 -a "${saved1}" -lt "${N}"

# ---------------------------------------------------------------- (3) all bindings at #2
# Every phone's first refresh is due P s after its 200; the last one registers
# by N/RATE + Timer F. Then kam2 must hold all N.
check "(3) Kamailio #2 holds all ${N} bindings after the first refresh round (within $((N / RATE + P + 2 * TIMER_F_MS / 1000 + 6)) s)" \
    reg_wait_count kam2 "${N}" "$((N / RATE + P + 2 * TIMER_F_MS / 1000 + 6))"
check "(3) kam2: exactly ${N} bindings user000001..$(printf 'user%06d' "${N}"), each Contact <sip:sf...@${SF_IP_FE_CORE}:${SF_SIP_PORT}>, none with the phone's ${SF_IP_UA}" \
    reg_contacts_ok kam2 "${N}" 1 "${N}" "${EXPIRES}"

moved_ok() {
    reg_lines kam2 SF-P2P >"${SF_LAB_RUN}/kam2.p2p"
    reg_lines kam2 SF-SAVED >"${SF_LAB_RUN}/kam2.saved"
    python3 - "${SF_LAB_RUN}" "${N}" "${SF_IP_FE_CORE}" <<'EOF'
import sys
run, n, fe = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rows(path):
    out = []
    for line in open(path):
        f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
        if f.get("to", "").startswith("user"):
            out.append(f)
    return out
p1, s1 = rows(run + "/kam1.p2p"), rows(run + "/kam1.saved")
p2, s2 = rows(run + "/kam2.p2p"), rows(run + "/kam2.saved")
saved1 = {(f["callid"], f["cseq"]) for f in s1}
saved2 = {(f["callid"], f["cseq"]) for f in s2}
cid1 = {}
for f in p1:
    cid1.setdefault(f["to"], f["callid"])
errs = []
# Each AoR has one out-leg Call-ID at both registrars: the binding moved, it was not re-created.
cid2 = {}
for f in p2:
    if cid2.setdefault(f["to"], f["callid"]) != f["callid"]:
        errs.append("%s: two Call-IDs at #2" % f["to"])
    if not f["src"].startswith(fe + ":"):
        errs.append("%s: REGISTER at #2 from %s" % (f["to"], f["src"]))
for u, c in cid1.items():
    if cid2.get(u) != c:
        errs.append("%s: Call-ID %s at #1, %s at #2" % (u, c, cid2.get(u)))
# The REGISTERs #1 never answered: each re-sent to #2 (same Call-ID, higher CSeq) and saved there.
lost = [f for f in p1 if (f["callid"], f["cseq"]) not in saved1]
for f in lost:
    later = [g for g in p2 if g["callid"] == f["callid"] and int(g["cseq"]) > int(f["cseq"])
             and (g["callid"], g["cseq"]) in saved2]
    if not later:
        errs.append("%s: REGISTER CSeq %s lost at #1, not saved at #2 after" % (f["to"], f["cseq"]))
print("  %d AoRs at #1 (%d saved, %d never answered), %d at #2; %d REGISTERs at #2 so far"
      % (len(cid1), len(saved1), len(lost), len(cid2), len(p2)))
for e in errs[:6]:
    print("  " + e)
sys.exit(1 if errs or len(cid2) != n else 0)
EOF
}
check "(3) each binding kept its out-leg Call-ID from #1 to #2, from ${SF_IP_FE_CORE}; every REGISTER #1 never answered was re-sent to #2 (higher CSeq) and saved there" \
    moved_ok

# ---------------------------------------------------------------- (4) #1 back, refreshes stay on #2
cfg1b=$(reg_cfg kam1b SF_CHILDREN=4)
t_back=$(date +%s.%N)
reg_start kam1b "${SF_IP_CORE}" "${cfg1b}" || fatal "Kamailio #1 again (kam1b) on ${SF_IP_CORE}"
ok "(4) Kamailio #1 running again (empty usrloc, kam1b) on ${SF_IP_CORE}:${SF_SIP_PORT} at $((SECONDS - T0)) s"

rc=0
wait "${pid_sipp}" || rc=$?
check "(1) sipp: ${N} phones, 1 + ${R} REGISTERs each, every one answered 200 granting ${EXPIRES} s, no failed call ($(tr '\n' ' ' <"${SF_LAB_RUN}/sipp-phones.txt" | cut -c1-160))" \
    test "${rc}" == 0
sleep 0.5
n1b=$(reg_lines kam1b SF-P2P | grep -c ' to=user' || true)
check "(4) the refreshes after #1 came back all went to #2: kam1b got ${n1b} REGISTERs (want 0)" test "${n1b}" == 0

total() { counter_total "${TABLE}" "$1"; }
if sfd_it_counters "${SF_LAB_RUN}/counters.txt"; then
    fo=$(total eng.registrar_failovers)
    tf=$(total eng.timer_f_timeouts)
    fwd=$(total eng.register_forwarded)
    unav=$(total eng.registrar_unavailable)
    stray=$(total eng.stray_responses)
    log "  eng.registrar_failovers $(sfd_counter_row "${TABLE}" eng.registrar_failovers), eng.timer_f_timeouts $(sfd_counter_row "${TABLE}" eng.timer_f_timeouts)"
    check "(3) eng.registrar_failovers = ${fo} = N - REGISTERs saved at #1 = $((N - saved1)) (> 0)" \
        test "${fo}" == "$((N - saved1))" -a "${fo}" -gt 0
    check "(3) eng.timer_f_timeouts = ${tf} = failovers ${fo}: every Timer F was a REGISTER to the dead #1" \
        test "${tf}" == "${fo}"
    check "(1) eng.register_forwarded = ${fwd} (want $((N * (1 + R))): every phone REGISTER went upstream), eng.registrar_unavailable = ${unav} (want 0)" \
        test "${fwd}:${unav}" == "$((N * (1 + R))):0"
    check "eng.stray_responses = ${stray} (want 0)" test "${stray}" == 0
    reg_lines kam2 SF-P2P >"${SF_LAB_RUN}/kam2.p2p"
    n2=$(grep -c ' to=user' "${SF_LAB_RUN}/kam2.p2p" || true)
    s2=$(reg_lines kam2 SF-SAVED | grep -c ' to=user' || true)
    check "(4) kam2 got ${n2} REGISTERs, all saved (${s2}) = failovers ${fo} + ${N} x ${R} refreshes" \
        test "${n2}:${s2}" == "$((fo + N * R)):$((fo + N * R))"
    after_back=$(awk -v t="${t_back}" '{ for (i = 2; i <= NF; i++) if ($i ~ /^t=/) { v = substr($i, 3); if (v + 0 > t + 0) n++ } } END { print n + 0 }' \
        "${SF_LAB_RUN}/kam2.p2p")
    check "(4) kam2 kept receiving refreshes after #1 came back (${after_back} REGISTERs since)" test "${after_back}" -gt 0
fi
check "(3) Kamailio #2 still holds all ${N} bindings" reg_wait_count kam2 "${N}" 2

check "sipfront still alive" sfd_alive
sfd_it_stop
