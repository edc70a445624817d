// Character classes of the SIP grammar (RFC 3261 §25.1), as constexpr tables.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sipfront::sip::chars {

// One table lookup answers "is c in class X" for every class a grammar rule
// needs, including the unions with a few extra characters (password, hvalue,
// Call-ID word...), so no rule falls back to searching a string of extras.
enum : std::uint32_t {
  k_token = 1U << 0,  ///< token: alphanum / "-.!%*_+`'~"
  k_digit = 1U << 1,
  k_alpha = 1U << 2,
  k_ws = 1U << 3,           ///< SP / HTAB
  k_unreserved = 1U << 4,   ///< alphanum / mark
  k_user_unres = 1U << 5,   ///< "&=+$,;?/"
  k_param_unres = 1U << 6,  ///< "[]/:&+$"
  k_hex = 1U << 7,
  k_password = 1U << 8,       ///< unreserved / "&=+$,"
  k_hnv = 1U << 9,            ///< URI header name/value: unreserved / "[]/?:+$"
  k_word = 1U << 10,          ///< Call-ID word: alphanum / "-.!%*_+`'~()<>:\\\"/[]?{}"
  k_gen_value = 1U << 11,     ///< header param value without quotes: token / ":[]" (host)
  k_ruri = 1U << 12,          ///< may appear in a Request-URI on the request line: VCHAR but <>"
  k_list_special = 1U << 13,  ///< splits or nests a list entry: , " < > backslash
  k_user = 1U << 14,          ///< SIP URI user: unreserved / user-unreserved
  k_pchar = 1U << 15,         ///< SIP URI param name/value: unreserved / param-unreserved
  k_host = 1U << 16,          ///< hostname or IPv4address characters: alphanum / "-" / "."
  k_addr_spec = 1U << 17,     ///< may continue an addr-spec URI: any byte but ; , SP HTAB CR LF
};

constexpr std::array<std::uint32_t, 256> make_table() noexcept {
  std::array<std::uint32_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] |= k_token | k_digit | k_unreserved | k_hex;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] |= k_token | k_alpha | k_unreserved;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] |= k_token | k_alpha | k_unreserved;
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] |= k_hex;
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] |= k_hex;
  for (char c : std::string_view("-.!%*_+`'~")) t[static_cast<unsigned char>(c)] |= k_token;
  for (char c : std::string_view("-_.!~*'()")) t[static_cast<unsigned char>(c)] |= k_unreserved;
  for (char c : std::string_view("&=+$,;?/")) t[static_cast<unsigned char>(c)] |= k_user_unres;
  for (char c : std::string_view("[]/:&+$")) t[static_cast<unsigned char>(c)] |= k_param_unres;
  t[' '] |= k_ws;
  t['\t'] |= k_ws;
  for (std::size_t c = 0; c < 256; ++c) {
    if ((t[c] & k_unreserved) != 0) t[c] |= k_password | k_hnv;
    if ((t[c] & k_token) != 0) t[c] |= k_gen_value;
    if ((t[c] & (k_alpha | k_digit)) != 0) t[c] |= k_word;
    if (c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"') t[c] |= k_ruri;
    if ((t[c] & (k_unreserved | k_user_unres)) != 0) t[c] |= k_user;
    if ((t[c] & (k_unreserved | k_param_unres)) != 0) t[c] |= k_pchar;
    if ((t[c] & (k_alpha | k_digit)) != 0 || c == '-' || c == '.') t[c] |= k_host;
    if (c != ';' && c != ',' && c != ' ' && c != '\t' && c != '\r' && c != '\n') t[c] |= k_addr_spec;
  }
  for (char c : std::string_view("&=+$,")) t[static_cast<unsigned char>(c)] |= k_password;
  for (char c : std::string_view("[]/?:+$")) t[static_cast<unsigned char>(c)] |= k_hnv;
  for (char c : std::string_view("-.!%*_+`'~()<>:\\\"/[]?{}")) t[static_cast<unsigned char>(c)] |= k_word;
  for (char c : std::string_view(":[]")) t[static_cast<unsigned char>(c)] |= k_gen_value;
  for (char c : std::string_view(",\"<>\\")) t[static_cast<unsigned char>(c)] |= k_list_special;
  return t;
}

inline constexpr std::array<std::uint32_t, 256> table = make_table();

constexpr bool is(char c, std::uint32_t cls) noexcept { return (table[static_cast<unsigned char>(c)] & cls) != 0; }
constexpr bool is_token(char c) noexcept { return is(c, k_token); }

/// The first byte of [p, end) outside class `cls`, or end.
constexpr const char* skip_class(const char* p, const char* end, std::uint32_t cls) noexcept {
  while (p < end && is(*p, cls)) ++p;
  return p;
}

/// skip_class() for one class bit and runs that are often long (parameter values,
/// tags, branches): four bytes per step, one branch for the four, since the AND of
/// their table entries has the bit exactly when all four are in the class.
template <std::uint32_t Cls>
constexpr const char* skip_class4(const char* p, const char* end) noexcept {
  static_assert(Cls != 0 && (Cls & (Cls - 1)) == 0, "one class bit");
  auto t = [](char c) { return table[static_cast<unsigned char>(c)]; };
  while (end - p >= 4 && (t(p[0]) & t(p[1]) & t(p[2]) & t(p[3]) & Cls) != 0) p += 4;
  while (p < end && (t(*p) & Cls) != 0) ++p;
  return p;
}
/// skip_class() unrolled by four with an exit at the first byte outside the class:
/// about three instructions a byte, and a short run (most parameter names and
/// values are 1 to 12 bytes) stops where it ends, not after a failed four-byte
/// test and a byte-by-byte retry as in skip_class4().
template <std::uint32_t Cls>
[[gnu::always_inline]] constexpr const char* skip_run(const char* p, const char* end) noexcept {
  auto in = [](char c) { return (table[static_cast<unsigned char>(c)] & Cls) != 0; };
  for (; end - p >= 4; p += 4) {
    if (!in(p[0])) return p;
    if (!in(p[1])) return p + 1;
    if (!in(p[2])) return p + 2;
    if (!in(p[3])) return p + 3;
  }
  while (p < end && in(*p)) ++p;
  return p;
}
constexpr bool is_digit(char c) noexcept { return is(c, k_digit); }
constexpr bool is_alpha(char c) noexcept { return is(c, k_alpha); }
constexpr bool is_hex(char c) noexcept { return is(c, k_hex); }
constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }
/// SP, HTAB, CR or LF: the bytes trim_lws() removes from the ends of a value.
constexpr bool is_lws_byte(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr int hex_value(char c) noexcept { return c <= '9' ? c - '0' : (lower(c) - 'a' + 10); }

/// ASCII case-insensitive equality.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

/// True when every character of `s` is a token character and `s` is not empty.
constexpr bool is_token_string(std::string_view s) noexcept {
  return !s.empty() && skip_class(s.data(), s.data() + s.size(), k_token) == s.data() + s.size();
}

}  // namespace sipfront::sip::chars
