#include "sipfront/dataplane/cli.hpp"

#include <algorithm>
#include <bitset>
#include <cctype>
#include <charconv>
#include <set>

#include "sipfront/dataplane/limits.hpp"

namespace sipfront::dp {

namespace {

bool parse_unsigned(std::string_view s, unsigned& out, int base = 10) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, out, base);
  return ec == std::errc{} && p == end;
}

// The value of an option given as "--opt=value", "--opt value", "-xvalue" or "-x value".
// Returns true when args[i] is `name` (advancing i past a separate value).
bool take_value(std::span<const std::string> args, std::size_t& i, std::string_view name, std::string& value,
                bool& missing) {
  const std::string_view a = args[i];
  missing = false;
  if (a == name) {
    if (i + 1 >= args.size()) {
      missing = true;
      return true;
    }
    value = args[++i];
    return true;
  }
  if (name.starts_with("--") && a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=') {
    value = a.substr(name.size() + 1);
    return true;
  }
  if (!name.starts_with("--") && name.size() == 2 && a.starts_with(name) && a.size() > 2) {
    value = a.substr(2);
    return true;
  }
  return false;
}

// Adds the lcore ids of "N", "N-M" to `ids`.
bool add_range(std::string_view s, std::set<unsigned>& ids) {
  const auto dash = s.find('-');
  unsigned lo = 0;
  unsigned hi = 0;
  if (dash == std::string_view::npos) {
    if (!parse_unsigned(s, lo)) return false;
    hi = lo;
  } else if (!parse_unsigned(s.substr(0, dash), lo) || !parse_unsigned(s.substr(dash + 1), hi) || hi < lo) {
    return false;
  }
  if (hi - lo > 4096) return false;
  for (unsigned v = lo; v <= hi; ++v) ids.insert(v);
  return true;
}

// -l "0-2,4"
std::optional<unsigned> count_list(std::string_view s) {
  std::set<unsigned> ids;
  while (!s.empty()) {
    const auto comma = s.find(',');
    if (!add_range(s.substr(0, comma), ids)) return std::nullopt;
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  if (ids.empty()) return std::nullopt;
  return static_cast<unsigned>(ids.size());
}

// --lcores "0@0,1@1,2@1", "(0-2)@0", "1,2@(0,1),(3-4)@5": elements separated by
// commas outside parentheses; the lcore set is the part before '@'.
std::optional<unsigned> count_lcores_map(std::string_view s) {
  std::set<unsigned> ids;
  std::size_t i = 0;
  while (i < s.size()) {
    // Lcore set: "(list)" or "N[-M]".
    if (s[i] == '(') {
      const auto close = s.find(')', i);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view inner = s.substr(i + 1, close - i - 1);
      while (!inner.empty()) {
        const auto comma = inner.find(',');
        if (!add_range(inner.substr(0, comma), ids)) return std::nullopt;
        if (comma == std::string_view::npos) break;
        inner.remove_prefix(comma + 1);
      }
      i = close + 1;
    } else {
      std::size_t j = i;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) != 0 || s[j] == '-')) ++j;
      if (!add_range(s.substr(i, j - i), ids)) return std::nullopt;
      i = j;
    }
    // Optional CPU set: "@N", "@N-M" or "@(list)".
    if (i < s.size() && s[i] == '@') {
      ++i;
      if (i < s.size() && s[i] == '(') {
        const auto close = s.find(')', i);
        if (close == std::string_view::npos) return std::nullopt;
        i = close + 1;
      } else {
        while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0 || s[i] == '-')) ++i;
      }
    }
    if (i < s.size()) {
      if (s[i] != ',') return std::nullopt;
      ++i;
    }
  }
  if (ids.empty()) return std::nullopt;
  return static_cast<unsigned>(ids.size());
}

std::optional<unsigned> count_mask(std::string_view s) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  if (s.empty()) return std::nullopt;
  unsigned n = 0;
  for (char c : s) {
    unsigned v = 0;
    if (!parse_unsigned(std::string_view(&c, 1), v, 16)) return std::nullopt;
    n += static_cast<unsigned>(std::bitset<4>(v).count());
  }
  if (n == 0) return std::nullopt;
  return n;
}

