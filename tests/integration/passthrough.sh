#!/usr/bin/env bash
# End-to-end pass-through test of the sipfront daemon in the netns lab:
#
#   sf-ua (sipp, python sender) -> sipfront (DPDK net_af_packet in sf-fe) -> Kamailio (sf-core)
#
# (a) N users REGISTER with digest auth through sipfront; Kamailio holds
#     exactly N bindings, each with the phone's contact (198.18.1.2)
# (b) re-REGISTER of some users refreshes their bindings (count unchanged);
#     un-REGISTER (Expires: 0) of 50 leaves N-50
# (c) RFC 4475 torture messages (invalid + the semantic ones a front end must
#     reject): each request gets the expected status or none where no answer
#     is possible, responses get nothing, and none of them reaches Kamailio
# (d) a REGISTER retransmitted 5 times within 50 ms reaches Kamailio once; the
#     phone gets the 401, and the same 401 again for late retransmissions
# (e) Kamailio stopped: a new REGISTER gets 408 after Timer F (64*T1 = 6.4 s);
#     sipfront stays alive and still answers OPTIONS
# (f) SIGUSR1 counters: every worker handled traffic, stray responses == 0
#
#   sudo tests/integration/passthrough.sh
#   meson test -C build --suite integration passthrough
#
# Env: SIPFRONT_BIN (default build/dataplane/sipfront), SIPFRONT_PROFILE
# (nic-profiles/af_packet.json), SF_WORKERS (2), PT_USERS (500), PT_REREG
# (100), PT_UNREG (50), PT_RATE (100 REGISTER dialogs/s), PT_KEEP=1 keeps the
# run dir. Needs root, kamailio, sipp (sip-tester), python3, iproute2.
# Prints "ok"/"FAIL" per check and "N passed, M failed"; exit 0 iff all passed.

set -euo pipefail

ROOT="${SIPFRONT_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
HERE="${ROOT}/tests/integration"
PY="${HERE}/sipsend.py"
TORTURE="${ROOT}/tests/data/rfc4475"

N=${PT_USERS:-500}
REREG=${PT_REREG:-100}
UNREG=${PT_UNREG:-50}
RATE=${PT_RATE:-100}
TIMER_F_MS=6400 # configs/passthrough.json: sip.timers.timerFMs (64 * t1Ms 100)

# shellcheck source=SCRIPTDIR/lib_checks.sh
. "${HERE}/lib_checks.sh"
# shellcheck source=SCRIPTDIR/lib_registrars.sh
. "${HERE}/lib_registrars.sh"

sfd_it_begin passthrough PT_KEEP passthrough --kamailio --rmdir-empty

# ---------------------------------------------------------------- preflight
sfd_preflight
[[ -r ${TORTURE}/MANIFEST.tsv ]] || fatal "RFC 4475 messages missing: ${TORTURE}/MANIFEST.tsv"
need_tools ip kamailio kamcmd sipp python3 timeout
[[ ${WORKERS} =~ ^[1-9][0-9]*$ ]] || fatal "SF_WORKERS must be a positive integer"
((N > REREG && N > UNREG && REREG + UNREG <= N)) || fatal "need PT_REREG + PT_UNREG <= PT_USERS"
sfd_no_lab_up
log "run dir ${SF_LAB_RUN}; sipfront ${SIPFRONT_BIN}; ${WORKERS} workers; ${N} users"

ua() { ip netns exec "${SF_NS_UA}" "$@"; }
KLOG="${SF_LAB_RUN}/kamailio/kamailio.log"

# ---------------------------------------------------------------- setup
sfd_lab_up
ok "lab up (dpdk): phones ${SF_IP_UA} -> sipfront ${SF_IP_FE_ACC} | ${SF_IP_FE_CORE} -> registrar ${SF_IP_CORE}"

kam start || fatal "kamailio.sh start"
ok "Kamailio answering on ${SF_IP_CORE}:${SF_SIP_PORT}"

sfd_it_start "(${WORKERS} workers) and OPTIONS answered on ${FE}" \
    "answers OPTIONS on ${FE} itself"

kam_lines() { grep -c 'SF-REQ ' "${KLOG}" || true; }

