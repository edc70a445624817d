#!/usr/bin/env bash
# Local fallback and reg-sync of the sipfront daemon (PEER_TO_PEER), in the netns lab:
#
#   sf-ua (sipp phones, one python phone) -> sipfront (sf-fe) -> Kamailio (sf-core)
#
# Config configs/fallback.json: the rate-limiting timing of configs/ratelimit.json
# (in-expires 10 s, outExpires 60 s refreshed every 47.2 s, Timer F 12.8 s) plus
# probe {intervalMs 1000, keepaliveMs 1000}, fallback {holdSeconds 600} and
# regSync {ratePerSecond 20}. Kamailio: scripts/lab/kamailio-registrar-p2p.cfg
# (one timestamped SF-P2P log line per REGISTER, which this test counts).
#
# (1) N sipp phones and one python phone ("callee", which answers any request
#     with 200) register through sipfront; Kamailio holds N + 1 bindings
# (2) the test kills Kamailio (SIGKILL to the PIDs it started); sipfront's
#     keepalive OPTIONS time out and mark the registrar down
# (3) while Kamailio is dead: M new sipp phones register and get 200 (from
#     sipfront's local registrar), the old phones keep refreshing with 200, and
#     an OPTIONS from the core side for callee's Contact still reaches callee
#     and its 200 comes back; the old bindings' out-leg refreshes find no
#     registrar and the bindings stay (local only)
# (4) Kamailio restarts (empty usrloc): the prober marks it up, and all N + M + 1
#     bindings are re-registered upstream by reg-sync, paced: no second of
#     Kamailio's log has more than ratePerSecond + 3 REGISTERs, and they spread
#     over at least (N + M + 1) / ratePerSecond - 1.5 s; the phones' own
#     refreshes are answered locally meanwhile (none reaches Kamailio)
# (5) SIGUSR1 counters: fallback_registrations, regsync_sent = N + M + 1,
#     probes answered and timed out
#
#   sudo tests/integration/fallback.sh
#   meson test -C build --suite integration fallback
#
# Env: SIPFRONT_BIN, SIPFRONT_PROFILE (nic-profiles/af_packet.json), SF_WORKERS (2),
# FB_OLD (60), FB_NEW (40), FB_KEEP=1 keeps the run dir. Needs root, kamailio,
# sipp (sip-tester), python3, iproute2. Prints "ok"/"FAIL" per check and
# "N passed, M failed"; exit 0 iff all passed.

set -euo pipefail

ROOT="${SIPFRONT_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
HERE="${ROOT}/tests/integration"

N=${FB_OLD:-60}
M=${FB_NEW:-40}
UA_PY="${HERE}/fallback_ua.py"
PORT_OLD=5070
PORT_NEW=5072
PORT_CALLEE=5096
PORT_CORE=5099
INTERVAL=5 # sipp phones refresh every 5 s (granted 10)

# shellcheck source=SCRIPTDIR/lib_checks.sh
. "${HERE}/lib_checks.sh"
# shellcheck source=SCRIPTDIR/lib_registrars.sh
. "${HERE}/lib_registrars.sh"

sfd_it_begin fallback FB_KEEP fallback --kamailio
export KAM_CFG="${LABD}/kamailio-registrar-p2p.cfg"

# ---------------------------------------------------------------- preflight
sfd_preflight
[[ -r ${KAM_CFG} ]] || fatal "Kamailio cfg missing: ${KAM_CFG}"
need_tools ip kamailio kamcmd sipp python3 timeout pgrep
need_numbers "${WORKERS}" "${N}" "${M}"
((WORKERS >= 1 && N >= 1 && M >= 1 && N + M <= 900)) || fatal "need FB_OLD >= 1, FB_NEW >= 1, FB_OLD + FB_NEW <= 900"
sfd_no_lab_up
read -r RATE OUT_EXP TIMER_F_S < <(python3 - "${SIPFRONT_CONFIG}" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["passthrough"]["mode"] == "PEER_TO_PEER" and c["fallback"]["enabled"] and c["probe"]["enabled"]
t = c["sip"]["timers"]
print(c["regSync"]["ratePerSecond"], c["rateLimit"]["outExpires"], t.get("timerFMs", 64 * t["t1Ms"]) / 1000.0)
EOF
) || fatal "cannot read ${SIPFRONT_CONFIG}"
ALL=$((N + M + 1))
log "run dir ${SF_LAB_RUN}; ${WORKERS} workers; ${N} old + ${M} new phones + callee; reg-sync ${RATE}/s"