std::nullopt_t fail(std::string& error, std::string_view msg) {
  error = msg;
  return std::nullopt;
}

}  // namespace

command_line split_command_line(int argc, const char* const* argv) {
  command_line cl;
  cl.program = argc > 0 ? argv[0] : "sipfront";
  bool app = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (!app && a == "--") {
      app = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      cl.help = true;
      continue;
    }
    (app ? cl.app : cl.eal).emplace_back(a);
  }
  return cl;
}

std::optional<app_options> parse_app_options(std::span<const std::string> args, std::string& error) {
  app_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string v;
    bool missing = false;
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (take_value(args, i, "--config", v, missing)) {
      if (missing) return fail(error, "--config needs a file");
      o.config_file = v;
    } else if (take_value(args, i, "--profile", v, missing)) {
      if (missing) return fail(error, "--profile needs a file");
      o.profile_file = v;
    } else if (take_value(args, i, "--workers", v, missing)) {
      unsigned n = 0;
      if (missing || !parse_unsigned(v, n) || n == 0 || n > max_workers) {
        error = "--workers needs a number from 1 to " + std::to_string(max_workers);
        return std::nullopt;
      }
      o.workers = n;
    } else if (take_value(args, i, "--stats-interval", v, missing)) {
      unsigned n = 0;
      if (missing || !parse_unsigned(v, n)) {
        error = "--stats-interval needs a number of seconds (0 = off)";
        return std::nullopt;
      }
      o.stats_interval_s = n;
    } else {
      error = "unknown application option '" + a + "' (EAL options go before '--')";
      return std::nullopt;
    }
  }
  if (o.help) return o;
  if (o.config_file.empty()) return fail(error, "--config FILE is required");
  if (o.profile_file.empty()) return fail(error, "--profile FILE is required");
  return o;
}

std::string app_usage(std::string_view program) {
  std::string s;
  s.append("usage: ").append(program).append(" [EAL options] -- --config FILE --profile FILE [options]\n\n");
  s.append(
      "sipfront: kernel-bypass SIP registration front end (DPDK).\n"
      "\n"
      "The EAL arguments are generated from the config and NIC profile: one --vdev (or -a\n"
      "for PCI devices) per interface with the profile's device_args ({queues} = workers+1),\n"
      "--no-pci when every device is virtual, --no-huge / -m from the profile's memory\n"
      "section, then the profile's eal_args. EAL options given before '--' come last and\n"
      "win. Lcores: the main lcore is the control core, every other lcore runs a worker\n"
      "(e.g. -l 0-2 or --lcores 0@0,1@1,2@1 gives 2 workers).\n"
      "\n"
      "Application options (after '--'):\n"
      "  --config FILE          startup config (sipfront.v1.Config in protobuf JSON)\n"
      "  --profile FILE         NIC profile (sipfront.v1.NicProfile in protobuf JSON)\n"
      "  --workers N            worker lcores (overrides workers.count; default: config,\n"
      "                         else every lcore but the main one)\n"
      "  --stats-interval SEC   also print the counters table every SEC seconds\n"
      "  -h, --help             this text and the EAL options\n"
      "\n"
      "Signals: SIGUSR1 prints the counters table; SIGINT/SIGTERM stop the workers,\n"
      "print the final table, close the ports and exit 0.\n"
      "Exit codes: 0 clean stop, 1 runtime failure (EAL, ports, memory), 2 invalid command\n"
      "line, config or profile.\n");
  return s;
}

bool is_pci_address(std::string_view d) {
  // [dddd:]bb:dd.f with hex digits.
  auto hex = [](std::string_view s, std::size_t n) {
    return s.size() == n &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  };
  const auto comma = d.find(',');
  d = d.substr(0, comma);
  const auto dot = d.rfind('.');
  if (dot == std::string_view::npos || !hex(d.substr(dot + 1), 1)) return false;
  std::string_view rest = d.substr(0, dot);
  const auto c2 = rest.rfind(':');
  if (c2 == std::string_view::npos || !hex(rest.substr(c2 + 1), 2)) return false;
  rest = rest.substr(0, c2);
  const auto c1 = rest.rfind(':');
  if (c1 == std::string_view::npos) return hex(rest, 2);
  return hex(rest.substr(c1 + 1), 2) && hex(rest.substr(0, c1), 4);
}

