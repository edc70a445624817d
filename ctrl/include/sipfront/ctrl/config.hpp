// Loading and validating the startup config and NIC profiles (control path:
// allocation and exceptions from protobuf are contained here; errors are values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipfront/ctrl/dns.hpp"
#include "sipfront/regengine/engine.hpp"
#include "sipfront/v1/config.pb.h"

namespace sipfront::ctrl {

/// Where a config is wrong and why: `path` is the field path in JSON names
/// ("interfaces[1].address"), `reason` a sentence a person can act on.
struct config_error {
  std::string path;
  std::string reason;
  [[nodiscard]] std::string to_string() const { return path.empty() ? reason : path + ": " + reason; }
};

/// Parses protobuf JSON into `out`, fills defaults, validates. On error `out` is unspecified.
/// Unknown field names are refused (a typo must not silently fall back to a default).
std::optional<config_error> parse_config_json(std::string_view json, v1::Config& out);
/// Reads `file` and calls parse_config_json. File errors are reported with path "".
std::optional<config_error> load_config(const std::string& file, v1::Config& out);
/// Fills unset fields with their documented defaults (see config.proto).
void apply_defaults(v1::Config& cfg);
/// Checks a config with defaults applied; reports the first problem found.
std::optional<config_error> validate_config(const v1::Config& cfg);

/// As parse_config_json for a NIC profile (no defaults: a profile states everything).
std::optional<config_error> parse_profile_json(std::string_view json, v1::NicProfile& out);
std::optional<config_error> load_profile(const std::string& file, v1::NicProfile& out);
std::optional<config_error> validate_profile(const v1::NicProfile& p);

struct ipv4_prefix {
  std::uint32_t addr = 0;  ///< host byte order
  std::uint8_t len = 0;
  friend bool operator==(const ipv4_prefix&, const ipv4_prefix&) = default;
};
/// "198.18.1.1" → address (host byte order). Strict dotted quad: four decimal
/// octets, no leading zeros (so "010" is never read as octal), nothing around it.
std::optional<std::uint32_t> parse_ipv4(std::string_view s);
/// "198.18.1.1/24" → address and prefix length (0..32).
std::optional<ipv4_prefix> parse_ipv4_prefix(std::string_view s);
/// "198.18.2.2[:5060]" → address and port (default_port when absent; port 0 is refused).
/// port_id is left 0: which front-end port reaches it is decided by make_engine_config.
std::optional<reg::endpoint> parse_ipv4_endpoint(std::string_view s, std::uint16_t default_port);
/// Host-order address → "198.18.1.1".
std::string format_ipv4(std::uint32_t addr);
std::string to_string(const ipv4_prefix& p);

/// A worker's engine_config together with the storage its views need:
/// `engine.policy.supported_options` spans over `supported_options` and
/// `engine.credentials` over `credentials`, whose string_views (like the registrar
/// domains) point into the v1::Config it was made from. Copies and moves re-point the span at their own storage, so an
/// engine_setup may be passed around freely; it (and the v1::Config) must
/// outlive any reg::engine constructed from `engine`.
struct engine_setup {
  reg::engine_config engine{};
  std::vector<std::string_view> supported_options;
  std::vector<reg::credential> credentials;

  engine_setup() = default;
  engine_setup(const engine_setup& other);
  engine_setup(engine_setup&& other) noexcept;
  engine_setup& operator=(const engine_setup& other);
  engine_setup& operator=(engine_setup&& other) noexcept;
  ~engine_setup() = default;

 private:
  void rebind() noexcept {
    engine.policy.supported_options = supported_options;
    engine.credentials = credentials;
  }
};

/// The engine configuration for one worker of a validated config (defaults applied).
/// Registrar index i (1..6) goes to `engine.registrars[i - 1]` (a `host` registrar
/// as `dynamic` with that host and no address: the engine learns it from
/// resolve_registrar); `n_registrars` is the
/// highest configured index, unconfigured slots below it have `addr.ip == 0`;
/// `default_registrar` is the slot (index - 1) of passthrough.defaultRegistrar.
/// access_local/core_local are the first ACCESS-/CORE-capable interface's address
/// with sip.udpPort; every endpoint's port_id is the interface (DPDK port) that reaches it.
/// `mode` follows passthrough.mode; `registrar` takes localRegistrar's expiries and
/// rateLimit's failCount, and rateLimit.outExpires when rateLimit.enabled (else 0:
/// the registrar is asked for what the phone was granted); `max_bindings` is
/// localRegistrar.maxBindingsPerWorker.
/// `reg_mode` follows registrarMode and `registrar_order` registrarIndex (empty when
/// none is listed: the engine then uses defaultRegistrar alone). `spike` is left
/// nullptr: the one spike_pool for all workers is built by the runtime from
/// make_spike_config() and set on every worker's engine_config. `credentials` holds
/// one reg::credential per config entry, in order (validated: at most
/// reg::max_credentials), each field a view of the entry's string (username empty
/// when not set: the engine takes the AOR's user part).
engine_setup make_engine_config(const v1::Config& cfg, unsigned worker_id, unsigned n_workers);

/// The resolver settings of `dns` (defaults applied; servers parsed).
resolver_config make_resolver_config(const v1::Config& cfg);
/// The registrars given by `host`, in config order: what the resolver resolves.
std::vector<dns_name> dynamic_registrars(const v1::Config& cfg);
/// The DPDK port (interface index) that reaches core-side address `ip`, as
/// make_engine_config derives it for static registrars: a core port whose subnet
/// holds it, else the first core port with a gateway; none when unreachable.
std::optional<std::uint16_t> core_port_for(const v1::Config& cfg, std::uint32_t ip);
/// Whether DNS may give a registrar address `ip`: the checks a static address
/// passes (unicast, not the front end's own, reachable through a core-side port).
bool usable_registrar_address(const v1::Config& cfg, std::uint32_t ip);
/// A resolved dynamic registrar's endpoint (`port_id` from core_port_for, the
/// first core port when unreachable: the resolver's filter keeps those out).
reg::endpoint registrar_endpoint(const v1::Config& cfg, std::uint32_t ip, std::uint16_t port);

/// overload as the regengine's spike_config (reservePercent 10 when unset; a
/// validated config has its defaults applied).
reg::spike_config make_spike_config(const v1::Config& cfg);

}  // namespace sipfront::ctrl
