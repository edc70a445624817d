#include "sipfront/sipparse/scan.hpp"

#include "scan_impl.hpp"

namespace sipfront::sip {
namespace detail {

const char* find_lf_scalar(const char* p, const char* end) noexcept {
  while (p < end && *p != '\n') ++p;
  return p;
}

const char* find_colon_or_eol_scalar(const char* p, const char* end) noexcept {
  while (p < end && *p != ':' && *p != '\r' && *p != '\n') ++p;
  return p;
}

}  // namespace detail

namespace {

constexpr scanner k_scalar{scan_isa::scalar, detail::find_lf_scalar, detail::find_colon_or_eol_scalar};
constexpr scanner k_sse42{scan_isa::sse42, detail::find_lf_sse42, detail::find_colon_or_eol_sse42};
constexpr scanner k_avx2{scan_isa::avx2, detail::find_lf_avx2, detail::find_colon_or_eol_avx2};

}  // namespace

bool isa_supported(scan_isa isa) noexcept {
  switch (isa) {
    case scan_isa::scalar: return true;
    case scan_isa::sse42: return __builtin_cpu_supports("sse4.2") != 0;
    case scan_isa::avx2: return __builtin_cpu_supports("avx2") != 0;
  }
  return false;
}

const scanner& scanner_for(scan_isa isa) noexcept {
  if (!isa_supported(isa)) return k_scalar;
  switch (isa) {
    case scan_isa::sse42: return k_sse42;
    case scan_isa::avx2: return k_avx2;
    case scan_isa::scalar: break;
  }
  return k_scalar;
}

const scanner& best_scanner() noexcept {
  // Resolved once; immutable afterwards (a function-local static is thread-safe).
  static const scanner& best = isa_supported(scan_isa::avx2)    ? k_avx2
                               : isa_supported(scan_isa::sse42) ? k_sse42
                                                                : k_scalar;
  return best;
}

std::string_view to_string(scan_isa isa) noexcept {
  switch (isa) {
    case scan_isa::scalar: return "scalar";
    case scan_isa::sse42: return "sse42";
    case scan_isa::avx2: return "avx2";
  }
  return "?";
}

}  // namespace sipfront::sip
