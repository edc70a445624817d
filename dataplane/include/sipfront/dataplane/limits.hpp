// Compile-time bounds of the dataplane, sized so per-worker arrays stay small
// fixed arrays of pointers (no allocation on the hot path, no RTE_MAX_LCORE arrays).
#pragma once

#include <cstddef>

namespace sipfront::dp {

/// Worker lcores. The ring grid is max_workers^2 SPSC rings at most (1024 at 32);
/// a registration front end saturates a NIC long before 32 cores.
inline constexpr unsigned max_workers = 32;
/// Front-end interfaces (access, core, and a few more for multi-homed cores).
inline constexpr unsigned max_ports = 8;
/// Largest rx/tx burst.
inline constexpr unsigned max_burst = 64;

}  // namespace sipfront::dp
