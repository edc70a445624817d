// SSE4.2 variant of the header index: 64-byte blocks classified by four 16-byte compares.
#include <nmmintrin.h>

#include <cstdint>

#include "index_impl.hpp"
#include "scan_impl.hpp"

namespace sipfront::sip::detail {
namespace {

// Plain SSE2 compares are the fastest way to build the masks; the variant keeps
// its name because it is selected with the rest of the SSE4.2 scanner.
__attribute__((target("sse4.2"))) inline block_masks classify(const char* p) noexcept {
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i co = _mm_set1_epi8(':');
  std::uint64_t l = 0;
  std::uint64_t c = 0;
  for (unsigned i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));  // NOLINT
    l |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)))) << (16 * i);
    c |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, co)))) << (16 * i);
  }
  return {l, c};
}

struct sse42_classifier {
  __attribute__((target("sse4.2"))) block_masks operator()(const char* p) const noexcept { return classify(p); }
};

}  // namespace

__attribute__((target("sse4.2"))) block_masks classify64_sse42(const char* p) noexcept { return classify(p); }

__attribute__((target("sse4.2"), flatten)) errc index_sse42(message& m, std::string_view datagram) noexcept {
  return indexer::run(m, datagram, sse42_classifier{});
}

}  // namespace sipfront::sip::detail
