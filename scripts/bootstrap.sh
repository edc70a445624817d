#!/usr/bin/env bash
# Installs every Debian package sipfront needs to build, test, benchmark and run
# its lab. Idempotent: quiet when everything is present.
set -euo pipefail

packages=(
  # toolchain and build
  g++ clang libclang-rt-14-dev clang-format clang-tidy meson ninja-build pkg-config
  # libraries
  libdpdk-dev dpdk libhyperscan-dev libjemalloc-dev libboost-dev libssl-dev
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev libc-ares-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libosip2-dev
  # the lab: real peers and network namespaces
  kamailio sip-tester iproute2 ethtool procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
  echo "bootstrap: run as root (or: sudo $0) to install them with apt-get." >&2
  exit 1
fi
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}"
