#!/usr/bin/env bash
# sipfront demo, from nothing to a few thousand phones registered through the
# front end in a couple of minutes:
#
#   1. scripts/bootstrap.sh (installs missing Debian packages)
#   2. meson setup build (if needed) + ninja -C build
#   3. network-namespace lab (scripts/lab.sh up, DPDK mode)
#   4. Kamailio registrar in sf-core (digest auth)
#   5. sipfront in sf-fe on net_af_packet, 2 worker lcores
#   6. sipp in sf-ua registers DEMO_USERS phones with digest auth through
#      sipfront (198.18.1.1:5060 -> Kamailio 198.18.2.2:5060)
#   7. sipfront's per-core counters (SIGUSR1) and Kamailio's binding count
#   8. everything stopped and the lab removed (also on failure or Ctrl-C)
#
#   sudo scripts/demo.sh
#
# Env: DEMO_USERS (3000), DEMO_RATE (new REGISTER dialogs per second, 300),
# DEMO_LIMIT (max dialogs in flight, 200), SF_WORKERS (2), BUILD_DIR (build),
# SIPFRONT_PROFILE (nic-profiles/af_packet.json), SIPFRONT_BIN
# (BUILD_DIR/dataplane/sipfront), DEMO_KEEP=1 keeps the logs, DEMO_NO_BUILD=1
# skips steps 1-2 (an already built tree).
# Everything stays inside the lab namespaces and 198.18.0.0/15.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
LAB="${ROOT}/scripts/lab.sh"
LABD="${ROOT}/scripts/lab"
BUILD_DIR=${BUILD_DIR:-build}
USERS=${DEMO_USERS:-3000}
RATE=${DEMO_RATE:-300}
LIMIT=${DEMO_LIMIT:-200}
WORKERS=${SF_WORKERS:-2}
SIPFRONT_PROFILE=${SIPFRONT_PROFILE:-${ROOT}/nic-profiles/af_packet.json}
SIPFRONT_CONFIG=${SIPFRONT_CONFIG:-${ROOT}/tests/integration/configs/demo.json}

# shellcheck source=SCRIPTDIR/lab/common.sh
. "${LABD}/common.sh"
SF_LAB_RUN="$(mktemp -d /tmp/sipfront-demo.XXXXXX)"
export SF_LAB_RUN
# shellcheck source=SCRIPTDIR/../tests/integration/lib_sipfront.sh
. "${ROOT}/tests/integration/lib_sipfront.sh"

T0=${SECONDS}
lab_started=0
step() { printf '\n[%3ds] === %s\n' "$((SECONDS - T0))" "$*"; }
die() {
    printf '[%3ds] demo: error: %s\n' "$((SECONDS - T0))" "$*" >&2
    exit 1
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [[ -n ${SFD_PID} ]]; then
        step "stopping sipfront (pid ${SFD_PID}; it prints its counters at exit)"
        local before
        before=$(stat -c %s "${SFD_LOG}" 2>/dev/null || echo 0)
        sfd_stop
        tail -c "+$((before + 1))" "${SFD_LOG}" | grep -v '^=== stopped' | sed 's/^/    /'
        echo "    exit status: ${SFD_EXIT}"
    fi
    if ((lab_started)); then
        step "stopping Kamailio and removing the lab"
        timeout 20 "${LABD}/kamailio.sh" stop
        timeout 30 "${LAB}" down
    fi
    if ((rc == 0)); then
        if [[ ${DEMO_KEEP:-0} == 1 ]]; then echo "logs: ${SF_LAB_RUN}"; else rm -rf "${SF_LAB_RUN}"; fi
        printf '\n[%3ds] demo done\n' "$((SECONDS - T0))"
    else
        printf '\n[%3ds] demo FAILED (rc=%s); logs kept in %s\n' "$((SECONDS - T0))" "${rc}" "${SF_LAB_RUN}"
    fi
    exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ ${EUID} -eq 0 ]] || die "run as root (network namespaces, DPDK): sudo $0"
[[ ${USERS} =~ ^[1-9][0-9]*$ && ${RATE} =~ ^[1-9][0-9]*$ && ${WORKERS} =~ ^[1-9][0-9]*$ ]] ||
    die "DEMO_USERS, DEMO_RATE and SF_WORKERS must be positive integers"

