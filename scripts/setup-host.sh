#!/usr/bin/env bash
# Prepares a bare-metal (or VM) host for one NIC profile: reserves hugepages,
# mounts hugetlbfs, loads the kernel module, binds the given PCI devices for
# DPDK, and prints the advice the profile carries. Says what it changed.
#
#   scripts/setup-host.sh PROFILE_JSON [--pci ADDR ...] [--dry-run]
#
#   PROFILE_JSON  a file from nic-profiles/ (protobuf JSON of sipfront.v1.NicProfile)
#   --pci ADDR    a PCI device to hand to DPDK (repeatable), e.g. 0000:3b:00.0
#   --dry-run     print what would be done; change nothing (no root needed)
#
# Needs python3 (reads the profile) and, for binding, dpdk-devbind.py from the
# Debian package "dpdk". Idempotent: running it twice changes nothing the second time.
set -euo pipefail

usage() {
  sed -n '2,15s/^# \{0,1\}//p' "$0" >&2
  exit 2
}
die() {
  echo "setup-host: error: $*" >&2
  exit 1
}

profile=""
pci_devices=()
dry_run=0
while (($#)); do
  case "$1" in
    --pci)
      (($# >= 2)) || die "--pci needs a PCI address, e.g. --pci 0000:3b:00.0"
      pci_devices+=("$2")
      shift 2
      ;;
    --pci=*) pci_devices+=("${1#--pci=}"); shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *)
      [[ -z "$profile" ]] || die "one profile only (got '$profile' and '$1')"
      profile="$1"
      shift
      ;;
  esac
done
[[ -n "$profile" ]] || usage
[[ -r "$profile" ]] || die "cannot read profile '$profile'"
command -v python3 >/dev/null || die "python3 is needed to read the profile (apt-get install python3)"

# ------------------------------------------------------------------ profile
# Protobuf JSON uses lowerCamelCase names, but its parser also accepts the proto
# names; accept both. Output is shell assignments, quoted by shlex.
profile_vars="$(
  python3 - "$profile" <<'EOF'
import json, shlex, sys

path = sys.argv[1]
try:
    with open(path) as f:
        p = json.load(f)
except (OSError, ValueError) as e:
    sys.exit(f"setup-host: error: {path}: {e}")
if not isinstance(p, dict):
    sys.exit(f"setup-host: error: {path}: not a JSON object")

def get(obj, camel, snake, default):
    v = obj.get(camel, obj.get(snake, default))
    return default if v is None else v

mem = get(p, "memory", "memory", {}) or {}
out = {
    "p_name": get(p, "name", "name", ""),
    "p_driver": get(p, "driver", "driver", ""),
    "p_virtual": "1" if get(p, "virtualDevice", "virtual_device", False) else "0",
    "p_module": get(p, "kernelModule", "kernel_module", ""),
    "p_bifurcated": "1" if get(p, "bifurcated", "bifurcated", False) else "0",
    "p_no_huge": "1" if get(mem, "noHuge", "no_huge", False) else "0",
    "p_memory_mb": str(int(get(mem, "memoryMb", "memory_mb", 0))),
    "p_hugepage_kb": str(int(get(mem, "hugepageKb", "hugepage_kb", 0))),
    "p_hugepages": str(int(get(mem, "hugepages", "hugepages", 0))),
}
for k, v in out.items():
    print(f"{k}={shlex.quote(str(v))}")
notes = get(p, "notes", "notes", []) or []
print("p_notes=(" + " ".join(shlex.quote(str(n)) for n in notes) + ")")
EOF
)" || exit 1
# Declared here so a reader (and shellcheck) sees what the eval defines.
p_name="" p_driver="" p_virtual=0 p_module="" p_bifurcated=0
p_no_huge=0 p_memory_mb=0 p_hugepage_kb=0 p_hugepages=0
p_notes=()
eval "$profile_vars"

[[ -n "$p_name" && -n "$p_driver" ]] || die "$profile: \"name\" and \"driver\" must be set"
if ((!dry_run)) && ((EUID != 0)); then
  die "run as root (hugepages, modules and PCI binding need it), or pass --dry-run to see the plan"
fi

changes=()  # what this run changed (or would change), for the summary
notices=()  # things the operator must do by hand
prefix=""
((dry_run)) && prefix="[dry-run] "

# Runs a command that changes the host, or prints it under --dry-run.
run() {
  if ((dry_run)); then
    echo "${prefix}would run: $*"
  else
    echo "+ $*"
    "$@"
  fi
}
# Writes a value into a sysfs/procfs file, or prints it under --dry-run.
write_value() {
  local value="$1" file="$2"
  if ((dry_run)); then
    echo "${prefix}would write: echo $value > $file"
  else
    echo "+ echo $value > $file"
    echo "$value" >"$file"
  fi
}

echo "setup-host: profile '$p_name' (driver $p_driver) from $profile"

# ---------------------------------------------------------------- hugepages
hugepage_size_name() {
  case "$1" in
    2048) echo "2M" ;;
    1048576) echo "1G" ;;
    *) echo "${1}kB" ;;
  esac
}