KDIR="${SF_LAB_RUN}/kamailio"
KLOG="${KDIR}/kamailio.log"
now() { date +%s.%N; }

# ---------------------------------------------------------------- setup
sfd_lab_up
kam start || fatal "kamailio.sh start (${KAM_CFG##*/})"
ok "lab up; Kamailio (${KAM_CFG##*/}) on ${SF_IP_CORE}:${SF_SIP_PORT}"
sfd_it_start "(${WORKERS} workers, PEER_TO_PEER, fallback) and OPTIONS answered on ${FE}" \
    "answers OPTIONS on ${FE}"

# ---------------------------------------------------------------- (1) registrations
RUN_FOR=100 # every phone runs past the end of the test
"${LABD}/users.sh" "${N}" 1 >"${SF_LAB_RUN}/old.csv"
"${LABD}/sipp.sh" -d "${FE}" -p "${PORT_OLD}" -u "${SF_LAB_RUN}/old.csv" -o old \
    -r 100 -l "${N}" -e 3600 -T "$((RUN_FOR + 40))" register_refresh.xml -- \
    -key refreshes "$((RUN_FOR / INTERVAL))" -key interval_ms "$((INTERVAL * 1000))" -key granted 10 \
    >"${SF_LAB_RUN}/sipp-old.txt" 2>&1 &
pid_old=$!
bg_pids+=("${pid_old}")
ip netns exec "${SF_NS_UA}" timeout "$((RUN_FOR + 10))" python3 "${UA_PY}" phone --bind "${SF_IP_UA}" \
    --port "${PORT_CALLEE}" --fe "${FE}" --user callee --every 4 --for "${RUN_FOR}" \
    --log "${SF_LAB_RUN}/callee.jsonl" >"${SF_LAB_RUN}/callee.out" 2>&1 &
bg_pids+=("$!")
check "(1) Kamailio holds $((N + 1)) bindings (${N} sipp phones + callee) within 15 s" wait_count "$((N + 1))" 15
t_registered=${SECONDS}
kam contacts >"${SF_LAB_RUN}/contacts-before.txt" || true
callee_contact=$(awk '$1 == "callee" {print $2}' "${SF_LAB_RUN}/contacts-before.txt" | head -n 1)
check "(1) callee's binding at Kamailio has sipfront's Contact (${callee_contact})" \
    test -n "${callee_contact}"

# ---------------------------------------------------------------- (2) kill Kamailio
kpid=$(<"${KDIR}/launcher.pid")
kkids=$(pgrep -P "${kpid}" || true)
[[ $(readlink "/proc/${kpid}/exe" 2>/dev/null) == */kamailio ]] || fatal "launcher.pid ${kpid} is not our Kamailio"
log "killing Kamailio: SIGKILL to pid ${kpid} and its workers $(tr '\n' ' ' <<<"${kkids}")"
# shellcheck disable=SC2086
kill -KILL ${kkids} "${kpid}" 2>/dev/null || true
dead() { # gone, or a zombie
    local st
    [[ -r /proc/${kpid}/stat ]] || return 0
    st=$(sed 's/^.*) //' "/proc/${kpid}/stat" 2>/dev/null | cut -d' ' -f1)
    [[ -z ${st} || ${st} == Z || ${st} == X ]]
}
sleep 1
check "(2) Kamailio (pid ${kpid}) is gone" dead
# Keepalive every 1 s, a probe's Timer F: the registrar is down on every worker by then.
sleep "$(python3 -c "print(${TIMER_F_S} + 3)")"

