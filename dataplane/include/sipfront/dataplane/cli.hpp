// The sipfront command line: EAL options, "--", application options. The EAL
// argv is generated from the config and NIC profile (devices, memory, profile
// EAL options) before rte_eal_init, with the user's EAL options last so they win.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipfront::dp {

struct app_options {
  std::string config_file;
  std::string profile_file;
  std::optional<unsigned> workers;  ///< overrides workers.count of the config
  unsigned stats_interval_s = 0;    ///< 0 = print only on SIGUSR1 and at exit
  bool help = false;
};

/// argv split at the first "--": EAL options before it, application options after.
struct command_line {
  std::string program;
  std::vector<std::string> eal;
  std::vector<std::string> app;
  bool help = false;  ///< -h/--help anywhere
};
[[nodiscard]] command_line split_command_line(int argc, const char* const* argv);

/// Parses the application options. On error returns nullopt and sets `error`.
[[nodiscard]] std::optional<app_options> parse_app_options(std::span<const std::string> args, std::string& error);

/// The application half of --help.
[[nodiscard]] std::string app_usage(std::string_view program);

/// "0000:3b:00.0" or "3b:00.0" (domain optional): a PCI device, not a vdev spec.
[[nodiscard]] bool is_pci_address(std::string_view device);

/// Replaces every "{queues}" in a profile's device_args.
[[nodiscard]] std::string substitute_queues(std::string_view device_args, unsigned queues);

/// "<device>,<device_args>": the profile's arguments appended to the interface's
/// device, except keys the device already sets (the more specific one wins).
[[nodiscard]] std::string device_with_args(std::string_view device, std::string_view device_args);

struct eal_inputs {
  std::string program;
  std::vector<std::string> devices;  ///< each interface's `device`
  std::string device_args;           ///< the profile's, "{queues}" not yet substituted
  unsigned queues = 1;               ///< substituted for "{queues}": workers + 1
  bool no_huge = false;
  unsigned memory_mb = 0;
  std::vector<std::string> profile_eal_args;
  std::vector<std::string> user_eal_args;
};
/// Builds the EAL argv: program, --vdev / -a per device (+ --no-pci when no device is
/// PCI), memory options, the profile's EAL options, then the user's.
[[nodiscard]] std::vector<std::string> build_eal_argv(const eal_inputs& in);

/// Number of lcores the EAL options select (-l, --lcores, -c); nullopt when none
/// is given (the EAL then takes every CPU of the affinity mask) or the list is
/// malformed (the EAL will say so).
[[nodiscard]] std::optional<unsigned> count_eal_lcores(std::span<const std::string> eal_args);

/// The worker count: --workers, else the config's count, else every lcore but the
/// main one. Returns nullopt with `error` set when it cannot work.
[[nodiscard]] std::optional<unsigned> resolve_workers(std::optional<unsigned> cli, unsigned config_count,
                                                      unsigned lcores, std::string& error);

}  // namespace sipfront::dp