if [[ ${DEMO_NO_BUILD:-0} != 1 ]]; then
    step "bootstrap (Debian packages)"
    timeout 900 ./scripts/bootstrap.sh || die "scripts/bootstrap.sh failed"

    step "build (${BUILD_DIR})"
    if [[ ! -f ${BUILD_DIR}/build.ninja ]]; then
        timeout 600 meson setup "${BUILD_DIR}" || die "meson setup ${BUILD_DIR} failed"
    fi
    if ! timeout 1800 ninja -C "${BUILD_DIR}"; then
        # The demo needs only the daemon: go on if it builds on its own.
        printf 'demo: warning: the full build failed; building only dataplane/sipfront\n' >&2
        timeout 1800 ninja -C "${BUILD_DIR}" dataplane/sipfront || die "ninja -C ${BUILD_DIR} failed"
    fi
fi
SIPFRONT_BIN=${SIPFRONT_BIN:-${ROOT}/${BUILD_DIR}/dataplane/sipfront}
sfd_check_bin "${SIPFRONT_BIN}" || exit 1
[[ -r ${SIPFRONT_PROFILE} ]] || die "NIC profile missing: ${SIPFRONT_PROFILE}"

if ip netns list | grep -Eq '^sf-(ua|fe|core)( |$)'; then
    die "a lab is already up (ip netns list shows sf-*); remove it with: $(sfd_stale_lab_hint)"
fi

step "lab: namespaces sf-ua | sf-fe | sf-core, veths, 198.18.0.0/15"
lab_started=1
timeout 30 "${LAB}" up || die "scripts/lab.sh up failed"
# shellcheck source=/dev/null
. "${SF_LAB_RUN}/lab.env"
cat <<EOF
    ${SF_NS_UA}   ${SF_IF_UA} ${SF_IP_UA}  (phones: sipp)
      |
    ${SF_NS_FE}   ${SF_IF_FE_ACC} ${SF_IP_FE_ACC} | ${SF_IF_FE_CORE} ${SF_IP_FE_CORE}  (sipfront, DPDK net_af_packet)
      |
    ${SF_NS_CORE} ${SF_IF_CORE} ${SF_IP_CORE}  (registrar: Kamailio)
EOF

step "Kamailio registrar on ${SF_IP_CORE}:${SF_SIP_PORT}"
KAM_PKG_MB=$((USERS / 500 + 8)) timeout 30 "${LABD}/kamailio.sh" start || die "kamailio.sh start failed"

step "sipfront: ${WORKERS} workers, config ${SIPFRONT_CONFIG#"${ROOT}"/}"
sfd_start "${SIPFRONT_BIN}" "${SIPFRONT_CONFIG}" "${SIPFRONT_PROFILE}" "${WORKERS}" ||
    die "sipfront did not come up"

step "registering ${USERS} phones with digest auth through sipfront (${RATE}/s, ${LIMIT} in flight)"
"${LABD}/users.sh" "${USERS}" >"${SF_LAB_RUN}/users.csv"
tmo=$((USERS / RATE + 60))
t1=${SECONDS}
rc=0
timeout "$((tmo + 30))" "${LABD}/sipp.sh" -d "${SF_IP_FE_ACC}:${SF_SIP_PORT}" -u "${SF_LAB_RUN}/users.csv" \
    -o demo -r "${RATE}" -l "${LIMIT}" -T "${tmo}" register_auth.xml || rc=$?
took=$((SECONDS - t1))
awk -F'|' '/Successful call|Failed call/ && !seen[$1]++ {print "    " $0}' \
    "${SF_LAB_RUN}/sipp/demo.screen.log" 2>/dev/null || true
echo "    ${USERS} REGISTER dialogs (REGISTER, 401, REGISTER+Authorization, 200) in ~${took} s"

step "sipfront per-core counters (SIGUSR1)"
if sfd_counters "${SF_LAB_RUN}/counters.txt"; then
    sed 's/^/    /' "${SF_LAB_RUN}/counters.txt"
else
    echo "    (no table printed after SIGUSR1; see ${SFD_LOG})"
fi

step "Kamailio bindings"
count=$(timeout 15 "${LABD}/kamailio.sh" count) || count="?"
echo "    usrloc contacts: ${count} (want ${USERS})"
echo "    REGISTERs seen by Kamailio: $(timeout 15 "${LABD}/kamailio.sh" registers)"
if ((USERS <= 5000)); then
    echo "    sample bindings (AoR contact expires Call-ID):"
    timeout 30 "${LABD}/kamailio.sh" contacts | sort | sed -n '1,3p;$p' | sed 's/^/      /'
fi
((rc == 0)) || die "sipp reported failed registrations (rc=${rc}; ${SF_LAB_RUN}/sipp/demo.*)"
[[ ${count} == "${USERS}" ]] || die "Kamailio holds ${count} bindings, want ${USERS}"
