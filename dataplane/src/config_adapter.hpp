// From the validated protobuf config and NIC profile (ctrl) to the dataplane's
// plain configuration. Lives with the daemon, not in the dataplane library, so the
// library (and its tests) does not depend on protobuf.
#pragma once

#include <optional>
#include <vector>

#include "sipfront/ctrl/config.hpp"
#include "sipfront/dataplane/cli.hpp"
#include "sipfront/dataplane/runtime.hpp"

namespace sipfront::dp {

/// The EAL inputs the config and profile determine (the user's EAL options are
/// added by the caller).
eal_inputs eal_inputs_from(const v1::Config& cfg, const v1::NicProfile& profile, unsigned n_workers);

/// Fills `out` for `n_workers` workers. The engine configs' views point into `cfg`
/// and `setups`, which must outlive the runtime.
std::optional<ctrl::config_error> make_dataplane_config(const v1::Config& cfg, const v1::NicProfile& profile,
                                                        unsigned n_workers, std::vector<ctrl::engine_setup>& setups,
                                                        dataplane_config& out);

}  // namespace sipfront::dp
