#!/usr/bin/env bash
# Overload protection ("registration spike N") of the sipfront daemon in
# PEER_TO_PEER mode, in the netns lab, against a slow Kamailio:
#
#   sf-ua (sipp phones) -> sipfront (DPDK net_af_packet in sf-fe) -> Kamailio (sf-core, 198.18.2.2)
#
# Config configs/spike.json: overload.registrationSpike N = 8, reservePercent
# 25 (2 slots only refreshes of live bindings may take, so new registrations
# hold at most 6), Retry-After 20..40 s, no rate limiting (every phone refresh
# goes upstream and needs a slot), T1 1 s (no Timer E retransmission while a
# REGISTER waits at the slow registrar). Kamailio:
# scripts/lab/kamailio-registrar-p2p.cfg with SF_DELAY_US (each REGISTER
# waits SP_DELAY_MS before save()), SF_INFLIGHT and 24 children.
#
# How "pending at the registrar" is measured: Kamailio keeps a shared counter
# $shv(inflight) under lock(): +1 when a REGISTER arrives, -1 just before
# save() sends its 200, and logs the count including the arriving REGISTER
# (SF-INFLIGHT n=...). Because the decrement comes before the 200 leaves, a
# REGISTER sipfront sends after that 200 can never be counted together with
# it, so the logged maximum is at most what sipfront really had pending. With
# more children than N the registrar itself never queues, so a front end that
# sent more than N would show n > N. The count is only meaningful when every
# REGISTER arrives once: the test checks that no (Call-ID, CSeq) is logged twice
# (no retransmission reached Kamailio).
#
# (1) SP_LIVE phones register slowly (within N) and then refresh every
#     SP_LIVE_INTERVAL s while (2) runs: the live bindings
# (2) a burst of SP_BURST new phones at SP_RATE per s, far above what N slots
#     of SP_DELAY_MS each allow (N / delay = 32 per s): each gets 200 or 503
#     with a Retry-After in [retryAfterMin, retryAfterMax] (sipp
#     register_spike.xml checks it and logs the outcome); some get each
# (3) Kamailio never had more than N REGISTERs pending (max SF-INFLIGHT n),
#     and did reach at least N/2 (the limit, not the offered load, bounds it)
# (4) the 503s never reached Kamailio; it holds exactly the live phones and
#     the burst phones that got 200; sipfront's eng.spike_rejected = the 503s
#     sipp saw, eng.register_forwarded = everything else
# (5) the live phones' refreshes during the burst all got 200 (the reserve):
#     sipp for them reports no failed call, and Kamailio saw some of them
#     while the burst was on
#
#   sudo tests/integration/spike.sh
#   meson test -C build --suite integration spike
#
# Env: SIPFRONT_BIN (default build/dataplane/sipfront), SIPFRONT_PROFILE
# (nic-profiles/af_packet.json), SF_WORKERS (2), SP_LIVE (4),
# SP_LIVE_INTERVAL (2 s), SP_BURST (600), SP_RATE (200), SP_DELAY_MS (250),
# SP_KEEP=1 keeps the run dir. Needs root, kamailio, sipp (sip-tester),
# python3, iproute2. About 35 s.
# Prints "ok"/"FAIL" per check and "N passed, M failed"; exit 0 iff all passed.

set -euo pipefail

ROOT="${SIPFRONT_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
HERE="${ROOT}/tests/integration"

L=${SP_LIVE:-4}
LP=${SP_LIVE_INTERVAL:-2}
M=${SP_BURST:-600}
RATE=${SP_RATE:-200}
DELAY_MS=${SP_DELAY_MS:-250}
LIVE_EXPIRES=30
BURST_EXPIRES=60
PORT_L=5070 # sipp of the live phones
PORT_B=5072 # sipp of the burst

# shellcheck source=SCRIPTDIR/lib_checks.sh
. "${HERE}/lib_checks.sh"
# shellcheck source=SCRIPTDIR/lib_registrars.sh
. "${HERE}/lib_registrars.sh"

sfd_it_begin spike SP_KEEP spike

# ---------------------------------------------------------------- preflight
sfd_preflight
need_tools ip kamailio kamcmd sipp python3 timeout
need_numbers "${WORKERS}" "${L}" "${LP}" "${M}" "${RATE}" "${DELAY_MS}"
((WORKERS >= 1 && L >= 1 && L <= 50 && LP >= 1 && M >= 10 && L + M <= 999 && RATE >= 1 && DELAY_MS >= 10)) ||
    fatal "need SP_LIVE 1..50, SP_BURST >= 10, SP_LIVE + SP_BURST <= 999, SP_DELAY_MS >= 10"
sfd_no_lab_up
read -r SPIKE RESERVE RA_MIN RA_MAX T1_MS <<<"$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
o = c["overload"]
assert c["passthrough"]["mode"] == "PEER_TO_PEER" and not c.get("rateLimit", {}).get("enabled", False)
print(o["registrationSpike"], o["registrationSpike"] * o["reservePercent"] // 100, o["retryAfterMin"], o["retryAfterMax"],
      c["sip"]["timers"]["t1Ms"])