std::string substitute_queues(std::string_view device_args, unsigned queues) {
  constexpr std::string_view ph = "{queues}";
  std::string out;
  const std::string q = std::to_string(queues);
  for (std::size_t pos = 0;;) {
    const auto at = device_args.find(ph, pos);
    out.append(device_args.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
    if (at == std::string_view::npos) break;
    out.append(q);
    pos = at + ph.size();
  }
  return out;
}

std::string device_with_args(std::string_view device, std::string_view device_args) {
  std::set<std::string, std::less<>> keys;
  for (std::string_view rest = device.substr(std::min(device.size(), device.find(',') + 1));
       !rest.empty() && device.find(',') != std::string_view::npos;) {
    const auto comma = rest.find(',');
    const std::string_view kv = rest.substr(0, comma);
    keys.emplace(kv.substr(0, kv.find('=')));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::string out(device);
  for (std::string_view rest = device_args; !rest.empty();) {
    const auto comma = rest.find(',');
    const std::string_view kv = rest.substr(0, comma);
    if (!kv.empty() && !keys.contains(kv.substr(0, kv.find('=')))) out.append(",").append(kv);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::vector<std::string> build_eal_argv(const eal_inputs& in) {
  std::vector<std::string> argv{in.program};
  const std::string args = substitute_queues(in.device_args, in.queues);
  bool any_pci = false;
  for (const std::string& d : in.devices) {
    if (is_pci_address(d)) {
      any_pci = true;
      argv.emplace_back("-a");
    } else {
      argv.emplace_back("--vdev");
    }
    argv.push_back(device_with_args(d, args));
  }
  if (!any_pci) argv.emplace_back("--no-pci");
  if (in.no_huge) argv.emplace_back("--no-huge");
  if (in.memory_mb != 0) {
    argv.emplace_back("-m");
    argv.push_back(std::to_string(in.memory_mb));
  }
  argv.insert(argv.end(), in.profile_eal_args.begin(), in.profile_eal_args.end());
  argv.insert(argv.end(), in.user_eal_args.begin(), in.user_eal_args.end());
  return argv;
}

std::optional<unsigned> count_eal_lcores(std::span<const std::string> eal_args) {
  std::optional<unsigned> n;
  for (std::size_t i = 0; i < eal_args.size(); ++i) {
    std::string v;
    bool missing = false;
    if (take_value(eal_args, i, "--lcores", v, missing)) {
      n = missing ? std::nullopt : count_lcores_map(v);
    } else if (take_value(eal_args, i, "-l", v, missing)) {
      n = missing ? std::nullopt : count_list(v);
    } else if (take_value(eal_args, i, "-c", v, missing)) {
      n = missing ? std::nullopt : count_mask(v);
    }
  }
  return n;
}

std::optional<unsigned> resolve_workers(std::optional<unsigned> cli, unsigned config_count, unsigned lcores,
                                        std::string& error) {
  const unsigned available = lcores > 0 ? lcores - 1 : 0;
  unsigned n = cli ? *cli : config_count != 0 ? config_count : available;
  if (n == 0) {
    error = "no worker lcore: give the EAL at least two lcores (e.g. -l 0-1); the main one is the control core";
    return std::nullopt;
  }
  if (n > max_workers) {
    error = std::to_string(n) + " workers requested; at most " + std::to_string(max_workers) + " are supported";
    return std::nullopt;
  }
  if (n > available) {
    error = std::to_string(n) + " workers need " + std::to_string(n + 1) + " lcores but the EAL has " +
            std::to_string(lcores) + " (use -l/--lcores, or --workers)";
    return std::nullopt;
  }
  return n;
}

}  // namespace sipfront::dp
