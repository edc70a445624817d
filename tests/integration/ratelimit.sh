#!/usr/bin/env bash
# Rate limiting test of the sipfront daemon in PEER_TO_PEER mode, in the netns lab:
#
#   sf-ua (sipp phones) -> sipfront (DPDK net_af_packet in sf-fe) -> Kamailio (sf-core)
#
# Config configs/ratelimit.json: localRegistrar expiresMin 5 / expiresMax 10
# (phones ask 3600 and are granted 10), rateLimit outExpires 60 (the smallest
# the config allows) and failCount 3, Timer F 12.8 s (T1 200 ms). sipfront
# refreshes an out-leg registration max(outExpires/10, Timer F) = 12.8 s
# before it lapses, i.e. every 47.2 s; with in-expires (10) below that lead no
# phone refresh ever finds the out-leg about to lapse, so every phone refresh
# is answered locally. Kamailio: scripts/lab/kamailio-registrar-p2p.cfg (no
# digest auth except for "auth*" users; one timestamped SF-P2P log line per
# REGISTER, which is what this test counts).
#
# (1) N phones (N-S "long" ones, S "stoppers") register through sipfront;
#     Kamailio holds exactly N bindings, each with sipfront's Contact
#     <sip:OUTCALLID@198.18.2.1:5060> (user part = the binding's out-leg
#     Call-ID, sf...), none with the phone's; upstream Expires is outExpires
# (2) the long phones refresh RL_REFRESHES times every RL_INTERVAL s, the
#     stoppers RL_STOP_REFRESHES times; every 200 grants expires=10 (sipp
#     checks it). Kamailio sees exactly: N initial REGISTERs + one out-leg
#     refresh per binding per 47.2 s of its life + N deregistrations, each
#     refresh 47.2 s after the previous one, all from sipfront's core address
#     with the out-leg Call-ID; the phones sent many times more. sipfront's
#     SIGUSR1 counters agree (absorbed, forwarded, upstream_refreshes,
#     fail_count_deregs, forwarded_upstream)
# (3) a phone that stops refreshing is deregistered upstream (Expires: 0)
#     failCount x in-expires = 30 s after its last refresh: the stoppers'
#     bindings vanish from Kamailio while the others stay, then the long ones'
# (4) a REGISTER asking Expires: 2 (below expiresMin 5) gets 423 with
#     Min-Expires: 5 at the phone and never reaches Kamailio
# (5) digest auth: an "auth*" user gets the registrar's 401 (relayed by
#     sipfront) and registers with its Authorization relayed upstream, then
#     refreshes every RL_INTERVAL s, RL_AUTH_REFRESHES times (answered
#     locally). sipfront's own REGISTERs for it are challenged too and
#     answered with the config's credentials (realm sipfront.lab, aor
#     sip:authuser1@198.18.1.1): each out-leg refresh is a 401 then a
#     REGISTER with sipfront's Authorization, the binding stays at Kamailio
#     well past outExpires, and the fail-count deregistration is answered the
#     same way and removes it; the auth_* counters agree
#
#   sudo tests/integration/ratelimit.sh
#   meson test -C build --suite integration ratelimit
#
# Env: SIPFRONT_BIN (default build/dataplane/sipfront), SIPFRONT_PROFILE
# (nic-profiles/af_packet.json), SF_WORKERS (2), RL_USERS (200), RL_STOPPERS
# (20), RL_REFRESHES (18), RL_STOP_REFRESHES (2), RL_INTERVAL (5 s),
# RL_AUTH_REFRESHES (20), RL_SKIP_AUTH=1 skips (5), RL_KEEP=1 keeps the run dir. Needs root,
# kamailio, sipp (sip-tester), python3, iproute2.
# Prints "ok"/"FAIL" per check and "N passed, M failed"; exit 0 iff all passed.

set -euo pipefail

ROOT="${SIPFRONT_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
HERE="${ROOT}/tests/integration"

N=${RL_USERS:-200}
NS=${RL_STOPPERS:-20}
NL=$((N - NS))
R_L=${RL_REFRESHES:-18}
R_S=${RL_STOP_REFRESHES:-2}
P=${RL_INTERVAL:-5}
R_A=${RL_AUTH_REFRESHES:-20}
PORT_L=5070 # sipp of the long-lived phones (SF_UA_SIP_PORT)
PORT_S=5072 # sipp of the stoppers
PORT_X=5074 # one-off sipp runs (423, auth)

