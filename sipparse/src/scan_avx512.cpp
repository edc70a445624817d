// AVX-512BW variant of the header index: a 64-byte block classified by one compare
// into a mask register, one move to a general register.
#include <immintrin.h>

#include <cstdint>

#include "index_impl.hpp"
#include "scan_impl.hpp"

namespace sipfront::sip::detail {

namespace {

__attribute__((target("avx512bw"))) inline block_masks classify(const char* p) noexcept {
  const __m512i v = _mm512_loadu_si512(p);
  return {_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n')), _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(':'))};
}

// The line ends only (the index uses no colon mask), against a broadcast made once
// per datagram rather than once per block.
struct avx512_classifier {
  __m512i nl;
  __attribute__((target("avx512bw"))) block_masks operator()(const char* p) const noexcept {
    return {_mm512_cmpeq_epi8_mask(_mm512_loadu_si512(p), nl), 0};
  }
};

}  // namespace

__attribute__((target("avx512bw"))) block_masks classify64_avx512(const char* p) noexcept { return classify(p); }

// BMI1 too, as for AVX2 (isa_supported() checks both).
__attribute__((target("avx512bw,bmi"), flatten)) errc index_avx512(message& m, std::string_view datagram) noexcept {
  __m512i nl = _mm512_set1_epi8('\n');
  asm("" : "+v"(nl));  // opaque: GCC would rebuild the constant in every block otherwise
  return indexer::run(m, datagram, avx512_classifier{nl});
}

}  // namespace sipfront::sip::detail