setup_hugepages() {
  if [[ "$p_no_huge" == 1 ]]; then
    echo "memory: the profile runs EAL with --no-huge -m $p_memory_mb; no hugepages reserved"
    return
  fi
  local kb="$p_hugepage_kb" per_node="$p_hugepages" size
  [[ "$kb" == 2048 || "$kb" == 1048576 ]] || die "$profile: memory.hugepageKb must be 2048 or 1048576 (got $kb)"
  ((per_node > 0)) || die "$profile: memory.hugepages must be > 0"
  size="$(hugepage_size_name "$kb")"

  if [[ ! -d /sys/kernel/mm/hugepages/hugepages-${kb}kB ]]; then
    notices+=("this kernel/CPU offers no ${size} hugepages; boot with 'default_hugepagesz=${size} hugepagesz=${size} hugepages=N' (1G needs the pdpe1gb CPU flag)")
    echo "memory: ${size} hugepages are not available on this host (see the summary)"
    return
  fi

  # The profile counts pages per NUMA node; reserve on every node so workers
  # can sit next to whichever node the NIC is on.
  local files=()
  if compgen -G "/sys/devices/system/node/node*/hugepages/hugepages-${kb}kB/nr_hugepages" >/dev/null; then
    files=(/sys/devices/system/node/node*/hugepages/hugepages-"${kb}"kB/nr_hugepages)
  else
    files=(/sys/kernel/mm/hugepages/hugepages-"${kb}"kB/nr_hugepages)
  fi
  local f have
  for f in "${files[@]}"; do
    have="$(cat "$f")"
    if ((have >= per_node)); then
      echo "memory: $f already holds $have ${size} pages (>= $per_node)"
      continue
    fi
    write_value "$per_node" "$f"
    if ((!dry_run)); then
      have="$(cat "$f")"
      if ((have < per_node)); then
        notices+=("only $have of $per_node ${size} pages could be reserved in $f (memory fragmented); reserve them at boot: default_hugepagesz=${size} hugepagesz=${size} hugepages=$((per_node * ${#files[@]}))")
      fi
    fi
    changes+=("reserved ${size} hugepages: $f = $per_node (was $have)")
  done

  # hugetlbfs for this page size: EAL finds pages through a mount whose pagesize matches.
  local mounted=0 default_kb
  default_kb="$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)"
  local mnt fstype opts mount_kb
  while read -r _ mnt fstype opts _; do
    [[ "$fstype" == hugetlbfs ]] || continue
    # /proc/mounts spells the size "pagesize=2M" / "pagesize=1024M"; no option means the default size.
    mount_kb="$default_kb"
    if [[ ",$opts," =~ ,pagesize=([0-9]+)([KMG]),? ]]; then
      case "${BASH_REMATCH[2]}" in
        K) mount_kb="${BASH_REMATCH[1]}" ;;
        M) mount_kb=$((BASH_REMATCH[1] * 1024)) ;;
        G) mount_kb=$((BASH_REMATCH[1] * 1024 * 1024)) ;;
      esac
    fi
    if [[ "$mount_kb" == "$kb" ]]; then
      echo "memory: hugetlbfs for ${size} pages is mounted at $mnt"
      mounted=1
      break
    fi
  done </proc/mounts
  if ((!mounted)); then
    local dir="/dev/hugepages"
    [[ "$kb" == 1048576 ]] && dir="/dev/hugepages-1G"
    if grep -qs " $dir hugetlbfs " /proc/mounts; then
      dir="${dir}-sipfront"
    fi
    run mkdir -p "$dir"
    run mount -t hugetlbfs -o "pagesize=${size}" nodev "$dir"
    changes+=("mounted hugetlbfs (pagesize=${size}) at $dir (not persistent: add it to /etc/fstab)")
  fi
}

