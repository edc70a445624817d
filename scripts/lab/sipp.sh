#!/usr/bin/env bash
# Run one sipp scenario inside a lab namespace with the lab's flags.
#
#   sipp.sh [options] SCENARIO.xml [-- extra sipp args]
#     -s NS        netns to run in               (default sf-ua)
#     -i IP        local IP (Via/Contact/bind)   (default 198.18.1.2)
#     -p PORT      local UDP port                (default 5070)
#     -d IP[:PORT] destination                   (default 198.18.2.2:5060)
#     -u CSV       injection file (users.sh)     (-inf, SEQUENTIAL)
#     -m N         number of calls               (default: users in CSV, else 1)
#     -r RATE      new calls per second          (default 100)
#     -l LIMIT     max simultaneous calls        (default 50)
#     -e SECONDS   value for [expires]           (default 3600)
#     -T SECONDS   global timeout; sipp fails if reached (default 30)
#     -o NAME      trace name prefix             (default: scenario name)
#
# SCENARIO is a path or a file name in scripts/lab/. Traces go to
# ${SF_LAB_RUN}/sipp/NAME.{stat.csv,errors.log,screen.log,out}.
# Prints "sipp NAME: rc=.. successful=.. failed=.." and exits with sipp's
# status (0 = every call succeeded; 124 = killed by the outer timeout).
# The destination must be inside 198.18.0.0/15 (or loopback).

set -euo pipefail

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/common.sh
. "${LAB_DIR}/common.sh"

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

ns=${SF_NS_UA}
lip=${SF_IP_UA}
lport=${SF_UA_SIP_PORT}
dst="${SF_IP_CORE}:${SF_SIP_PORT}"
csv=""
calls=""
rate=100
limit=50
expires=3600
tmo=30
name=""

while getopts 's:i:p:d:u:m:r:l:e:T:o:h' opt; do
    case ${opt} in
    s) ns=${OPTARG} ;;
    i) lip=${OPTARG} ;;
    p) lport=${OPTARG} ;;
    d) dst=${OPTARG} ;;
    u) csv=${OPTARG} ;;
    m) calls=${OPTARG} ;;
    r) rate=${OPTARG} ;;
    l) limit=${OPTARG} ;;
    e) expires=${OPTARG} ;;
    T) tmo=${OPTARG} ;;
    o) name=${OPTARG} ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
(($# >= 1)) || usage
scen=$1
shift
if (($#)); then
    [[ $1 == -- ]] || sf_die "options go before the scenario; extra sipp args after '--'"
    shift
fi

[[ -f ${scen} ]] || scen="${LAB_DIR}/${scen}"
[[ -f ${scen} ]] || sf_die "no scenario ${scen##*/} (path or file in ${LAB_DIR})"
[[ ${dst} == *:* ]] || dst="${dst}:${SF_SIP_PORT}"
sf_is_lab_ip "${dst%%:*}" || sf_die "refusing to send to ${dst}: not in 198.18.0.0/15"
sf_is_lab_ip "${lip}" || sf_die "local IP ${lip} not in 198.18.0.0/15"
for v in "${lport}" "${rate}" "${limit}" "${expires}" "${tmo}" ${calls:+"${calls}"}; do
    [[ ${v} =~ ^[0-9]+$ ]] || sf_die "not a number: ${v}"
done
sf_require_root
sf_netns_exists "${ns}" || sf_die "netns ${ns} missing: run scripts/lab.sh up first"
command -v sipp >/dev/null || sf_die "sipp not installed (apt-get install -y sip-tester)"

inf=()
if [[ -n ${csv} ]]; then
    [[ -f ${csv} ]] || sf_die "no injection file ${csv}"
    csv=$(realpath "${csv}")
    inf=(-inf "${csv}")
    if [[ -z ${calls} ]]; then
        calls=$(($(wc -l <"${csv}") - 1))
    fi
fi
calls=${calls:-1}

name=${name:-$(basename "${scen}" .xml)}
out="${SF_LAB_RUN}/sipp"
mkdir -p "${out}"
rm -f "${out}/${name}".{stat.csv,errors.log,screen.log,out}

rc=0
# sipp writes some files into its cwd; keep them in the run dir.
(
    cd "${out}"
    timeout -k 5 "$((tmo + 15))" ip netns exec "${ns}" sipp "${dst}" \
        -sf "${scen}" "${inf[@]}" -key expires "${expires}" \
        -t u1 -i "${lip}" -p "${lport}" \
        -m "${calls}" -r "${rate}" -rp 1000 -l "${limit}" \
        -timeout "${tmo}s" -timeout_error -recv_timeout 10000 -max_retrans 5 \
        -nostdin -fd 1 -default_behaviors all,-bye \
        -trace_stat -stf "${out}/${name}.stat.csv" \
        -trace_err -error_file "${out}/${name}.errors.log" \
        -trace_screen -screen_file "${out}/${name}.screen.log" \
        "$@" </dev/null >"${out}/${name}.out" 2>&1
) || rc=$?

# Final totals from the screen dump ("Successful call | x | y" rows).
succ=$(awk -F'|' '/^ *Successful call/ {gsub(/ /, "", $3); v = $3} END {print v + 0}' \
    "${out}/${name}.screen.log" 2>/dev/null || echo 0)
fail=$(awk -F'|' '/^ *Failed call/ {gsub(/ /, "", $3); v = $3} END {print v + 0}' \
    "${out}/${name}.screen.log" 2>/dev/null || echo 0)
echo "sipp ${name}: rc=${rc} calls=${calls} successful=${succ} failed=${fail} (traces: ${out}/${name}.*)"
if ((rc != 0)); then
    tail -n 5 "${out}/${name}.out" >&2 2>/dev/null || true
    if [[ -s ${out}/${name}.errors.log ]]; then
        head -n 20 "${out}/${name}.errors.log" >&2
    fi
fi
exit "${rc}"
