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

// The bytes of a token of 3..8 bytes as one word (the first 8 of a 9-byte token):
// within one length, equal words mean equal tokens. The two 4-byte loads overlap
// for lengths 5 to 7.
constexpr std::uint64_t method_word(const char* p, std::size_t n) noexcept {
  if (n >= 8) return load_le64(p);
  if (n >= 4) return load_le32(p) | static_cast<std::uint64_t>(load_le32(p + n - 4)) << 32;
  return load_le16(p) | static_cast<std::uint64_t>(static_cast<unsigned char>(p[2])) << 16;
}

// Well-known methods by a perfect hash of length and first letter: no two names
// share a slot (checked below), so one slot and one word compare decide.
struct method_slot {
  std::uint64_t word = 0;  ///< method_word() of the name
  std::uint8_t len = 0;    ///< 0: empty slot (no token is that short)
  char ninth = 0;          ///< the byte method_word() leaves out of a 9-byte name
  method m = method::extension;
};
constexpr std::size_t k_min_method = 3;
constexpr std::size_t k_max_method = 9;
constexpr std::size_t method_hash(char first, std::size_t n) noexcept {
  return ((static_cast<unsigned char>(first) & 31U) + n * 11) & 31U;
}
constexpr auto k_method_slots = [] {
  std::array<method_slot, 32> t{};
  for (const method_name& k : k_methods) {
    method_slot& s = t[method_hash(k.token[0], k.token.size())];
    s.word = method_word(k.token.data(), k.token.size());
    s.len = static_cast<std::uint8_t>(k.token.size());
    s.ninth = k.token.size() > 8 ? k.token[8] : '\0';
    s.m = k.m;
  }
  return t;
}();
static_assert(
    [] {
      std::size_t used = 0;
      for (const method_slot& s : k_method_slots) used += s.len != 0 ? 1 : 0;
      for (const method_name& k : k_methods) {
        if (k.token.size() < k_min_method || k.token.size() > k_max_method) return false;
      }
      return used == k_methods.size();
    }(),
    "two well-known methods share a hash slot, or one is outside 3..9 bytes");

inline method lookup_method(std::string_view token) noexcept {
  // Every request line and CSeq goes through here: one slot, one word compare.
  const std::size_t n = token.size();
  if (n - k_min_method > k_max_method - k_min_method) return method::extension;
  const method_slot& s = k_method_slots[method_hash(token[0], n)];
  if (s.len != n || s.word != method_word(token.data(), n)) return method::extension;
  if (n == k_max_method && token[8] != s.ninth) return method::extension;
  return s.m;
}

}  // namespace sipfront::sip::detail