# ----------------------------------------------------------- kernel module
setup_module() {
  if [[ "$p_virtual" == 1 ]]; then
    echo "module: virtual device ($p_driver): no kernel module to load"
    return
  fi
  [[ -n "$p_module" ]] || die "$profile: kernelModule must be set for a PCI profile"
  local modname="${p_module//-/_}"
  if [[ -d "/sys/module/$modname" ]]; then
    echo "module: $p_module is already loaded"
  else
    run modprobe "$p_module"
    changes+=("loaded kernel module $p_module (not persistent: add it to /etc/modules-load.d/)")
  fi
  if [[ "$p_module" == vfio-pci ]] && [[ -z "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]]; then
    if [[ -r /sys/module/vfio/parameters/enable_unsafe_noiommu_mode ]] &&
      [[ "$(cat /sys/module/vfio/parameters/enable_unsafe_noiommu_mode)" == Y ]]; then
      echo "module: no IOMMU; vfio runs in unsafe no-IOMMU mode"
    else
      notices+=("no IOMMU is active: on bare metal boot with 'intel_iommu=on iommu=pt' (or 'amd_iommu=on'); in a VM without a virtual IOMMU: modprobe vfio enable_unsafe_noiommu_mode=1 (taints the kernel)")
    fi
  fi
}

# --------------------------------------------------------------- binding
devbind=""
find_devbind() {
  devbind="$(command -v dpdk-devbind.py || command -v dpdk-devbind || true)"
  [[ -n "$devbind" ]] || die "dpdk-devbind.py not found: apt-get install dpdk"
}

normalise_pci() {
  local a="$1"
  [[ "$a" =~ ^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] && a="0000:$a"
  [[ "$a" =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] || die "'$1' is not a PCI address like 0000:3b:00.0"
  echo "${a,,}"
}

setup_binding() {
  if [[ "$p_virtual" == 1 ]]; then
    ((${#pci_devices[@]} == 0)) ||
      die "profile '$p_name' is a virtual device ($p_driver); it uses no PCI device, so drop --pci"
    echo "binding: virtual device ($p_driver): nothing needs binding"
    return
  fi
  if ((${#pci_devices[@]} == 0)); then
    notices+=("no --pci given: nothing was bound; list the ports with 'dpdk-devbind.py --status-dev net'")
    return
  fi
  local raw addr dev_dir current numa netdev n
  for raw in "${pci_devices[@]}"; do
    addr="$(normalise_pci "$raw")"
    dev_dir="/sys/bus/pci/devices/$addr"
    if [[ ! -d "$dev_dir" ]]; then
      if ((dry_run)); then
        echo "${prefix}$addr does not exist on this host (plan shown anyway)"
      else
        die "no PCI device $addr on this host ('dpdk-devbind.py --status-dev net' lists them)"
      fi
    fi
    current="$(basename "$(readlink -f "$dev_dir/driver" 2>/dev/null)" 2>/dev/null || true)"
    [[ "$current" == driver ]] && current=""
    numa="$(cat "$dev_dir/numa_node" 2>/dev/null || echo -1)"
    if ((numa >= 0)); then
      notices+=("$addr is on NUMA node $numa: put the workers on that node's cores ($(cat "/sys/devices/system/node/node$numa/cpulist" 2>/dev/null || echo '?'))")
    fi

    if [[ "$p_bifurcated" == 1 ]]; then
      echo "binding: $p_driver is bifurcated: $addr stays with $p_module (now: ${current:-no driver})"
      if [[ -n "$current" && "$current" != "$p_module" ]]; then
        notices+=("$addr is bound to $current, but $p_driver needs it on $p_module: dpdk-devbind.py --bind=$p_module $addr")
      fi
      continue
    fi

    if [[ "$current" == "$p_module" ]]; then
      echo "binding: $addr is already bound to $p_module"
      continue
    fi
    netdev=""
    for n in "$dev_dir"/net/*; do
      [[ -e "$n" ]] && netdev="$(basename "$n")" && break
    done
    if [[ -n "$netdev" ]] && ip -o addr show dev "$netdev" 2>/dev/null | grep -q inet; then
      local why="$addr is Linux interface $netdev and has addresses; it may be your management port. Remove them (ip addr flush dev $netdev) if you really mean to give it to DPDK"
      ((dry_run)) || die "$why"
      notices+=("$why")
      continue
    fi
    [[ -n "$devbind" ]] || find_devbind
    run "$devbind" --bind="$p_module" "$addr"
    changes+=("bound $addr to $p_module (was ${current:-no driver}${netdev:+, Linux interface $netdev}); undo: dpdk-devbind.py --bind=<kernel driver> $addr")
  done
}

# --------------------------------------------------------------- advice
cpu_advice() {
  local n
  n="$(nproc --all 2>/dev/null || echo 1)"
  echo
  echo "cores: $n online. Workers poll at 100%; keep the kernel off them:"
  if ((n >= 4)); then
    echo "  kernel command line: isolcpus=2-$((n - 1)) nohz_full=2-$((n - 1)) rcu_nocbs=2-$((n - 1))"
    echo "  (core 0 for the OS, core 1 for the sipfront control lcore, 2..$((n - 1)) for workers;"
    echo "   keep hyper-thread siblings of a worker idle: lscpu -e shows them)"
  else
    echo "  only $n cores: isolation is not worth it; run control and one worker (EAL -l 0-1)."
  fi
  if grep -qw isolcpus /proc/cmdline 2>/dev/null; then
    echo "  current: $(grep -o 'isolcpus=[^ ]*' /proc/cmdline)"
  fi
  echo "  the systemd unit pins the daemon with CPUAffinity= and passes the lcores with -l."
}

setup_hugepages
setup_module
setup_binding

if ((${#p_notes[@]})); then
  echo
  echo "profile notes ($p_name):"
  for note in "${p_notes[@]}"; do echo "  - $note"; done
fi
cpu_advice

echo
if ((dry_run)); then
  echo "summary (dry run: nothing was changed):"
else
  echo "summary:"
fi
verb="changed"
((dry_run)) && verb="would change"
if ((${#changes[@]})); then
  for c in "${changes[@]}"; do echo "  $verb: $c"; done
else
  echo "  nothing needed changing"
fi
for n in "${notices[@]}"; do echo "  to do by hand: $n"; done
