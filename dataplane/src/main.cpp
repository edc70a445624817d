// sipfront: the daemon. Reads the config and NIC profile first, builds the EAL
// argv from them, initialises DPDK, sets up ports and workers, runs the control
// loop on the main lcore until SIGINT/SIGTERM, prints the final counters, closes
// the ports.
//
// Exit codes: 0 clean stop, 1 runtime failure (EAL, ports, memory), 2 invalid
// command line, config or profile.
#include <jemalloc/jemalloc.h>
#include <sched.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "config_adapter.hpp"
#include "sipfront/dataplane/cli.hpp"
#include "sipfront/dataplane/runtime.hpp"

namespace {

using sipfront::dp::signal_flags;

// A signal handler can reach nothing but static storage: this is the one global,
// and it holds nothing but two sig_atomic_t flags that the control loop polls.
signal_flags g_signals;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

extern "C" void on_quit(int /*sig*/) { g_signals.quit = 1; }
extern "C" void on_dump(int /*sig*/) { g_signals.dump = 1; }

void install_signal_handlers() {
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  // The first SIGINT/SIGTERM asks for a clean stop; a second one (shutdown stuck)
  // gets the default action.
  sa.sa_flags = SA_RESETHAND;
  sa.sa_handler = on_quit;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = on_dump;
  sigaction(SIGUSR1, &sa, nullptr);
}

unsigned cpus_in_affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return static_cast<unsigned>(CPU_COUNT(&set));
}

// Control-side heap use (engines, neighbour table): the daemon links jemalloc.
std::string heap_report() {
  std::uint64_t epoch = 1;
  std::size_t sz = sizeof epoch;
  (void)mallctl("epoch", &epoch, &sz, &epoch, sz);
  std::size_t allocated = 0;
  std::size_t resident = 0;
  sz = sizeof allocated;
  if (mallctl("stats.allocated", &allocated, &sz, nullptr, 0) != 0) return "heap: jemalloc statistics unavailable\n";
  sz = sizeof resident;
  (void)mallctl("stats.resident", &resident, &sz, nullptr, 0);
  return "heap (jemalloc): allocated " + std::to_string(allocated >> 20) + " MiB, resident " +
         std::to_string(resident >> 20) + " MiB\n";
}

// The dynamic registrars' DNS on the control loop: each poll is non-blocking;
// a change of any name's address is published to the workers as a new registrar
// snapshot, and every change of outcome is logged.
class dns_driver {
 public:
  dns_driver(const sipfront::v1::Config& cfg, std::unique_ptr<sipfront::ctrl::registrar_resolver> r)
      : cfg_(cfg), resolver_(std::move(r)), logged_(resolver_->states().size()) {}

  unsigned operator()(sipfront::dp::runtime& rt, std::uint64_t now_ms) {
    const bool busy_before = resolver_->busy();
    const bool changed = resolver_->poll(now_ms);
    log_outcomes();
    if (!changed) return busy_before ? 1U : 0U;
    sipfront::dp::registrar_snapshot snap;
    for (const auto& st : resolver_->states()) {
      auto& e = snap.entries[st.name.index - 1];
      e.dynamic = true;
      e.resolved = st.resolved;
      e.generation = st.generation;
      if (st.resolved) e.addr = sipfront::ctrl::registrar_endpoint(cfg_, st.ip, st.name.port);
    }
    rt.publish_registrars(snap);
    return 1;
  }

 private:
  struct seen {
    sipfront::ctrl::dns_outcome last = sipfront::ctrl::dns_outcome::pending;
    std::uint32_t generation = 0;
  };
  void log_outcomes() {
    const auto& states = resolver_->states();
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto& st = states[i];
      if (st.last == logged_[i].last && st.generation == logged_[i].generation) continue;
      logged_[i] = seen{st.last, st.generation};
      if (st.resolved) {
        std::fprintf(stderr, "sipfront: registrar %u %s: %s:%u (ttl %u s, %zu address%s)\n", st.name.index,
                     st.name.host.c_str(), sipfront::ctrl::format_ipv4(st.ip).c_str(), st.name.port, st.ttl_s,
                     st.n_addresses, st.n_addresses == 1 ? "" : "es");
      } else {
        std::fprintf(stderr, "sipfront: registrar %u %s: unresolved (%s), asking again in %u s\n", st.name.index,
                     st.name.host.c_str(), std::string(sipfront::ctrl::to_string(st.last)).c_str(),
                     cfg_.dns().retry_seconds());
      }
    }
  }

  const sipfront::v1::Config& cfg_;
  std::unique_ptr<sipfront::ctrl::registrar_resolver> resolver_;
  std::vector<seen> logged_;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
  return s;
}

int eal_init(std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return rte_eal_init(static_cast<int>(args.size()), argv.data());
}

}  // namespace