# ---------------------------------------------------------------- (a) N registrations
"${LABD}/users.sh" "${N}" >"${SF_LAB_RUN}/users.csv"
if timeout 180 "${LABD}/sipp.sh" -d "${FE}" -u "${SF_LAB_RUN}/users.csv" -o register \
    -r "${RATE}" -l 50 -T 120 register_auth.xml; then
    ok "(a) sipp: ${N} users REGISTER with digest auth through sipfront (401, then 200)"
else
    bad "(a) sipp REGISTER through sipfront (see ${SF_LAB_RUN}/sipp/register.*)"
fi

# bindings_ok WANT MAXUSER: exactly WANT bindings, AoR userNNNNNN ->
# sip:userNNNNNN@198.18.1.2:5070, users numbered below MAXUSER, no duplicates.
bindings_ok() {
    local want=$1 lim=$2 count contacts lines badrows
    count=$(kam count) || { log "  kamailio.sh count failed"; return 1; }
    [[ ${count} == "${want}" ]] || { log "  usrloc contacts = ${count}, want ${want}"; return 1; }
    contacts=$(kam contacts) || { log "  kamailio.sh contacts failed"; return 1; }
    printf '%s\n' "${contacts}" >"${SF_LAB_RUN}/contacts.$1.txt"
    lines=$(grep -c . <<<"${contacts}" || true)
    [[ ${lines} == "${want}" ]] || { log "  ul.dump lists ${lines} contacts, want ${want}"; return 1; }
    badrows=$(awk -v ip="${SF_IP_UA}" -v port="${SF_UA_SIP_PORT}" -v lim="${lim}" '
        {
            n = $1; sub(/^user/, "", n)
            if ($1 !~ /^user[0-9]+$/ || length($1) != 10 || $2 != "sip:" $1 "@" ip ":" port || n + 0 >= lim || seen[$1]++)
                print
        }' <<<"${contacts}")
    [[ -z ${badrows} ]] || { log "  unexpected bindings: $(head -n 3 <<<"${badrows}" | tr '\n' ' ')"; return 1; }
}
check "(a) Kamailio holds exactly ${N} bindings, each sip:userNNNNNN@${SF_IP_UA}:${SF_UA_SIP_PORT} (the phone)" \
    bindings_ok "${N}" "$((N + 1))"

via_front() {
    # Every REGISTER reached Kamailio from sipfront's core address, carrying
    # sipfront's Via (branch z9hG4bKsf...) on top of the phone's.
    local from_other sample
    from_other=$(grep 'SF-REQ REGISTER ' "${KLOG}" | grep -vc "src=${SF_IP_FE_CORE}:" || true)
    [[ ${from_other} == 0 ]] || { log "  ${from_other} REGISTERs reached Kamailio from elsewhere"; return 1; }
    sample=$(grep -m1 'SF-REQ REGISTER ' "${KLOG}" | sed 's/.* vias=//')
    grep -qE "^SIP/2\.0/UDP ${SF_IP_FE_CORE//./\\.}(:[0-9]+)?;branch=z9hG4bKsf" <<<"${sample}" ||
        { log "  top Via at Kamailio: ${sample}"; return 1; }
    [[ ${sample} == *"${SF_IP_UA}:${SF_UA_SIP_PORT}"* ]] ||
        { log "  the phone's Via is missing at Kamailio: ${sample}"; return 1; }
}
check "(a) REGISTERs reach Kamailio from ${SF_IP_FE_CORE} with sipfront's Via (z9hG4bKsf…) above the phone's" via_front

# ---------------------------------------------------------------- (b) refresh + un-register
cp "${SF_LAB_RUN}/contacts.${N}.txt" "${SF_LAB_RUN}/contacts.before-refresh.txt" 2>/dev/null || true
"${LABD}/users.sh" "${REREG}" 1 >"${SF_LAB_RUN}/rereg.csv"
if timeout 120 "${LABD}/sipp.sh" -d "${FE}" -u "${SF_LAB_RUN}/rereg.csv" -o reregister \
    -r "${RATE}" -l 50 -e 1800 -T 60 register_auth.xml; then
    ok "(b) sipp: users 1..${REREG} re-REGISTER (Expires: 1800) through sipfront"
else
    bad "(b) sipp re-REGISTER through sipfront (see ${SF_LAB_RUN}/sipp/reregister.*)"
fi

refreshed_ok() {
    bindings_ok "${N}" "$((N + 1))" || return 1
    # Re-registered users: new Call-ID and expiry <= 1800; the others keep
    # their Call-ID and an expiry above 1800.
    local badrows
    badrows=$(awk -v k="${REREG}" '
        NR == FNR { cid[$1] = $4; next }
        {
            n = $1; sub(/^user/, "", n); n += 0
            if (n <= k && ($3 > 1800 || $4 == cid[$1])) print "not refreshed:", $0
            if (n > k && ($3 <= 1800 || $4 != cid[$1])) print "changed:", $0
        }' "${SF_LAB_RUN}/contacts.before-refresh.txt" "${SF_LAB_RUN}/contacts.${N}.txt")
    [[ -z ${badrows} ]] || { log "  $(head -n 3 <<<"${badrows}" | tr '\n' ' ')"; return 1; }
}
check "(b) still ${N} bindings; users 1..${REREG} refreshed (new Call-ID, expires <= 1800), the rest untouched" \
    refreshed_ok

first=$((N - UNREG + 1))
"${LABD}/users.sh" "${UNREG}" "${first}" >"${SF_LAB_RUN}/unreg.csv"
if timeout 120 "${LABD}/sipp.sh" -d "${FE}" -u "${SF_LAB_RUN}/unreg.csv" -o unregister \
    -r "${RATE}" -l 50 -T 60 unregister.xml; then
    ok "(b) sipp: users ${first}..${N} un-REGISTER (Expires: 0) through sipfront"
else
    bad "(b) sipp un-REGISTER through sipfront (see ${SF_LAB_RUN}/sipp/unregister.*)"
fi
check "(b) Kamailio holds exactly $((N - UNREG)) bindings; users ${first}..${N} are gone" \
    bindings_ok "$((N - UNREG))" "${first}"

# ---------------------------------------------------------------- (c) RFC 4475
# Expected answer per message: a status code; "400|-" where sipparse cannot
# build a response (no usable Via/From/To/Call-ID/CSeq: nothing or a 400 is
# fine); "-" for responses (dropped). Semantic messages sent: those a front
# end must reject.
declare -A expect=(
    [badvers]=505 [unkscm]=416 [novelsc]=416 [bext01]=420 [zeromf]=483
    [badinv01]="400|-" [scalar02]="400|-" [quotbal]="400|-" [badaspec]="400|-"
    [baddn]="400|-" [insuf]="400|-"
)
semantic_reject=" insuf unkscm novelsc bext01 multi01 mcl01 zeromf "
declare -a torture=()
while IFS=$'\t' read -r file _sec class _what; do
    [[ ${file} == \#* || -z ${file} ]] && continue
    if [[ ${class} == invalid || (${class} == semantic && ${semantic_reject} == *" ${file} "*) ]]; then
        torture+=("${file}")
        if [[ -z ${expect[${file}]:-} ]]; then
            if head -c 8 "${TORTURE}/${file}.dat" | grep -q '^SIP/'; then
                expect[${file}]="-"
            else
                expect[${file}]=400
            fi
        fi
    fi
done <"${TORTURE}/MANIFEST.tsv"
((${#torture[@]} >= 26)) || bad "(c) expected >= 26 torture messages in MANIFEST.tsv, found ${#torture[@]}"

kam_before=$(kam_lines)
files=()
for f in "${torture[@]}"; do files+=("${TORTURE}/${f}.dat"); done
if ! timeout 120 ip netns exec "${SF_NS_UA}" python3 "${PY}" files --dst "${FE}" --bind "${SF_IP_UA}" \
    --window 0.4 "${files[@]}" >"${SF_LAB_RUN}/torture.jsonl"; then
    bad "(c) python sender failed"
fi
sleep 1 # anything forwarded would have reached Kamailio by now
n_req=0
while IFS=$'\t' read -r file cid codes cids; do
    want=${expect[${file}]}
    head -c 8 "${TORTURE}/${file}.dat" | grep -q '^SIP/' || n_req=$((n_req + 1))
    got=${codes:--}
    what="(c) ${file}: want ${want//|/ or }, got ${got}"
    if [[ "|${want}|" != *"|${got}|"* ]]; then
        bad "${what}"
    elif [[ ${got} != - && -n ${cid} && ${cids} != "${cid}" ]]; then
        bad "${what} but with Call-ID '${cids}' (sent '${cid}')"
    else
        ok "${what}"
    fi
done < <(python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print("\t".join([r["file"], r["callid"] or "", ",".join(str(c) for c in r["codes"]),
                     ",".join(c or "" for c in r["callids"])]))
' <"${SF_LAB_RUN}/torture.jsonl")
sent=$(grep -c . "${SF_LAB_RUN}/torture.jsonl" || true)
[[ ${sent} == "${#torture[@]}" ]] || bad "(c) sent ${sent} of ${#torture[@]} torture messages"

never_forwarded() {
    local f cid leaked="" new
    for f in "${torture[@]}"; do
        cid=$(grep -a -i -m1 -E '^(call-id|i)[ \t]*:' "${TORTURE}/${f}.dat" | sed -E 's/^[^:]*:[ \t]*//' | tr -d '\r')
        if [[ -n ${cid} ]] && grep -qF -- "${cid}" "${KLOG}"; then leaked+=" ${f}"; fi
    done
    # insuf has no Call-ID: look for its Via branch.
    if grep -qF 'z9hG4bKkdj.insuf' "${KLOG}"; then leaked+=" insuf"; fi
    [[ -z ${leaked} ]] || { log "  reached Kamailio:${leaked}"; return 1; }
    # Nothing else reached Kamailio during (c) either (sipfront's own OPTIONS
    # health probes from its core address would be fine).
    new=$(grep 'SF-REQ ' "${KLOG}" | tail -n "+$((kam_before + 1))" |
        grep -v "SF-REQ OPTIONS .*src=${SF_IP_FE_CORE}:" || true)
    [[ -z ${new} ]] || { log "  requests reached Kamailio during (c): $(head -n 2 <<<"${new}")"; return 1; }
}
check "(c) none of the ${#torture[@]} torture messages (nor anything else) reached Kamailio" never_forwarded
check "(c) sipfront still alive after the torture messages" sfd_alive

# ---------------------------------------------------------------- (d) retransmissions
RCID="retrans-$$-${RANDOM}@${SF_IP_UA}"
if timeout 20 ip netns exec "${SF_NS_UA}" python3 "${PY}" retrans --dst "${FE}" --bind "${SF_IP_UA}" \
    --port 5080 --count 5 --spread 0.05 --wait 1.5 --callid "${RCID}" >"${SF_LAB_RUN}/retrans.json"; then
    sleep 0.5
    # One upstream transaction: every copy Kamailio got carries the same
    # sipfront branch. More than one copy is only fine as sipfront's own Timer
    # E retransmission (T1 = 100 ms), which happens only if the 401 took that
    # long (an overloaded CPU); the phone's retransmissions are never forwarded.
    nreg=$(grep -c "SF-REQ REGISTER callid=${RCID} " "${KLOG}" || true)
    nbr=$(grep "SF-REQ REGISTER callid=${RCID} " "${KLOG}" | sed -E 's/.* vias=[^;]*;branch=([^;,]*).*/\1/' | sort -u | grep -c . || true)
    if ((nreg > 1)); then log "  Kamailio got ${nreg} copies of one upstream transaction (Timer E)"; fi
    check "(d) 5 copies of one REGISTER within 50 ms: Kamailio got it once (${nreg} copy/copies, ${nbr} upstream branch)" \
        test "${nbr}" == 1
    verdict=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
rs = [x for x in r["responses"] if x["callid"] == r["callid"]]
finals = [x for x in rs if x["code"] == 401]
if not finals:
    print("no 401 came back: %s" % [x["code"] for x in rs]); sys.exit(1)
others = [x["code"] for x in rs if x["code"] != 401 and x["code"] >= 200]
if others:
    print("unexpected finals %s" % others); sys.exit(1)
first = finals[0]["t"]
late = sum(1 for t in r["sends"] if t > first)  # surely after the final
if len(set(x["digest"] for x in finals)) != 1:
    print("the 401s differ (digests %s)" % [x["digest"] for x in finals]); sys.exit(1)
if not (1 + late <= len(finals) <= len(r["sends"])):
    print("%d x 401 for %d sends of which %d after the first 401 (want %d..%d)"
          % (len(finals), len(r["sends"]), late, 1 + late, len(r["sends"]))); sys.exit(1)
print("%d x 401, identical, for %d sends (%d sent after the first 401 at %.1f ms)"
      % (len(finals), len(r["sends"]), late, first * 1000))
' "${SF_LAB_RUN}/retrans.json" 2>&1) && rv=0 || rv=$?
    check "(d) the phone got the 401 back, and the same 401 for each late retransmission: ${verdict}" test "${rv}" == 0
else
    bad "(d) python retransmission sender failed"
fi

# ---------------------------------------------------------------- (e) Timer F
kam stop >/dev/null || bad "(e) kamailio.sh stop"
fmax=$(((TIMER_F_MS + 2000) / 1000 + 1))
if out=$(timeout "$((fmax + 10))" ip netns exec "${SF_NS_UA}" python3 "${PY}" register --dst "${FE}" \
    --bind "${SF_IP_UA}" --port 5082 --wait "$(((TIMER_F_MS + 2000) / 1000)).$(((TIMER_F_MS + 2000) % 1000 / 100))" \
    --user timeout); then
    code=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["code"])' "${out}")
    el=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["elapsed"])' "${out}")
    inwin=$(python3 -c 'import sys; e=float(sys.argv[1]); f=int(sys.argv[2])/1000; print(int(f - 0.3 <= e <= f + 2))' "${el}" "${TIMER_F_MS}")
    check "(e) registrar down: the phone got ${code} after ${el} s (want 408 after Timer F = $((TIMER_F_MS / 1000)).$((TIMER_F_MS % 1000 / 100)) s, within +2 s)" \
        test "${code}:${inwin}" == "408:1"
else
    bad "(e) no final response within Timer F + 2 s with the registrar down ($(tr -d '\n' <<<"${out:-}"))"
fi
check "(e) sipfront still alive (kill -0 ${SFD_PID:-?})" kill -0 "${SFD_PID:-0}"
check "(e) sipfront still answers OPTIONS" sfd_probe 2

# ---------------------------------------------------------------- (f) counters
if sfd_it_counters "${SF_LAB_RUN}/counters.txt" "(f)"; then
    sed 's/^/    /' "${TABLE}"
    counters_ok() {
        local row v nw=0 nz=0 i
        # Traffic per worker: the first WORKERS numbers of the REGISTER row.
        row=$(sfd_counter_row "${TABLE}" eng.register_in)
        [[ -n ${row} ]] || { log "  no eng.register_in row"; return 1; }
        read -r -a v <<<"${row}"
        for ((i = 0; i < WORKERS && i < ${#v[@]}; i++)); do
            nw=$((nw + 1))
            ((v[i] > 0)) && nz=$((nz + 1))
        done
        ((nw == WORKERS && nz == WORKERS)) || { log "  eng.register_in per worker: ${row}"; return 1; }
    }
    check "(f) each of the ${WORKERS} workers handled REGISTERs" counters_ok
    stray_ok() {
        # Detail rows are omitted when all zero: no row means 0 everywhere
        # (provided the engine section is there at all).
        local row
        [[ -n $(sfd_counter_row "${TABLE}" eng.register_in) ]] || { log "  no engine counters"; return 1; }
        row=$(sfd_counter_row "${TABLE}" eng.stray_responses)
        [[ -z ${row} || ${row} =~ ^[0\ ]+$ ]] || { log "  eng.stray_responses: ${row}"; return 1; }
    }
    check "(f) stray responses == 0 on every worker (each response found its transaction's owner)" stray_ok
    total() { counter_total "${TABLE}" "$1"; }
    mreq=$(total eng.malformed_requests)
    mresp=$(total eng.malformed_responses)
    check "(f) malformed_requests = ${mreq} (want ${n_req}), malformed_responses = ${mresp} (want $((sent - n_req)))" \
        test "${mreq}:${mresp}" == "${n_req}:$((sent - n_req))"
    tf=$(total eng.timer_f_timeouts)
    check "(f) timer_f_timeouts = ${tf} (want 1)" test "${tf}" == 1
    ra=$(($(total eng.retrans_absorbed) + $(total eng.retrans_answered)))
    check "(f) retransmissions absorbed + answered = ${ra} (want >= 4)" test "${ra}" -ge 4
fi

# ---------------------------------------------------------------- shutdown
before=$(stat -c %s "${SFD_LOG}")
sfd_it_stop
check "sipfront prints its counters at exit" \
    bash -c "tail -c +$((before + 1)) '${SFD_LOG}' | grep -q eng.register_in"
