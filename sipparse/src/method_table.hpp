// Private: the well-known methods and the lookup behind method_from_token(),
// inline so that the request-line and CSeq fast paths compile it into their code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "short_runs.hpp"
#include "sipfront/sipparse/names.hpp"

namespace sipfront::sip::detail {

struct method_name {
  std::string_view token;
  method m;
};
constexpr std::array<method_name, 14> k_methods{{
    {"INVITE", method::invite},
    {"ACK", method::ack},
    {"BYE", method::bye},
    {"CANCEL", method::cancel},
    {"REGISTER", method::register_},
    {"OPTIONS", method::options},
    {"INFO", method::info},
    {"UPDATE", method::update},
    {"PRACK", method::prack},
    {"SUBSCRIBE", method::subscribe},
    {"NOTIFY", method::notify},
    {"REFER", method::refer},
    {"MESSAGE", method::message},
    {"PUBLISH", method::publish},
}};

// The first min(n, 8) bytes of a token of 3..9 bytes as a little-endian word
// (byte 0 lowest, the rest zero): within one length, equal words mean equal
// tokens but for a 9-byte token's last byte. Two 4-byte loads overlap for 5..7.
constexpr std::uint64_t method_word(const char* p, std::size_t n) noexcept {
  if (n >= 4) return load_tail8(p, n < 8 ? n : 8);
  return load_le16(p) | static_cast<std::uint64_t>(static_cast<unsigned char>(p[2])) << 16;
}

// Well-known methods by a perfect hash of length and first letter: no two names
// share a slot (checked below), so one slot and one word compare decide. Columns
// rather than records, so that each is indexed by the slot without a multiply.
struct method_slots {
  std::array<std::uint64_t, 32> word{};  ///< method_word() of the name
  std::array<std::uint8_t, 32> len{};    ///< 0: empty slot (no token is that short)
  std::array<char, 32> ninth{};          ///< the byte method_word() leaves out of a 9-byte name
  std::array<method, 32> m{};
};
constexpr std::size_t k_min_method = 3;
constexpr std::size_t k_max_method = 9;
constexpr std::size_t method_hash(char first, std::size_t n) noexcept {
  return ((static_cast<unsigned char>(first) & 31U) + n * 11) & 31U;
}
constexpr method_slots k_method_slots = [] {
  method_slots t;
  for (const method_name& k : k_methods) {
    const std::size_t h = method_hash(k.token[0], k.token.size());
    t.word[h] = method_word(k.token.data(), k.token.size());
    t.len[h] = static_cast<std::uint8_t>(k.token.size());
    t.ninth[h] = k.token.size() > 8 ? k.token[8] : '\0';
    t.m[h] = k.m;
  }
  return t;
}();
static_assert(
    [] {
      std::size_t used = 0;
      for (const std::uint8_t n : k_method_slots.len) used += n != 0 ? 1 : 0;
      for (const method_name& k : k_methods) {
        if (k.token.size() < k_min_method || k.token.size() > k_max_method) return false;
      }
      return used == k_methods.size();
    }(),
    "two well-known methods share a hash slot, or one is outside 3..9 bytes");

/// Whether a token of n bytes at p, given its method_word(), is a well-known
/// method (any n: a slot's length, 3..9 or 0, must match), and which. A bool
/// rather than method::extension, so that callers branch on the compares alone.
inline bool find_method_word(const char* p, std::size_t n, std::uint64_t word, method& out) noexcept {
  const std::size_t h = method_hash(static_cast<char>(word & 0xff), n);
  if (k_method_slots.len[h] != n || k_method_slots.word[h] != word) return false;
  if (n == k_max_method && p[8] != k_method_slots.ninth[h]) return false;
  out = k_method_slots.m[h];
  return true;
}

/// The well-known method a token of n bytes at p is, given its method_word().
inline method lookup_method_word(const char* p, std::size_t n, std::uint64_t word) noexcept {
  method m = method::extension;
  return find_method_word(p, n, word, m) ? m : method::extension;
}

inline method lookup_method(std::string_view token) noexcept {
  const std::size_t n = token.size();
  if (n < k_min_method) return method::extension;  // method_word() reads 3..8 bytes
  return lookup_method_word(token.data(), n, method_word(token.data(), n));
}

}  // namespace sipfront::sip::detail
