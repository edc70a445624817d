// Private: the per-ISA scanning functions behind sipfront::sip::scanner.
#pragma once

#include <cstdint>

#include "sipfront/sipparse/scan.hpp"

namespace sipfront::sip::detail {

const char* find_lf_scalar(const char* p, const char* end) noexcept;
const char* find_colon_or_eol_scalar(const char* p, const char* end) noexcept;
const char* find_lf_sse42(const char* p, const char* end) noexcept;
const char* find_colon_or_eol_sse42(const char* p, const char* end) noexcept;
const char* find_lf_avx2(const char* p, const char* end) noexcept;
const char* find_colon_or_eol_avx2(const char* p, const char* end) noexcept;
block_masks classify64_scalar(const char* p) noexcept;
block_masks classify64_sse42(const char* p) noexcept;
block_masks classify64_avx2(const char* p) noexcept;

/// First byte in [p, end) that splits or nests a list entry (, " < > backslash), or end.
/// SSE2 is part of x86-64 itself, so that variant needs no run-time selection;
/// the scalar twin serves other targets and the tests compare the two.
const char* find_list_special_scalar(const char* p, const char* end) noexcept;
#if defined(__SSE2__)
const char* find_list_special_sse2(const char* p, const char* end) noexcept;
#endif
inline const char* find_list_special(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  return find_list_special_sse2(p, end);
#else
  return find_list_special_scalar(p, end);
#endif
}

}  // namespace sipfront::sip::detail