# shellcheck source=SCRIPTDIR/lib_checks.sh
. "${HERE}/lib_checks.sh"
# shellcheck source=SCRIPTDIR/lib_registrars.sh
. "${HERE}/lib_registrars.sh"
now() { date +%s.%N; }

sfd_it_begin ratelimit RL_KEEP ratelimit --kamailio --limits
export KAM_CFG="${LABD}/kamailio-registrar-p2p.cfg"

# ---------------------------------------------------------------- preflight
sfd_preflight
[[ -r ${KAM_CFG} ]] || fatal "Kamailio cfg missing: ${KAM_CFG}"
need_tools ip kamailio kamcmd sipp python3 timeout
need_numbers "${WORKERS}" "${N}" "${NS}" "${R_L}" "${R_S}" "${P}" "${R_A}"
((WORKERS >= 1 && NS >= 1 && NL >= 1 && N <= 999 && R_L >= 1 && P >= 1)) ||
    fatal "need RL_STOPPERS >= 1, RL_USERS > RL_STOPPERS, RL_USERS <= 999, RL_REFRESHES >= 1"
sfd_no_lab_up

# The timing the config implies, and the expected out-leg traffic per binding.
# plan: IN_EXP MIN_EXP OUT_EXP FAIL REFRESH_AFTER LIFE_L LIFE_S REF_L REF_S MARGIN LEAD REF_A
plan=$(python3 - "${SIPFRONT_CONFIG}" "${R_L}" "${R_S}" "${P}" "${R_A}" <<'EOF'
import json, sys, math
cfg = json.load(open(sys.argv[1]))
r_l, r_s, p, r_a = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
lr, rl, t = cfg["localRegistrar"], cfg["rateLimit"], cfg["sip"]["timers"]
assert cfg["passthrough"]["mode"] == "PEER_TO_PEER" and rl["enabled"]
in_exp, min_exp = lr["expiresMax"], lr["expiresMin"]
out, fail = rl["outExpires"], rl["failCount"]
timer_f = t.get("timerFMs", 64 * t["t1Ms"]) / 1000.0
# regengine out_refresh_at(): a tenth of the lifetime early, at least a Timer F, at most half.
lead = min(max(out / 10.0, timer_f), out / 2.0)
after = out - lead
# A phone's binding lives from its first 200 to its last refresh + failCount in-leg periods.
life_l, life_s = r_l * p + fail * in_exp, r_s * p + fail * in_exp
ref_l, ref_s = math.floor(life_l / after), math.floor(life_s / after)
# (5): the challenged phone's binding. Its sipp run must outlast outExpires (plus
# Kamailio's 10 s usrloc timer), so that only accepted out-leg refreshes keep it,
# and end in the same out-leg refresh period as its deregistration.
life_a = r_a * p + fail * in_exp
ref_a = math.floor(life_a / after)
if r_a * p < out + 15 or math.floor(r_a * p / after) != ref_a:
    ref_a = -1
margin = min(min(abs(life - k * after) for k in range(0, 12)) for life in (life_l, life_s, life_a))
print(in_exp, min_exp, out, fail, after, life_l, life_s, ref_l, ref_s, margin, lead, ref_a)
EOF
) || fatal "cannot read the timing plan from ${SIPFRONT_CONFIG}"
read -r IN_EXP MIN_EXP OUT_EXP FAIL REFRESH_AFTER LIFE_L LIFE_S REF_L REF_S MARGIN LEAD REF_A <<<"${plan}"
((REF_A >= 1)) ||
    fatal "timing plan: RL_AUTH_REFRESHES x RL_INTERVAL must outlast outExpires + 15 s and end in the out-leg refresh period of the deregistration"
log "plan: in-expires ${IN_EXP} s (min ${MIN_EXP}), out-expires ${OUT_EXP} s refreshed every ${REFRESH_AFTER} s," \
    "failCount ${FAIL}; long phones ${NL} x ${R_L} refreshes/${P} s (binding life ${LIFE_L} s, ${REF_L} out-leg refreshes)," \
    "stoppers ${NS} x ${R_S} (life ${LIFE_S} s, ${REF_S})"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 3 else 1)' "${MARGIN}" ||
    fatal "timing plan: a deregistration falls within ${MARGIN} s of an out-leg refresh; change RL_REFRESHES/RL_INTERVAL"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) + 1 <= float(sys.argv[2]) else 1)' "${IN_EXP}" "${LEAD}" ||
    fatal "timing plan: in-expires ${IN_EXP} s is not below the out-leg refresh lead ${LEAD} s - 1 s; phone refreshes would go upstream"