' "${SIPFRONT_CONFIG}")" || fatal "${SIPFRONT_CONFIG}: want PEER_TO_PEER, overload.registrationSpike/reservePercent/retryAfterMin/Max, no rate limiting"
((SPIKE >= 2)) || fatal "registrationSpike ${SPIKE}: want >= 2"
((DELAY_MS * 2 <= T1_MS)) || fatal "SP_DELAY_MS ${DELAY_MS} must be at most T1/2 (${T1_MS} ms): sipfront would retransmit to the slow registrar"
CHILDREN=$((3 * SPIKE))
BURST_S=$(((M + RATE - 1) / RATE))
# The live phones refresh from before the burst until well after it.
LR=$(((BURST_S + 10) / LP + 2))
log "run dir ${SF_LAB_RUN}; ${WORKERS} workers; registrationSpike ${SPIKE} (reserve ${RESERVE}), Retry-After ${RA_MIN}..${RA_MAX} s;" \
    "Kamailio ${DELAY_MS} ms per REGISTER, ${CHILDREN} children; ${L} live phones (${LR} refreshes every ${LP} s); burst ${M} at ${RATE}/s"

# ---------------------------------------------------------------- setup
sfd_lab_up
ok "lab up (dpdk): phones ${SF_IP_UA} -> sipfront ${SF_IP_FE_ACC} | ${SF_IP_FE_CORE} -> registrar ${SF_IP_CORE}"

cfg=$(reg_cfg kam "SF_DELAY_US=$((DELAY_MS * 1000))" SF_INFLIGHT "SF_CHILDREN=${CHILDREN}")
reg_start kam "${SF_IP_CORE}" "${cfg}" || fatal "Kamailio (slow, in-flight count) on ${SF_IP_CORE}"
ok "Kamailio (${DELAY_MS} ms per REGISTER, ${CHILDREN} children, SF-INFLIGHT) on ${SF_IP_CORE}:${SF_SIP_PORT}"

sfd_it_start "(${WORKERS} workers, PEER_TO_PEER, registrationSpike ${SPIKE}) and OPTIONS answered on ${FE}" \
    "(PEER_TO_PEER, registrationSpike ${SPIKE}) answers OPTIONS on ${FE}"

# ---------------------------------------------------------------- (1) live phones
"${LABD}/users.sh" "${L}" 1 >"${SF_LAB_RUN}/live.csv"
"${LABD}/users.sh" "${M}" "$((L + 1))" >"${SF_LAB_RUN}/burst.csv"
"${LABD}/sipp.sh" -d "${FE}" -p "${PORT_L}" -u "${SF_LAB_RUN}/live.csv" -o live \
    -r 2 -l "${L}" -e "${LIVE_EXPIRES}" -T "$((L / 2 + LR * LP + 20))" register_refresh.xml -- \
    -key refreshes "${LR}" -key interval_ms "$((LP * 1000))" -key granted "${LIVE_EXPIRES}" \
    >"${SF_LAB_RUN}/sipp-live.txt" 2>&1 &
pid_live=$!
bg_pids+=("${pid_live}")
log "sipp: ${L} live phones (port ${PORT_L}) registering at 2/s"
check "(1) Kamailio holds the ${L} live bindings within $((L / 2 + 8)) s" reg_wait_count kam "${L}" "$((L / 2 + 8))"

# ---------------------------------------------------------------- (2) burst
t_burst=$(date +%s.%N)
rc=0
"${LABD}/sipp.sh" -d "${FE}" -p "${PORT_B}" -u "${SF_LAB_RUN}/burst.csv" -o burst \
    -r "${RATE}" -l "${M}" -e "${BURST_EXPIRES}" -T "$((BURST_S + 20))" register_spike.xml -- \
    -key ra_min "${RA_MIN}" -key ra_max "${RA_MAX}" -trace_logs -log_file "${SF_LAB_RUN}/burst.outcomes" \
    >"${SF_LAB_RUN}/sipp-burst.txt" 2>&1 || rc=$?
t_burst_end=$(date +%s.%N)
check "(2) sipp burst: ${M} new phones, each got 200 or 503 with Retry-After in ${RA_MIN}..${RA_MAX} ($(tr '\n' ' ' <"${SF_LAB_RUN}/sipp-burst.txt" | cut -c1-160))" \
    test "${rc}" == 0

outcomes=$(python3 - "${SF_LAB_RUN}/burst.outcomes" "${M}" "${RA_MIN}" "${RA_MAX}" <<'EOF'
import sys, re
path, m, lo, hi = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
users, ok, rej, ras = set(), [], [], []
for line in open(path):
    g = re.search(r"SF-OUTCOME (\S+) (200|503)(?: retry_after=([0-9.]+))?", line)
    if not g:
        continue
    users.add(g.group(1))
    if g.group(2) == "200":
        ok.append(g.group(1))
    else:
        rej.append(g.group(1))
        ras.append(float(g.group(3)))
good = len(users) == m == len(ok) + len(rej) and all(lo <= r <= hi for r in ras)
print(len(ok), len(rej), int(min(ras or [0])), int(max(ras or [0])), len(set(ras)), 1 if good else 0)
open(path + ".503", "w").write("".join(u + "\n" for u in rej))
EOF
) || outcomes="0 0 0 0 0 0"
read -r n200 n503 ra_lo ra_hi ra_distinct out_ok <<<"${outcomes}"
check "(2) sipp logged one outcome per burst phone: ${n200} x 200 + ${n503} x 503 = ${M}, Retry-After ${ra_lo}..${ra_hi} s (${ra_distinct} distinct values) within ${RA_MIN}..${RA_MAX}" \
    test "${out_ok}" == 1