# ---------------------------------------------------------------- (3) while it is dead
"${LABD}/users.sh" "${M}" "$((N + 1))" >"${SF_LAB_RUN}/new.csv"
"${LABD}/sipp.sh" -d "${FE}" -p "${PORT_NEW}" -u "${SF_LAB_RUN}/new.csv" -o new \
    -r 100 -l "${M}" -e 3600 -T "$((RUN_FOR + 40))" register_refresh.xml -- \
    -key refreshes "$((RUN_FOR / INTERVAL - 6))" -key interval_ms "$((INTERVAL * 1000))" -key granted 10 \
    >"${SF_LAB_RUN}/sipp-new.txt" 2>&1 &
pid_new=$!
bg_pids+=("${pid_new}")
sleep 3
new_ok() { # sipp ends a phone's call (and fails) on any answer but 200 with expires=10
    kill -0 "${pid_new}" 2>/dev/null || { log "  sipp (new phones) ended early: $(tail -n 3 "${SF_LAB_RUN}/sipp-new.txt")"; return 1; }
    kill -0 "${pid_old}" 2>/dev/null || { log "  sipp (old phones) ended early: $(tail -n 3 "${SF_LAB_RUN}/sipp-old.txt")"; return 1; }
}
check "(3) ${M} new phones registering and ${N} old phones refreshing with Kamailio dead: both sipp runs still going (a REGISTER not answered 200 within sipp's timeout ends them)" new_ok

core_ok() {
    local code
    code=$(ip netns exec "${SF_NS_CORE}" timeout 10 python3 "${UA_PY}" core --bind "${SF_IP_CORE}" \
        --port "${PORT_CORE}" --fe "${SF_IP_FE_CORE}:${SF_SIP_PORT}" --ruri "${callee_contact}" --wait 5)
    grep -q '"event": "request", "method": "OPTIONS"' "${SF_LAB_RUN}/callee.jsonl" ||
        { log "  callee never received the OPTIONS (core got ${code})"; return 1; }
    [[ ${code} == 200 ]] || { log "  the core got ${code} back, want callee's 200"; return 1; }
}
check "(3) an OPTIONS from the core for callee's Contact (${callee_contact}) reaches callee and its 200 comes back, registrar dead" core_ok

# The old bindings' out-leg refreshes (every ${OUT_EXP} s x 0.79) fall in the outage.
restart_at=$((t_registered + OUT_EXP + 2))
((SECONDS < restart_at)) && sleep "$((restart_at - SECONDS))"
callee_regs_ok() {
    local n200 nall
    nall=$(grep -c '"event": "response"' "${SF_LAB_RUN}/callee.jsonl" || true)
    n200=$(grep -c '"event": "response", "code": 200' "${SF_LAB_RUN}/callee.jsonl" || true)
    [[ ${nall} == "${n200}" && ${n200} -gt 5 ]] || { log "  callee: ${n200} of ${nall} REGISTER answers were 200"; return 1; }
}
check "(3) callee's refreshes all answered 200 through the outage ($(grep -c '"code": 200' "${SF_LAB_RUN}/callee.jsonl" || true) so far)" callee_regs_ok

# ---------------------------------------------------------------- (4) Kamailio returns
kam start || fatal "kamailio.sh start again"
t_restart=$(now)
# usrloc is in memory only: the restarted Kamailio holds nothing but what reg-sync sends it.
log "Kamailio restarted (pid $(<"${KDIR}/launcher.pid")); $(kam count) contacts a moment after it answered"
check "(4) all ${ALL} bindings back in Kamailio within $((ALL / RATE + 12)) s (reg-sync at ${RATE}/s)" \
    wait_count "${ALL}" "$((ALL / RATE + 12))"
sleep 1

