// Byte scanning for the header index, in SIMD variants with a scalar twin.
//
// The variant is chosen once, at first use, from the CPU's features; tests and
// benchmarks can ask for a specific one. All variants return the same answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sipfront/sipparse/error.hpp"

namespace sipfront::sip {

enum class scan_isa : std::uint8_t { scalar, sse42, avx2 };

/// Bit i set when byte i of a 64-byte block is '\n' (lf) or ':' (colon).
struct block_masks {
  std::uint64_t lf;
  std::uint64_t colon;
};

class message;

struct scanner {
  scan_isa isa;
  /// Classifies the 64 readable bytes at `p`. The header index streams the datagram
  /// through this once, so each line end and separator costs a bit scan, not a byte loop.
  block_masks (*classify64)(const char* p) noexcept;
  /// The header index of message::parse(), built around this variant's classifier.
  errc (*index)(message& m, std::string_view datagram) noexcept;
};

/// The scanner of a given variant. Asking for one the CPU lacks returns the scalar one.
const scanner& scanner_for(scan_isa isa) noexcept;
/// True when this CPU can run the variant.
bool isa_supported(scan_isa isa) noexcept;
/// The fastest variant this CPU supports.
const scanner& best_scanner() noexcept;
std::string_view to_string(scan_isa isa) noexcept;

namespace detail {
/// SSE2 is part of x86-64 itself, so the SIMD variants below need no run-time
/// selection; the scalar twins serve other targets and the tests compare the two.
///
/// Bit i set when p[i] (i < n <= 64) splits or nests a list entry (, " < > backslash);
/// bytes at n and beyond are not read. The list splitter walks these masks 64
/// bytes at a time instead of restarting a search after every special byte.
std::uint64_t list_special_mask64_scalar(const char* p, std::size_t n) noexcept;
#if defined(__SSE2__)
std::uint64_t list_special_mask64_sse2(const char* p, std::size_t n) noexcept;
/// The full-block case of list_special_mask64_sse2(), inline for the splitter's loop.
inline std::uint64_t list_special_mask64_full(const char* p) noexcept {
  std::uint64_t m = 0;
  for (unsigned i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));  // NOLINT
    const __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))),
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('<')), _mm_cmpeq_epi8(v, _mm_set1_epi8('>'))),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    m |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(hit))) << (16 * i);
  }
  return m;
}
#endif
inline std::uint64_t list_special_mask64(const char* p, std::size_t n) noexcept {
#if defined(__SSE2__)
  return n >= 64 ? list_special_mask64_full(p) : list_special_mask64_sse2(p, n);
#else
  return list_special_mask64_scalar(p, n);
#endif
}

/// The first '"' or backslash in [p, end), or end: the bytes a quoted-string stops at.
const char* find_quote_or_backslash_scalar(const char* p, const char* end) noexcept;
#if defined(__SSE2__)
const char* find_quote_or_backslash_sse2(const char* p, const char* end) noexcept;
#endif
inline const char* find_quote_or_backslash(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  return find_quote_or_backslash_sse2(p, end);
#else
  return find_quote_or_backslash_scalar(p, end);
#endif
}

}  // namespace detail

}  // namespace sipfront::sip