check "(2) the spike limit bit: ${n503} of ${M} got 503 + Retry-After, ${n200} got 200 (want both > 0)" \
    test "${n503}" -gt 0 -a "${n200}" -gt 0

# ---------------------------------------------------------------- (5) live refreshes
rc=0
wait "${pid_live}" || rc=$?
check "(5) sipp live phones: ${L} x (1 + ${LR}) REGISTERs, every one (also during the burst) answered 200 ($(tr '\n' ' ' <"${SF_LAB_RUN}/sipp-live.txt" | cut -c1-160))" \
    test "${rc}" == 0
reg_lines kam SF-P2P | grep ' to=user' >"${SF_LAB_RUN}/kam.p2p" || true
reg_lines kam SF-INFLIGHT >"${SF_LAB_RUN}/kam.inflight" || true
during=$(awk -v a="${t_burst}" -v b="${t_burst_end}" -v l="${L}" '
    { t = ""; u = ""
      for (i = 2; i <= NF; i++) { if ($i ~ /^t=/) t = substr($i, 3); if ($i ~ /^to=user/) u = substr($i, 8) }
      if (u + 0 >= 1 && u + 0 <= l && t + 0 >= a + 0 && t + 0 <= b + 0) n++ }
    END { print n + 0 }' "${SF_LAB_RUN}/kam.p2p")
check "(5) ${during} live-phone refreshes reached Kamailio while the burst was on (want > 0)" test "${during}" -gt 0

# ---------------------------------------------------------------- (3) pending at the registrar
read -r imax ientries idup <<<"$(python3 - "${SF_LAB_RUN}/kam.inflight" <<'EOF'
import sys, re, collections
seen = collections.Counter()
mx = 0
for line in open(sys.argv[1]):
    g = re.search(r" n=(\d+) .*callid=(\S+) cseq=(\d+)", line)
    if g:
        mx = max(mx, int(g.group(1)))
        seen[(g.group(2), g.group(3))] += 1
print(mx, sum(seen.values()), sum(1 for v in seen.values() if v > 1))
EOF
)"
check "(3) every REGISTER reached Kamailio once (${ientries} counted, ${idup} (Call-ID, CSeq) seen twice): the in-flight count is exact" \
    test "${idup}" == 0
check "(3) Kamailio never had more than registrationSpike = ${SPIKE} REGISTERs pending: max ${imax}" test "${imax}" -le "${SPIKE}"
check "(3) ... and it had at least $((SPIKE / 2)) at once (the limit, not the offered load, was the bound): max ${imax}" \
    test "${imax}" -ge "$((SPIKE / 2))"

# ---------------------------------------------------------------- (4) what reached the registrar
rejected_seen=$(awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^to=/) print substr($i, 4) }' "${SF_LAB_RUN}/kam.p2p" |
    grep -cxFf "${SF_LAB_RUN}/burst.outcomes.503" || true)
check "(4) none of the ${n503} phones answered 503 reached Kamailio (${rejected_seen} did)" test "${rejected_seen}" == 0
check "(4) Kamailio holds exactly the ${L} live + ${n200} accepted burst bindings" reg_wait_count kam "$((L + n200))" 3
check "(4) usrloc: $((L + n200)) bindings, each with sipfront's Contact <sip:sf...@${SF_IP_FE_CORE}:${SF_SIP_PORT}>" \
    reg_contacts_ok kam "$((L + n200))" 1 "$((L + M))" "${BURST_EXPIRES}"

total() { counter_total "${TABLE}" "$1"; }
if sfd_it_counters "${SF_LAB_RUN}/counters.txt"; then
    sr=$(total eng.spike_rejected)
    fwd=$(total eng.register_forwarded)
    te=$(total eng.timer_e_retrans)
    log "  eng.spike_rejected $(sfd_counter_row "${TABLE}" eng.spike_rejected), eng.spike_deferred $(sfd_counter_row "${TABLE}" eng.spike_deferred)"
    check "(4) eng.spike_rejected = ${sr} = the 503s sipp saw (${n503}), > 0" test "${sr}" == "${n503}" -a "${sr}" -gt 0
    check "(4) eng.register_forwarded = ${fwd} = ${L} x (1 + ${LR}) live + ${n200} accepted" \
        test "${fwd}" == "$((L * (1 + LR) + n200))"
    check "(3) eng.timer_e_retrans = ${te} (want 0: nothing retransmitted to the slow registrar)" test "${te}" == 0
fi

check "sipfront still alive" sfd_alive
sfd_it_stop