int main(int argc, char** argv) {
  namespace dp = sipfront::dp;
  namespace ctrl = sipfront::ctrl;
  const dp::command_line cl = dp::split_command_line(argc, argv);
  if (cl.help) {
    std::fputs(dp::app_usage(cl.program).c_str(), stdout);
    std::fputs("\nEAL options (before '--'):\n", stdout);
    std::fflush(stdout);
    std::vector<std::string> help{cl.program, "--log-level=lib.eal:error", "--help"};
    (void)eal_init(help);  // prints the EAL's usage and exits
    return 0;
  }
  std::string err;
  const auto opts = dp::parse_app_options(cl.app, err);
  if (!opts) {
    std::fprintf(stderr, "sipfront: %s\n\n%s", err.c_str(), dp::app_usage(cl.program).c_str());
    return 2;
  }

  // Config and profile come first: the EAL argv is made from them.
  sipfront::v1::Config cfg;
  if (const auto e = ctrl::load_config(opts->config_file, cfg)) {
    std::fprintf(stderr, "config error: %s\n", e->to_string().c_str());
    return 2;
  }
  sipfront::v1::NicProfile profile;
  if (const auto e = ctrl::load_profile(opts->profile_file, profile)) {
    std::fprintf(stderr, "config error: profile %s: %s\n", opts->profile_file.c_str(), e->to_string().c_str());
    return 2;
  }
  const unsigned lcores = dp::count_eal_lcores(cl.eal).value_or(cpus_in_affinity());
  const auto n_workers = dp::resolve_workers(opts->workers, cfg.workers().count(), lcores, err);
  if (!n_workers) {
    std::fprintf(stderr, "config error: workers.count: %s\n", err.c_str());
    return 2;
  }
  std::vector<ctrl::engine_setup> setups;
  dp::dataplane_config dcfg;
  if (const auto e = dp::make_dataplane_config(cfg, profile, *n_workers, setups, dcfg)) {
    std::fprintf(stderr, "config error: %s\n", e->to_string().c_str());
    return 2;
  }
  dcfg.stats_interval_s = opts->stats_interval_s;
  std::unique_ptr<dns_driver> dns;
  if (auto names = ctrl::dynamic_registrars(cfg); !names.empty()) {
    auto resolver =
        ctrl::registrar_resolver::create(ctrl::make_resolver_config(cfg), std::move(names), err,
                                         [&cfg](std::uint32_t ip) { return ctrl::usable_registrar_address(cfg, ip); });
    if (!resolver) {
      std::fprintf(stderr, "sipfront: DNS for registrars given by host: %s\n", err.c_str());
      return 1;
    }
    dns = std::make_unique<dns_driver>(cfg, std::move(resolver));
  }

  dp::eal_inputs in = dp::eal_inputs_from(cfg, profile, *n_workers);
  in.program = cl.program;
  in.user_eal_args = cl.eal;
  std::vector<std::string> eal_args = dp::build_eal_argv(in);
  std::fprintf(stderr, "sipfront: EAL arguments: %s\n", join(eal_args).c_str());
  if (eal_init(eal_args) < 0) {
    std::fprintf(stderr, "sipfront: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  if (rte_lcore_count() < *n_workers + 1) {
    std::fprintf(stderr, "config error: workers.count: %u workers need %u lcores but the EAL has %u\n", *n_workers,
                 *n_workers + 1, rte_lcore_count());
    (void)rte_eal_cleanup();
    return 2;
  }
  install_signal_handlers();

  int rc = 1;
  {
    auto rt = dp::runtime::create(dcfg, err);
    if (!rt) {
      std::fprintf(stderr, "sipfront: %s\n", err.c_str());
      (void)rte_eal_cleanup();
      return 1;
    }
    for (const dp::port_state& p : rt->shared().ports) {
      std::fprintf(stderr,
                   "sipfront: port %u %s: %s, %s/%u%s%s, mac %s, mtu %u, rx queues %u (workers %u), tx queues %u, "
                   "checksums rx %s tx %s\n",
                   p.dpdk_port, p.name.c_str(), p.driver.c_str(), dp::ipv4_to_string(p.addr.ip).c_str(),
                   p.addr.prefix_len, p.addr.gateway != 0 ? " via " : "",
                   p.addr.gateway != 0 ? dp::ipv4_to_string(p.addr.gateway).c_str() : "", dp::to_string(p.mac).c_str(),
                   p.mtu, p.n_rx_queues, *n_workers, p.n_tx_queues, p.rx_cksum_offload ? "nic" : "software",
                   p.tx_cksum_offload ? "nic" : "software");
    }
    std::fprintf(stderr, "sipfront: control lcore %u, %u workers on lcores", rte_get_main_lcore(), *n_workers);
    for (unsigned i = 0; i < rt->n_workers(); ++i) std::fprintf(stderr, " %u", rt->worker(i).lcore);
    std::fprintf(stderr, "; SIP on UDP port %u; SIGUSR1 prints counters\n", dcfg.sip_port);
    sipfront::dp::runtime::control_hook hook;
    if (dns) hook = [&dns](dp::runtime& r, std::uint64_t now) { return (*dns)(r, now); };
    rc = rt->run(g_signals, hook);
    std::fputs(rt->counters_report().c_str(), stdout);
    std::fputs(heap_report().c_str(), stdout);
    std::fflush(stdout);
  }  // ports stopped and closed, pools freed
  (void)rte_eal_cleanup();
  return rc;
}
