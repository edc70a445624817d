# shellcheck shell=bash disable=SC2034  # variables are used by the sourcing scripts
# Shared names and addresses of the sipfront netns lab.
# Sourced by scripts/lab.sh, scripts/lab/*.sh and the integration tests.
#
#   sf-ua  [ua0 198.18.1.2] ---- [fe-acc 198.18.1.1] sf-fe [fe-core 198.18.2.1] ---- [core0 198.18.2.2] sf-core
#          (phones: sipp)         access side                core side              (registrar: Kamailio)
#
# In the default (DPDK) mode the sf-fe interfaces carry no kernel address and
# ip_forward is off: sipfront owns 198.18.1.1 and 198.18.2.1 in user space via
# net_af_packet on fe-acc / fe-core. With --kernel-fe the sf-fe kernel routes.
#
# Every address here is in the benchmarking range 198.18.0.0/15 (RFC 2544).

SF_LAB_RUN="${SF_LAB_RUN:-/tmp/sipfront-lab}"
SF_LAB_STATE="${SF_LAB_RUN}/lab.state"
SF_LAB_ENV="${SF_LAB_RUN}/lab.env"

SF_NS_UA=sf-ua
SF_NS_FE=sf-fe
SF_NS_CORE=sf-core

SF_IF_UA=ua0          # in sf-ua
SF_IF_FE_ACC=fe-acc   # in sf-fe, access side (DPDK: net_af_packet iface=fe-acc)
SF_IF_FE_CORE=fe-core # in sf-fe, core side   (DPDK: net_af_packet iface=fe-core)
SF_IF_CORE=core0      # in sf-core

# Fixed, locally administered MACs so tests and static neighbour entries are
# deterministic.
SF_MAC_UA=02:5f:00:01:00:02
SF_MAC_FE_ACC=02:5f:00:01:00:01
SF_MAC_FE_CORE=02:5f:00:02:00:01
SF_MAC_CORE=02:5f:00:02:00:02

SF_PLEN=24
SF_NET_ACC=198.18.1.0
SF_NET_CORE=198.18.2.0
SF_IP_UA=198.18.1.2
SF_IP_FE_ACC=198.18.1.1
SF_IP_FE_CORE=198.18.2.1
SF_IP_CORE=198.18.2.2

SF_SIP_PORT=5060        # Kamailio on SF_IP_CORE
SF_UA_SIP_PORT=5070     # sipp (phones) on SF_IP_UA

# sf_die MSG...: print to stderr and exit 1.
sf_die() {
    printf '%s: error: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

sf_log() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
}

sf_require_root() {
    [[ ${EUID} -eq 0 ]] || sf_die "must run as root (network namespaces)"
}

# sf_is_lab_ip IP: true if IP is an IPv4 address inside 198.18.0.0/15 or
# 127.0.0.0/8. Used to refuse sending test traffic anywhere else.
sf_is_lab_ip() {
    local ip=$1 a b c d
    [[ ${ip} =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
    a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]} c=${BASH_REMATCH[3]} d=${BASH_REMATCH[4]}
    ((a <= 255 && b <= 255 && c <= 255 && d <= 255)) || return 1
    ((a == 198 && (b == 18 || b == 19))) && return 0
    ((a == 127)) && return 0
    return 1
}

sf_netns_exists() {
    [[ -e /run/netns/$1 ]]
}