((P < IN_EXP)) || fatal "RL_INTERVAL (${P}) must be below the granted in-expires (${IN_EXP})"
log "run dir ${SF_LAB_RUN}; sipfront ${SIPFRONT_BIN}; ${WORKERS} workers; ${N} phones"

KLOG="${SF_LAB_RUN}/kamailio/kamailio.log"
P2P="${SF_LAB_RUN}/p2p.txt" # the SF-P2P lines, one per REGISTER that reached Kamailio

# p2p_lines: refresh ${P2P} from the Kamailio log.
p2p_lines() { grep -o 'SF-P2P .*' "${KLOG}" >"${P2P}" || true; }

# ---------------------------------------------------------------- setup
sfd_lab_up
ok "lab up (dpdk): phones ${SF_IP_UA} -> sipfront ${SF_IP_FE_ACC} | ${SF_IP_FE_CORE} -> registrar ${SF_IP_CORE}"

kam start || fatal "kamailio.sh start (${KAM_CFG##*/})"
ok "Kamailio (${KAM_CFG##*/}) answering on ${SF_IP_CORE}:${SF_SIP_PORT}"

sfd_it_start "(${WORKERS} workers, PEER_TO_PEER) and OPTIONS answered on ${FE}" \
    "(PEER_TO_PEER, rate limiting) answers OPTIONS on ${FE}"

# ---------------------------------------------------------------- (1) N registrations
"${LABD}/users.sh" "${NL}" 1 >"${SF_LAB_RUN}/long.csv"
"${LABD}/users.sh" "${NS}" "$((NL + 1))" >"${SF_LAB_RUN}/stop.csv"
"${LABD}/sipp.sh" -d "${FE}" -p "${PORT_L}" -u "${SF_LAB_RUN}/long.csv" -o long \
    -r 100 -l "${NL}" -e 3600 -T "$((R_L * P + 40))" register_refresh.xml -- \
    -key refreshes "${R_L}" -key interval_ms "$((P * 1000))" -key granted "${IN_EXP}" \
    >"${SF_LAB_RUN}/sipp-long.txt" 2>&1 &
pid_long=$!
bg_pids+=("${pid_long}")
"${LABD}/sipp.sh" -d "${FE}" -p "${PORT_S}" -u "${SF_LAB_RUN}/stop.csv" -o stoppers \
    -r 100 -l "${NS}" -e 3600 -T "$((R_S * P + 40))" register_refresh.xml -- \
    -key refreshes "${R_S}" -key interval_ms "$((P * 1000))" -key granted "${IN_EXP}" \
    >"${SF_LAB_RUN}/sipp-stop.txt" 2>&1 &
pid_stop=$!
bg_pids+=("${pid_stop}")
log "sipp: ${NL} long phones (port ${PORT_L}, ${R_L} refreshes) and ${NS} stoppers (port ${PORT_S}, ${R_S} refreshes) started"

check "(1) Kamailio holds ${N} bindings within 15 s" wait_count "${N}" 15

