// Private: word loads and SSE2 byte-class masks for the short runs the fast paths
// read (method, Request-URI, Call-ID, reason phrase, small integers). Every load
// stays inside the run it was given: a run that is not a multiple of the load size
// is covered by loads that overlap, never by reading past its end.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sipfront::sip::detail {

/// The N bytes at p as a little-endian integer: byte 0 in the low bits. One load
/// at run time; byte by byte when constant-evaluated (or on a big-endian target).
template <class T>
constexpr T load_le(const char* p) noexcept {
  if (!std::is_constant_evaluated() && std::endian::native == std::endian::little) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<T>(static_cast<T>(static_cast<unsigned char>(p[i])) << (8 * i));
  return v;
}
constexpr std::uint16_t load_le16(const char* p) noexcept { return load_le<std::uint16_t>(p); }
constexpr std::uint32_t load_le32(const char* p) noexcept { return load_le<std::uint32_t>(p); }
constexpr std::uint64_t load_le64(const char* p) noexcept { return load_le<std::uint64_t>(p); }
/// The `n` (4 <= n <= 8) bytes at `p` as a little-endian number, zero above them:
/// two overlapping four-byte loads, or one of eight (never a byte past p + n).
constexpr std::uint64_t load_tail8(const char* p, std::size_t n) noexcept {
  if (n == 8) return load_le64(p);
  // The overlap holds the same bytes in both halves.
  return load_le32(p) | (std::uint64_t{load_le32(p + n - 4)} << (8 * (n - 4)));
}
/// The K (<= 8) bytes at `p` as a little-endian number, in whole loads of four,
/// two and one bytes (a memcpy of an odd size would go through the stack).
template <std::size_t K>
constexpr std::uint64_t load_le_bytes(const char* p) noexcept {
  static_assert(K <= 8);
  if constexpr (K == 0) {
    return 0;
  } else if constexpr (K >= 4) {
    return load_le32(p) | (load_le_bytes<K - 4>(p + 4) << 32);
  } else if constexpr (K >= 2) {
    return load_le16(p) | (load_le_bytes<K - 2>(p + 2) << 16);
  } else {
    return static_cast<unsigned char>(*p);
  }
}
/// The bytes of a literal (at most 8) as the load_le() of them would give.
constexpr std::uint64_t word_of(std::string_view s) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  return v;
}

#if defined(__SSE2__)
inline __m128i load16(const char* p) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

/// Bytes of v in [lo, hi] (unsigned): shifted so that the range starts at -128,
/// one signed compare tests both ends.
template <unsigned char Lo, unsigned char Hi>
inline __m128i in_range(__m128i v) noexcept {
  static_assert(Lo <= Hi);
  const __m128i t = _mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(0x80 - Lo)));
  return _mm_cmplt_epi8(t, _mm_set1_epi8(static_cast<char>(-128 + (Hi - Lo + 1))));
}

/// Bytes of v in [lo, hi] (unsigned), as in_range(), with the compare's result in
/// the shifted copy (the range moved to the top, [127 - (hi - lo), 127]) rather
/// than in a copy of the constant: one register move fewer per use.
template <unsigned char Lo, unsigned char Hi>
inline __m128i in_range_top(__m128i v) noexcept {
  static_assert(Lo <= Hi);
  const __m128i t = _mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(127 - Hi)));
  return _mm_cmpgt_epi8(t, _mm_set1_epi8(static_cast<char>(126 - (Hi - Lo))));
}

inline __m128i load8x2(const char* p, const char* q) noexcept {
  return _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),   // NOLINT
                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q)));  // NOLINT
}

/// The bytes of [p, p+n), 8 <= n <= 64, that `mark` flags (a function of one
/// vector giving 0xff per marked byte): bit i for byte i. Below 16 bytes the vector is
/// the two 8-byte halves [p, p+8) and [p+n-8, p+n); up to 32, the 16-byte loads at
/// p and at p+n-16; beyond, 16-byte steps with the last load ending at p+n. Where
/// loads overlap a byte lands on the same bit twice, so the result is exact.
/// One mask serves as both the class test (zero) and the positions of the
/// exceptions a caller then looks at.
template <class Mark>
inline std::uint64_t mark_run(const char* p, std::size_t n, Mark mark) noexcept {
  const auto bits = [&](__m128i v) noexcept {
    return std::uint64_t{static_cast<std::uint32_t>(_mm_movemask_epi8(mark(v)))};
  };
  if (n < 16) {
    const std::uint64_t m = bits(load8x2(p, p + n - 8));
    return (m & 0xffU) | ((m >> 8) << (n - 8));
  }
  std::uint64_t r = bits(load16(p)) | (bits(load16(p + n - 16)) << (n - 16));
  for (std::size_t off = 16; off < n - 16; off += 16) r |= bits(load16(p + off)) << off;
  return r;
}

/// True when no byte of [p, p+n), n >= 8, is one `bad` flags (a function of one
/// vector giving 0xff per bad byte). Any length: the last load ends at p+n.
template <class Bad>
inline bool no_byte(const char* p, std::size_t n, Bad bad) noexcept {
  // One movemask and compare for every length, so that a caller's branch is on it.
  __m128i acc;
  if (n < 16) {
    acc = bad(load8x2(p, p + n - 8));
  } else {
    acc = _mm_or_si128(bad(load16(p)), bad(load16(p + n - 16)));
    for (std::size_t off = 16; off + 16 < n; off += 16) acc = _mm_or_si128(acc, bad(load16(p + off)));
  }
  return _mm_movemask_epi8(acc) == 0;
}

/// True when every byte of [p, p+n), n >= 8, is one `good` accepts (a function of
/// one vector giving 0xff per good byte). Any length, as no_byte().
template <class Good>
inline bool all_bytes(const char* p, std::size_t n, Good good) noexcept {
  __m128i acc;  // as no_byte(): one movemask and compare
  if (n < 16) {
    acc = good(load8x2(p, p + n - 8));
  } else {
    acc = _mm_and_si128(good(load16(p)), good(load16(p + n - 16)));
    for (std::size_t off = 16; off + 16 < n; off += 16) acc = _mm_and_si128(acc, good(load16(p + off)));
  }
  return _mm_movemask_epi8(acc) == 0xffff;
}
#endif

}  // namespace sipfront::sip::detail
