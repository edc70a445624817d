#include "sipfront/sipparse/scan.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "index_impl.hpp"
#include "scan_impl.hpp"
#include "sipfront/sipparse/chars.hpp"

namespace sipfront::sip {
namespace detail {

block_masks classify64_scalar(const char* p) noexcept {
  std::uint64_t l = 0;
  std::uint64_t c = 0;
  for (unsigned i = 0; i < 64; ++i) {
    l |= static_cast<std::uint64_t>(p[i] == '\n') << i;
    c |= static_cast<std::uint64_t>(p[i] == ':') << i;
  }
  return {l, c};
}

errc index_scalar(message& m, std::string_view datagram) noexcept {
  struct scalar_classifier {
    block_masks operator()(const char* p) const noexcept { return classify64_scalar(p); }
  };
  return indexer::run(m, datagram, scalar_classifier{});
}

std::uint64_t list_special_mask64_scalar(const char* p, std::size_t n) noexcept {
  std::uint64_t m = 0;
  for (std::size_t i = 0; i < n && i < 64; ++i) {
    if (chars::is(p[i], chars::k_list_special)) m |= std::uint64_t{1} << i;
  }
  return m;
}

const char* find_quote_or_backslash_scalar(const char* p, const char* end) noexcept {
  while (p < end && *p != '"' && *p != '\\') ++p;
  return p;
}

#if defined(__SSE2__)
namespace {

// First byte of [p, end) equal to one of Cs, 16 bytes per step; the last <16
// bytes go to `tail`, so nothing past `end` is read.
template <char... Cs>
const char* find_any_sse2(const char* p, const char* end,
                          const char* (*tail)(const char*, const char*) noexcept) noexcept {
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));  // NOLINT
    __m128i hit = _mm_setzero_si128();
    ((hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8(Cs)))), ...);
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
  return tail(p, end);
}

}  // namespace

std::uint64_t list_special_mask64_sse2(const char* p, std::size_t n) noexcept {
  if (n < 64) {
    alignas(16) char tail[64] = {};  // NUL is not special: the copy's padding adds no bits
    std::memcpy(tail, p, n);
    return list_special_mask64_full(tail);
  }
  return list_special_mask64_full(p);
}

const char* find_quote_or_backslash_sse2(const char* p, const char* end) noexcept {
  return find_any_sse2<'"', '\\'>(p, end, find_quote_or_backslash_scalar);
}
#endif

}  // namespace detail

namespace {

constexpr scanner k_scalar{scan_isa::scalar, detail::classify64_scalar, detail::index_scalar};
constexpr scanner k_sse42{scan_isa::sse42, detail::classify64_sse42, detail::index_sse42};
constexpr scanner k_avx2{scan_isa::avx2, detail::classify64_avx2, detail::index_avx2};

}  // namespace

bool isa_supported(scan_isa isa) noexcept {
  switch (isa) {
    case scan_isa::scalar: return true;
    case scan_isa::sse42: return __builtin_cpu_supports("sse4.2") != 0;
    case scan_isa::avx2: return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("bmi") != 0;
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
