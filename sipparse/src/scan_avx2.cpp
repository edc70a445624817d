// AVX2 variant of the header index: 64-byte blocks classified by two 32-byte compares.
#include <immintrin.h>

#include <cstdint>

#include "index_impl.hpp"
#include "scan_impl.hpp"

namespace sipfront::sip::detail {

namespace {

__attribute__((target("avx2"))) inline std::uint64_t bits(__m256i v, __m256i c) noexcept {
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, c)));
}

__attribute__((target("avx2"))) inline block_masks classify(const char* p) noexcept {
  const __m256i nl = _mm256_set1_epi8('\n');
  const __m256i co = _mm256_set1_epi8(':');
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));       // NOLINT
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));  // NOLINT
  return {bits(a, nl) | (bits(b, nl) << 32), bits(a, co) | (bits(b, co) << 32)};
}

// The line ends only (the index uses no colon mask). In asm, with the broadcast
// loaded from memory each block: a 256-bit value in the function's own code makes
// GCC realign its frame to 32 bytes, which takes rbp as frame pointer even when no
// 256-bit value is ever spilled, and then the index loop's state spills. The upper
// halves are not cleared per block: GCC puts a vzeroupper before each call out of
// index_avx2() (parse_start_line, general_line, frame_body) and every return after
// a block follows one of those calls (checked in the disassembly), so SSE callers see
// no AVX-SSE transition.
alignas(32) constexpr char k_lf32[32] = {'\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
                                         '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
                                         '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n'};
struct avx2_classifier {
  block_masks operator()(const char* p) const noexcept {
    std::uint64_t lo;
    std::uint64_t hi;
    asm("vmovdqa %[k], %%ymm0\n\t"
        "vpcmpeqb %[a], %%ymm0, %%ymm1\n\t"
        "vpcmpeqb %[b], %%ymm0, %%ymm0\n\t"
        "vpmovmskb %%ymm1, %k[lo]\n\t"
        "vpmovmskb %%ymm0, %k[hi]"
        : [lo] "=r"(lo), [hi] "=r"(hi)
        : [k] "m"(k_lf32), [a] "m"(*reinterpret_cast<const char(*)[32]>(p)),  // NOLINT
          [b] "m"(*reinterpret_cast<const char(*)[32]>(p + 32))               // NOLINT
        : "xmm0", "xmm1");
    return {lo | (hi << 32), 0};
  }
};

}  // namespace

__attribute__((target("avx2"))) block_masks classify64_avx2(const char* p) noexcept { return classify(p); }

// BMI1 too (every AVX2 CPU has it; isa_supported() checks): the walker's bit steps
// become blsmsk, andn and tzcnt.
__attribute__((target("avx2,bmi"), flatten)) errc index_avx2(message& m, std::string_view datagram) noexcept {
  return indexer::run(m, datagram, avx2_classifier{});
}

}  // namespace sipfront::sip::detail