# contacts_ok WANT FIRST LAST: exactly WANT bindings, AoRs user(FIRST..LAST),
# each with sipfront's Contact sip:<Call-ID>@core:5060 where the Call-ID is
# sipfront's out-leg one (sf...), none with the phone's address.
contacts_ok() {
    local want=$1 lo=$2 hi=$3 contacts badrows lines
    contacts=$(kam contacts) || { log "  kamailio.sh contacts failed"; return 1; }
    printf '%s\n' "${contacts}" >"${SF_LAB_RUN}/contacts.$1.txt"
    lines=$(grep -c . <<<"${contacts}" || true)
    [[ ${lines} == "${want}" ]] || { log "  ul.dump lists ${lines} contacts, want ${want}"; return 1; }
    badrows=$(awk -v fe="${SF_IP_FE_CORE}" -v port="${SF_SIP_PORT}" -v lo="${lo}" -v hi="${hi}" -v oe="${OUT_EXP}" '
        {
            n = $1; sub(/^user/, "", n)
            if ($1 !~ /^user[0-9]+$/ || n + 0 < lo || n + 0 > hi || seen[$1]++ ||
                $4 !~ /^sf/ || $2 != "sip:" $4 "@" fe ":" port || $3 + 0 > oe || $3 + 0 < 1)
                print
        }' <<<"${contacts}")
    [[ -z ${badrows} ]] || { log "  unexpected bindings: $(head -n 3 <<<"${badrows}" | tr '\n' ' ')"; return 1; }
    if grep -q "${SF_IP_UA}" <<<"${contacts}"; then
        log "  a phone address (${SF_IP_UA}) is in usrloc"
        return 1
    fi
    return 0
}
check "(1) exactly ${N} bindings user000001..$(printf 'user%06d' "${N}"), each Contact <sip:sf...@${SF_IP_FE_CORE}:${SF_SIP_PORT}> (out-leg Call-ID as user, expires <= ${OUT_EXP}), none with the phone's ${SF_IP_UA}" \
    contacts_ok "${N}" 1 "${N}"

initial_ok() {
    # The first REGISTER of each AoR at Kamailio: from sipfront's core
    # address, the out-leg Call-ID, Expires: outExpires (the phones asked 3600).
    p2p_lines
    python3 - "${P2P}" "${N}" "${SF_IP_FE_CORE}" "${OUT_EXP}" <<'EOF'
import sys, re
path, n, fe, oe = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
first = {}
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    if f.get("to", "").startswith("user") and f["to"] not in first:
        first[f["to"]] = f
bad = [f for f in first.values() if not f["src"].startswith(fe + ":") or not f["callid"].startswith("sf")
       or f["exp"] != oe]
if len(first) != n or bad:
    print("  %d AoRs reached Kamailio (want %d); %d first REGISTERs not as expected, e.g. %s"
          % (len(first), n, len(bad), bad[:1]))
    sys.exit(1)
EOF
}
check "(1) each first REGISTER at Kamailio came from ${SF_IP_FE_CORE} with an sf... Call-ID and Expires: ${OUT_EXP} (phones asked 3600)" \
    initial_ok

# ---------------------------------------------------------------- (4) 423
"${LABD}/users.sh" 1 900 >"${SF_LAB_RUN}/brief.csv"
if "${LABD}/sipp.sh" -d "${FE}" -p "${PORT_X}" -u "${SF_LAB_RUN}/brief.csv" -o brief -e 2 -T 15 \
    register_423.xml -- -key min_expires "${MIN_EXP}" >"${SF_LAB_RUN}/sipp-brief.txt" 2>&1; then
    ok "(4) sipp: REGISTER with Expires: 2 got 423 with Min-Expires: ${MIN_EXP}"
else
    bad "(4) sipp: REGISTER with Expires: 2 did not get 423 + Min-Expires: ${MIN_EXP} ($(tail -n 3 "${SF_LAB_RUN}/sipp-brief.txt" | tr '\n' ' '))"
fi
sleep 0.5
n_brief=$(grep -c 'SF-P2P .* to=user000900 ' "${KLOG}" || true)
check "(4) the too-brief REGISTER never reached Kamailio (${n_brief} REGISTERs of user000900 there)" test "${n_brief}" == 0

# ---------------------------------------------------------------- (3) stoppers
rc=0
wait "${pid_stop}" || rc=$?
t_stop_end=$(now)
check "(2) sipp stoppers: ${NS} phones, 1 + ${R_S} REGISTERs each, every 200 with expires=${IN_EXP} ($(tr '\n' ' ' <"${SF_LAB_RUN}/sipp-stop.txt" | cut -c1-160))" \
    test "${rc}" == 0
# Their last refresh was just before sipp ended; failCount in-leg periods later
# sipfront deregisters them upstream.
check "(3) the ${NS} stoppers' bindings leave Kamailio (${NL} left) within failCount x in-expires = $((FAIL * IN_EXP)) s + 8 s of their last refresh" \
    wait_count "${NL}" "$((FAIL * IN_EXP + 8))"
check "(3) the remaining ${NL} bindings are exactly the long-lived phones user000001..$(printf 'user%06d' "${NL}")" \
    contacts_ok "${NL}" 1 "${NL}"

stopper_dereg_ok() {
    p2p_lines
    python3 - "${P2P}" "${NL}" "${N}" "${t_stop_end}" "${FAIL}" "${IN_EXP}" "${SF_IP_FE_CORE}" <<'EOF'
import sys
path, lo, hi, t_end, fail, in_exp, fe = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
regs = {}
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    regs.setdefault(f["to"], []).append(f)
errs, delays = [], []
for i in range(lo + 1, hi + 1):
    u = "user%06d" % i
    r = regs.get(u, [])
    zeros = [f for f in r if f["exp"] == "0"]
    if len(zeros) != 1:
        errs.append("%s: %d Expires: 0 REGISTERs" % (u, len(zeros)))
        continue
    z = zeros[0]
    if z["callid"] != r[0]["callid"] or not z["src"].startswith(fe + ":"):
        errs.append("%s: deregistration with Call-ID %s from %s (binding's %s)" % (u, z["callid"], z["src"], r[0]["callid"]))
    delays.append(float(z["t"]) - t_end)
# The last refresh of every stopper is within ~1 s before sipp ended: the
# deregistration must come after (failCount - 1) periods, by failCount + 2 s.
lo_ok, hi_ok = (fail - 1) * in_exp + 1, fail * in_exp + 2
if delays and not all(lo_ok <= d <= hi_ok for d in delays):
    errs.append("deregistration %.1f..%.1f s after the last refresh, want %d..%d" % (min(delays), max(delays), lo_ok, hi_ok))
print("  %d Expires: 0 REGISTERs, %.1f..%.1f s after the stoppers' last refresh"
      % (len(delays), min(delays or [0]), max(delays or [0])))
for e in errs[:5]:
    print("  " + e)
sys.exit(1 if errs else 0)
EOF
}
check "(3) each stopper: exactly one Expires: 0 REGISTER upstream, with its out-leg Call-ID, ~failCount x in-expires after its last refresh" \
    stopper_dereg_ok

# ---------------------------------------------------------------- (2) refresh phase
rc=0
wait "${pid_long}" || rc=$?
check "(2) sipp long phones: ${NL} phones, 1 + ${R_L} REGISTERs each, every 200 with expires=${IN_EXP} ($(tr '\n' ' ' <"${SF_LAB_RUN}/sipp-long.txt" | cut -c1-160))" \
    test "${rc}" == 0
check "(3) all long phones deregistered upstream within $((FAIL * IN_EXP + 8)) s of their last refresh (Kamailio holds 0)" \
    wait_count 0 "$((FAIL * IN_EXP + 8))"
sleep 0.5

phone_regs=$((NL * (1 + R_L) + NS * (1 + R_S)))
want_regs=$((NL * (2 + REF_L) + NS * (2 + REF_S)))
count_ok() {
    p2p_lines
    python3 - "${P2P}" "${NL}" "${N}" "${REF_L}" "${REF_S}" "${REFRESH_AFTER}" "${SF_IP_FE_CORE}" "${OUT_EXP}" "${phone_regs}" <<'EOF'
import sys
path, nl, n, ref_l, ref_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
after, fe, oe, phone_regs = float(sys.argv[6]), sys.argv[7], sys.argv[8], int(sys.argv[9])
regs = {}
total = 0
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    if not f.get("to", "").startswith("user"):
        continue
    total += 1
    regs.setdefault(f["to"], []).append(f)
errs, gaps = [], []
n_init = n_ref = n_zero = 0
for i in range(1, n + 1):
    u = "user%06d" % i
    r = regs.get(u, [])
    want_ref = ref_l if i <= nl else ref_s
    if len(r) != 2 + want_ref:
        errs.append("%s: %d REGISTERs at Kamailio, want %d" % (u, len(r), 2 + want_ref))
    if not r:
        continue
    cids = set(f["callid"] for f in r)
    if len(cids) != 1 or not r[0]["callid"].startswith("sf"):
        errs.append("%s: Call-IDs %s" % (u, sorted(cids)))
    if any(not f["src"].startswith(fe + ":") for f in r):
        errs.append("%s: a REGISTER not from %s" % (u, fe))
    exps = [f["exp"] for f in r]
    if exps[:-1] != [oe] * (len(r) - 1) or exps[-1] != "0":
        errs.append("%s: Expires sequence %s, want %s... then 0" % (u, exps, oe))
    n_init += 1
    n_zero += exps.count("0")
    n_ref += max(0, len(r) - 2)
    cseqs = [int(f["cseq"]) for f in r]
    if cseqs != sorted(set(cseqs)):
        errs.append("%s: out-leg CSeqs %s not increasing" % (u, cseqs))
    for a, b in zip(r[1:-1], r[:-2]):  # each out-leg refresh against the REGISTER before it
        gaps.append(float(a["t"]) - float(b["t"]))
bad_gaps = [g for g in gaps if not (after - 1.0 <= g <= after + 1.5)]
if bad_gaps:
    errs.append("%d of %d refresh intervals outside %.1f..%.1f s (e.g. %.2f)" % (len(bad_gaps), len(gaps), after - 1, after + 1.5, bad_gaps[0]))
print("  Kamailio got %d REGISTERs: %d initial + %d out-leg refreshes + %d Expires: 0 (phones sent %d, %.1fx as many);"
      " refresh interval %.2f..%.2f s (want %.1f)" % (total, n_init, n_ref, n_zero, phone_regs,
      phone_regs / max(total, 1), min(gaps or [0]), max(gaps or [0]), after))
for e in errs[:6]:
    print("  " + e)
sys.exit(1 if errs else 0)
EOF
}
check "(2) Kamailio saw exactly ${want_regs} REGISTERs = ${N} initial + $((NL * REF_L + NS * REF_S)) out-leg refreshes (${REF_L}/${REF_S} per long/stopper binding, one per ${REFRESH_AFTER} s) + ${N} deregistrations; the phones sent ${phone_regs}" \
    count_ok
check "(2) Kamailio got far fewer REGISTERs (${want_regs}) than the phones sent (${phone_regs}): under a third" \
    test "$((want_regs * 3))" -lt "${phone_regs}"

# ---------------------------------------------------------------- (2) counters
total() { counter_total "${TABLE}" "$1"; }
if sfd_it_counters "${SF_LAB_RUN}/counters.txt" "(2)"; then
    sed -n '/engine/,$p' "${TABLE}" | sed 's/^/    /' | head -n 40
    reg_in=$(total eng.register_in)
    absorbed=$(total eng.register_absorbed)
    forwarded=$(total eng.register_forwarded)
    r423=$(total eng.register_rejected_423)
    rrej=$(total eng.register_rejected)
    uref=$(total eng.upstream_refreshes)
    fcd=$(total eng.fail_count_deregs)
    fwd_up=$(total eng.forwarded_upstream)
    rtx=$(($(total eng.retrans_absorbed) + $(total eng.retrans_answered)))
    te=$(total eng.timer_e_retrans)
    want_abs=$((NL * R_L + NS * R_S))
    check "(2) eng.register_absorbed = ${absorbed} (want ${want_abs}: every phone refresh answered locally)" \
        test "${absorbed}" == "${want_abs}"
    check "(2) eng.register_forwarded = ${forwarded} (want ${N}: only the first REGISTER of each phone)" \
        test "${forwarded}" == "${N}"
    check "(2) eng.upstream_refreshes = ${uref} (want $((NL * REF_L + NS * REF_S)))" \
        test "${uref}" == "$((NL * REF_L + NS * REF_S))"
    check "(3) eng.fail_count_deregs = ${fcd} (want ${N})" test "${fcd}" == "${N}"
    check "(4) eng.register_rejected_423 = ${r423} (want 1), other local rejections = ${rrej} (want 0)" \
        test "${r423}:${rrej}" == "1:0"
    check "(2) eng.forwarded_upstream = ${fwd_up} = REGISTERs Kamailio saw (${want_regs}); Timer E retransmissions ${te}" \
        test "${fwd_up}" == "${want_regs}"
    check "(2) eng.register_in = ${reg_in} = phone REGISTERs ${phone_regs} + 1 (423) + ${rtx} retransmissions" \
        test "${reg_in}" == "$((phone_regs + 1 + rtx))"
    per_worker_ok() {
        local row v i
        row=$(sfd_counter_row "${TABLE}" eng.register_absorbed)
        read -r -a v <<<"${row}"
        for ((i = 0; i < WORKERS; i++)); do
            ((${v[i]:-0} > 0)) || { log "  eng.register_absorbed per worker: ${row}"; return 1; }
        done
    }
    check "(2) every one of the ${WORKERS} workers absorbed refreshes ($(sfd_counter_row "${TABLE}" eng.register_absorbed))" per_worker_ok
    stray=$(total eng.stray_responses)
    check "(2) eng.stray_responses = ${stray} (want 0)" test "${stray}" == 0
fi

# ---------------------------------------------------------------- (5) digest auth
if [[ ${RL_SKIP_AUTH:-0} != 1 ]]; then
    printf 'SEQUENTIAL\nauthuser1;pw-authuser1;[authentication username=authuser1 password=pw-authuser1]\n' \
        >"${SF_LAB_RUN}/auth.csv"
    "${LABD}/sipp.sh" -d "${FE}" -p "${PORT_X}" -u "${SF_LAB_RUN}/auth.csv" -o auth -e 3600 \
        -T "$((R_A * P + 20))" register_auth_refresh.xml -- -key refreshes "${R_A}" -key interval_ms "$((P * 1000))" \
        >"${SF_LAB_RUN}/sipp-auth.txt" 2>&1 &
    pid_auth=$!
    bg_pids+=("${pid_auth}")
    check "(5) Kamailio holds authuser1's binding within 10 s" wait_count 1 10
    sleep 0.3
    auth_wire_ok() {
        p2p_lines
        local lines
        lines=$(grep ' to=authuser1 ' "${P2P}" || true)
        printf '%s\n' "${lines}" >"${SF_LAB_RUN}/auth-regs.txt"
        # Two REGISTERs: without credentials (challenged), then with the
        # phone's Authorization relayed; one out-leg Call-ID.
        [[ $(grep -c . <<<"${lines}") == 2 ]] || { log "  authuser1 REGISTERs at Kamailio: $(grep -c . <<<"${lines}")"; return 1; }
        [[ $(sed -n 1p <<<"${lines}") == *" auth=0"* && $(sed -n 2p <<<"${lines}") == *" auth=1"* ]] ||
            { log "  auth flags: ${lines}"; return 1; }
        [[ $(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^callid=sf/) print $i}' <<<"${lines}" | sort -u | grep -c .) == 1 ]] ||
            { log "  Call-IDs: ${lines}"; return 1; }
        [[ $(grep -c 'SF-CHALLENGE to=sip:authuser1@' "${KLOG}") == 1 ]] || { log "  challenges: $(grep -c 'SF-CHALLENGE to=sip:authuser1@' "${KLOG}")"; return 1; }
        [[ $(kam count) == 1 ]] || { log "  usrloc contacts $(kam count), want 1"; return 1; }
        kam contacts | grep -q "^authuser1 sip:sf[^@]*@${SF_IP_FE_CORE}:${SF_SIP_PORT} " ||
            { log "  binding: $(kam contacts)"; return 1; }
    }
    check "(5) Kamailio: 2 REGISTERs of authuser1 on one out-leg Call-ID (the first challenged, the second with the phone's Authorization), binding with sipfront's Contact" \
        auth_wire_ok

    # auth_pairs_ok WANT_PAIRS WANT_ZERO: authuser1's REGISTERs at Kamailio come in
    # pairs, each a challenged one (auth=0) and its answer (auth=1, CSeq + 1):
    # the phone's registration, then WANT_PAIRS out-leg refreshes by sipfront
    # (Expires: outExpires, one per REFRESH_AFTER s), then with WANT_ZERO=1 the
    # deregistration (Expires: 0). One out-leg Call-ID, all from sipfront.
    auth_pairs_ok() {
        p2p_lines
        grep ' to=authuser1 ' "${P2P}" >"${SF_LAB_RUN}/auth-regs.txt" || true
        python3 - "${SF_LAB_RUN}/auth-regs.txt" "$1" "$2" "${REFRESH_AFTER}" "${SF_IP_FE_CORE}" "${OUT_EXP}" <<'EOF'
import sys
path, want_pairs, want_zero, after, fe, oe = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
r = [dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv) for line in open(path) if line.strip()]
errs = []
want = 2 * (1 + want_pairs + want_zero)
if len(r) != want:
    errs.append("%d REGISTERs of authuser1 at Kamailio, want %d" % (len(r), want))
pairs = [r[i:i + 2] for i in range(0, len(r) - 1, 2)]
for k, (a, b) in enumerate(pairs):
    if a["auth"] != "0" or b["auth"] != "1":
        errs.append("pair %d: auth flags %s/%s, want 0/1" % (k, a["auth"], b["auth"]))
    if int(b["cseq"]) != int(a["cseq"]) + 1:
        errs.append("pair %d: CSeq %s then %s" % (k, a["cseq"], b["cseq"]))
    if float(b["t"]) - float(a["t"]) > 1.0:
        errs.append("pair %d: answered %.2f s after the challenge" % (k, float(b["t"]) - float(a["t"])))
    zero = want_zero and k == len(pairs) - 1
    if a["exp"] != b["exp"] or a["exp"] != ("0" if zero else oe):
        errs.append("pair %d: Expires %s/%s" % (k, a["exp"], b["exp"]))
if len(set(f["callid"] for f in r)) != 1 or not r[0]["callid"].startswith("sf"):
    errs.append("Call-IDs %s" % sorted(set(f["callid"] for f in r)))
if any(not f["src"].startswith(fe + ":") for f in r):
    errs.append("a REGISTER not from %s" % fe)
gaps = [float(pairs[k][0]["t"]) - float(pairs[k - 1][1]["t"]) for k in range(1, 1 + want_pairs) if k < len(pairs)]
if any(not (after - 1.0 <= g <= after + 1.5) for g in gaps):
    errs.append("out-leg refresh intervals %s, want %.1f" % (["%.2f" % g for g in gaps], after))
print("  %d REGISTERs of authuser1: %d challenge/answer pairs; out-leg refresh intervals %s s"
      % (len(r), len(pairs), " ".join("%.2f" % g for g in gaps)))
for e in errs[:6]:
    print("  " + e)
sys.exit(1 if errs else 0)
EOF
    }

    # The phone keeps refreshing (answered locally) for R_A x P s, well past
    # outExpires: only accepted out-leg refreshes keep the binding at Kamailio.
    rc=0
    wait "${pid_auth}" || rc=$?
    check "(5) sipp: authuser1 registered with digest auth through sipfront and its ${R_A} refreshes (every ${P} s) got 200 ($(tr '\n' ' ' <"${SF_LAB_RUN}/sipp-auth.txt" | cut -c1-160))" \
        test "${rc}" == 0
    check "(5) sipfront answered Kamailio's challenge to each of its own out-leg refreshes of authuser1: ${REF_A} refreshes, each a 401 then a REGISTER with sipfront's Authorization, one per ${REFRESH_AFTER} s" \
        auth_pairs_ok "${REF_A}" 0
    auth_still_registered() {
        [[ $(kam count) == 1 ]] || { log "  usrloc contacts $(kam count), want 1"; return 1; }
        kam contacts | grep -q "^authuser1 sip:sf[^@]*@${SF_IP_FE_CORE}:${SF_SIP_PORT} " ||
            { log "  binding: $(kam contacts)"; return 1; }
    }
    check "(5) Kamailio still holds authuser1 $((R_A * P)) s after it registered (outExpires ${OUT_EXP} s: the answered refreshes were accepted)" \
        auth_still_registered

    # The phone stopped; failCount periods later sipfront deregisters, is
    # challenged, and answers.
    deadline=$((SECONDS + FAIL * IN_EXP + 8))
    while ((SECONDS <= deadline)) && ! grep -q 'SF-P2P .* to=authuser1 exp=0 .* auth=1' "${KLOG}"; do sleep 1; done
    sleep 0.5
    check "(5) sipfront's fail-count deregistration of authuser1 was challenged and answered: Kamailio saw it without, then with sipfront's Authorization" \
        auth_pairs_ok "${REF_A}" 1
    check "(5) Kamailio dropped authuser1's binding (the answered deregistration was accepted)" wait_count 0 5
    nch=$(grep -c 'SF-CHALLENGE to=sip:authuser1@' "${KLOG}" || true)
    check "(5) Kamailio challenged authuser1 $((REF_A + 2)) times (registration, ${REF_A} refreshes, deregistration): ${nch}" \
        test "${nch}" == "$((REF_A + 2))"
    TABLE5="${SF_LAB_RUN}/counters-auth.txt"
    if sfd_counters "${TABLE5}"; then
        TABLE="${TABLE5}"
        answered=$(total eng.auth_challenges_answered)
        auth_fail="$(total eng.auth_no_credentials):$(total eng.auth_unsupported):$(total eng.auth_refused)"
        check "(5) eng.auth_challenges_answered = ${answered} (want $((REF_A + 1)): ${REF_A} refreshes + the deregistration)" \
            test "${answered}" == "$((REF_A + 1))"
        check "(5) eng.auth_no_credentials:auth_unsupported:auth_refused = ${auth_fail} (want 0:0:0)" \
            test "${auth_fail}" == "0:0:0"
    else
        bad "(5) no counters table after SIGUSR1 (log ${SFD_LOG})"
    fi
fi

check "sipfront still alive" sfd_alive

# ---------------------------------------------------------------- shutdown
sfd_it_stop