paced_ok() {
    grep -o 'SF-P2P .*' "${KLOG}" >"${SF_LAB_RUN}/sync.txt" || true
    python3 - "${SF_LAB_RUN}/sync.txt" "${t_restart}" "${RATE}" "${ALL}" "${SF_IP_FE_CORE}" <<'EOF'
import sys, collections
path, t_restart, rate, want, fe = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
regs = []
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    if float(f["t"]) >= t_restart - 1:
        regs.append(f)
users = collections.Counter(f["to"] for f in regs)
ts = sorted(float(f["t"]) for f in regs)
errs = []
if len(users) != want:
    errs.append("%d distinct AoRs re-registered, want %d" % (len(users), want))
if len(regs) > want + 5:
    errs.append("%d REGISTERs for %d AoRs: phones' refreshes reached the registrar?" % (len(regs), len(users)))
if any(not f["src"].startswith(fe + ":") or not f["callid"].startswith("sf") for f in regs):
    errs.append("a REGISTER not from sipfront's out-leg")
per_s = collections.Counter(int(t - ts[0]) for t in ts) if ts else {}
peak = max(per_s.values()) if per_s else 0
if peak > rate + 3:
    errs.append("peak %d REGISTERs in one second, want <= %d" % (peak, rate + 3))
spread = ts[-1] - ts[0] if ts else 0
if spread < want / rate - 1.5:
    errs.append("all within %.1f s: a burst (want >= %.1f s)" % (spread, want / rate - 1.5))
print("  after the restart: %d REGISTERs, %d AoRs, over %.1f s, peak %d/s, per second %s"
      % (len(regs), len(users), spread, peak, [per_s[k] for k in sorted(per_s)]))
for e in errs:
    print("  " + e)
sys.exit(1 if errs else 0)
EOF
}
check "(4) re-registration paced: <= ${RATE} + 3 REGISTERs in any second at Kamailio, spread over >= ${ALL}/${RATE} - 1.5 s, one per AoR, from sipfront's out-leg" paced_ok

# ---------------------------------------------------------------- (5) counters
TABLE="${SF_LAB_RUN}/counters.txt"
total() { counter_total "${TABLE}" "$1"; }
if sfd_counters "${TABLE}"; then
    sed -n '/engine/,$p' "${TABLE}" | grep -E 'probe|fallback|regsync|register_|forwarded' | sed 's/^/    /'
    fb=$(total eng.fallback_registrations)
    rs=$(total eng.regsync_sent)
    pa=$(total eng.probes_answered)
    pt=$(total eng.probe_timeouts)
    fx=$(total eng.fallback_expired)
    check "(5) eng.fallback_registrations = ${fb} >= ${M} (new phones answered locally)" test "${fb}" -ge "${M}"
    check "(5) eng.regsync_sent = ${rs} (want ${ALL})" test "${rs}" == "${ALL}"
    check "(5) probes answered ${pa} > 0 and timed out ${pt} > 0 on each side of the outage" \
        test "${pa}" -gt 0 -a "${pt}" -gt 0
    check "(5) eng.fallback_expired = ${fx} (want 0: holdSeconds 600)" test "${fx}" == 0
else
    bad "(5) no counters table after SIGUSR1 (log ${SFD_LOG})"
fi

# ---------------------------------------------------------------- the phones end
rc=0
wait "${pid_new}" || rc=$?
check "(3) sipp new phones: ${M} phones, every REGISTER answered 200 with expires=10 ($(tr '\n' ' ' <"${SF_LAB_RUN}/sipp-new.txt" | cut -c1-160))" \
    test "${rc}" == 0
rc=0
wait "${pid_old}" || rc=$?
check "(3) sipp old phones: ${N} phones, every REGISTER answered 200 with expires=10 through the outage ($(tr '\n' ' ' <"${SF_LAB_RUN}/sipp-old.txt" | cut -c1-160))" \
    test "${rc}" == 0
check "sipfront still alive" sfd_alive
sfd_it_stop
