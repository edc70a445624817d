#include "sipfront/sipparse/uri.hpp"

#include <array>
#include <cstring>

#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/cursor.hpp"
#include "sipfront/sipparse/values.hpp"
#include "uri_detail.hpp"

namespace sipfront::sip {
namespace {

// The end of the run of class `Cls` (one bit) bytes and %HH escapes starting at
// `p`; four bytes per branch. User parts, URI params and headers: the runs every
// Contact and Request-URI has.
template <std::uint32_t Cls>
[[gnu::always_inline]] inline const char* escaped_run(const char* p, const char* e) noexcept {
  for (;;) {
    p = chars::skip_run<Cls>(p, e);
    if (e - p < 3 || *p != '%' || !chars::is_hex(p[1]) || !chars::is_hex(p[2])) return p;
    p += 3;
  }
}

// Every character is in class `Cls`, or a %HH escape.
template <std::uint32_t Cls>
bool all_of(std::string_view s) noexcept {
  return escaped_run<Cls>(s.data(), s.data() + s.size()) == s.data() + s.size();
}

// Every character is in `cls`, or a %HH escape, or listed in `extra`: the rare
// rules (tel, absolute URIs) that have no class of their own.
bool all_of_class(std::string_view s, std::uint32_t cls, std::string_view extra) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    i = static_cast<std::size_t>(chars::skip_class(s.data() + i, s.data() + s.size(), cls) - s.data());
    if (i == s.size()) break;
    const char c = s[i];
    if (!extra.empty() && extra.find(c) != std::string_view::npos) continue;
    if (c == '%' && i + 2 < s.size() && chars::is_hex(s[i + 1]) && chars::is_hex(s[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

// hostname = *( domainlabel "." ) toplabel [ "." ]; toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum.
// The toplabel rule is what keeps "256.1.1.1" or "192.0.2.1.5" from passing as names.
bool valid_hostname(std::string_view h) noexcept {
  if (h.empty()) return false;
  char prev = '.';
  char label_start = '\0';
  char top_start = '\0';
  for (char c : h) {
    if (c == '.') {
      if (prev == '.' || prev == '-') return false;  // empty label or label ending in '-'
      top_start = label_start;
    } else if (c == '-') {
      if (prev == '.') return false;  // label starting with '-'
    } else if (!chars::is_alpha(c) && !chars::is_digit(c)) {
      return false;
    }
    if (prev == '.') label_start = c;
    prev = c;
  }
  if (prev == '-') return false;
  if (prev != '.') top_start = label_start;  // no trailing dot: the last label is the toplabel
  return chars::is_alpha(top_start);
}

// One octet of an escaped string at `i`, decoding a %HH escape; advances `i`.
char next_octet(std::string_view s, std::size_t& i) noexcept {
  if (s[i] == '%' && i + 2 < s.size() && chars::is_hex(s[i + 1]) && chars::is_hex(s[i + 2])) {
    const char c = static_cast<char>(chars::hex_value(s[i + 1]) * 16 + chars::hex_value(s[i + 2]));
    i += 3;
    return c;
  }
  return s[i++];
}

// Parameter names compare case-insensitively with escapes decoded: "%6C%72" is "lr"
// (RFC 3261 §19.1.4: unreserved characters are equivalent to their escaped form).
bool pname_equal(std::string_view a, std::string_view b) noexcept {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (chars::lower(next_octet(a, i)) != chars::lower(next_octet(b, j))) return false;
  }
  return i == a.size() && j == b.size();
}

bool valid_ipv6_reference(std::string_view h) noexcept {
  if (h.size() < 4 || h.front() != '[' || h.back() != ']') return false;
  const std::string_view in = h.substr(1, h.size() - 2);
  int colons = 0;
  for (char c : in) {
    if (c == ':') {
      ++colons;
    } else if (!chars::is_hex(c) && c != '.') {
      return false;
    }
  }
  return colons >= 2 && colons <= 7;
}

}  // namespace

namespace {

// IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each octet <= 255,
// read greedily (up to three digits an octet) and byte by byte, bounds-checked at
// every byte: any view, however it ends. The end of the address or nullptr.
const char* scan_ipv4_bytes(const char* p, const char* e, std::uint32_t& value) noexcept {
  auto digit = [](char c) { return static_cast<unsigned>(static_cast<unsigned char>(c)) - '0'; };
  std::uint32_t v = 0;
  for (int part = 0;; ++part) {
    if (p == e) return nullptr;
    unsigned octet = digit(*p);
    if (octet > 9) return nullptr;
    ++p;
    if (p < e && digit(*p) <= 9) {
      octet = octet * 10 + digit(*p++);
      if (p < e && digit(*p) <= 9) octet = octet * 10 + digit(*p++);
    }
    if (octet > 255) return nullptr;
    v = (v << 8) | octet;
    if (part == 3) break;
    if (p == e || *p != '.') return nullptr;
    ++p;
  }
  value = v;
  return p;
}

// The end of the IPv4address (octets of up to three digits read greedily, each
// <= 255) at the start of [p, e), or nullptr when none starts there: parse_ipv4(s)
// holds exactly when this ends at the end of `s`.
const char* scan_ipv4(const char* p, const char* e) noexcept {
#if defined(__SSE2__)
  if (e - p >= 16) {
    const char* const r = detail::scan_ipv4_16(p);
    if (r != p) return r;
  }
#endif
  std::uint32_t v = 0;
  return scan_ipv4_bytes(p, e, v);
}

}  // namespace

bool parse_ipv4(std::string_view s, std::uint32_t& value) noexcept {
  // IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each octet <= 255.
  // (An empty view may have no data: its end is nullptr, the "no address" answer.)
  std::uint32_t v = 0;
  const char* const end = scan_ipv4_bytes(s.data(), s.data() + s.size(), v);
  if (end == nullptr || end != s.data() + s.size()) return false;
  value = v;
  return true;
}

errc detail::scan_hostport(std::string_view s, std::string_view& host, host_kind& kind, std::uint16_t& port,
                           bool& has_port, std::size_t& used) noexcept {
  const char* const b = s.data();
  const char* const e = b + s.size();
  const char* p = b < e && chars::is_digit(*b) ? scan_ipv4(b, e) : nullptr;
  if (p != nullptr && (p == e || !chars::is(*p, chars::k_host))) {
    // A dotted quad that is the whole run of host characters: the IPv4address the
    // rule below would find, read in one pass instead of a scan and a parse.
    host = {b, static_cast<std::size_t>(p - b)};
    kind = host_kind::ipv4;
  } else {
    if (b < e && *b == '[') {
      const std::size_t close = s.find(']');
      if (close == std::string_view::npos) return errc::bad_uri;
      p = b + close + 1;
    } else {
      p = chars::skip_class4<chars::k_host>(b, e);
    }
    host = {b, static_cast<std::size_t>(p - b)};
    if (!host.empty() && host[0] == '[') {
      if (!valid_ipv6_reference(host)) return errc::bad_uri;
      kind = host_kind::ipv6;
    } else if (std::uint32_t v4 = 0; !host.empty() && chars::is_digit(host.back()) && parse_ipv4(host, v4)) {
      // An IPv4address ends in a digit; a hostname's toplabel cannot, so only a
      // digit at the end makes the IPv4 parse worth trying.
      kind = host_kind::ipv4;
    } else if (valid_hostname(host)) {
      kind = host_kind::hostname;
    } else {
      return errc::bad_uri;
    }
  }
  return hostport_tail(b, p, e, port, has_port, used);
}

errc detail::parse_hostport(std::string_view hp, std::string_view& host, host_kind& kind, std::uint16_t& port,
                            bool& has_port) noexcept {
  std::size_t used = 0;
  if (const errc e = scan_hostport(hp, host, kind, port, has_port, used); e != errc::ok) return e;
  return used == hp.size() ? errc::ok : errc::bad_uri;
}

detail::hostport_scan detail::scan_hostport_for_tests(std::string_view s, bool inline_path) noexcept {
  hostport_scan r;
  r.error = inline_path ? scan_hostport_inline(s, r.host, r.kind, r.port, r.has_port, r.used)
                        : scan_hostport(s, r.host, r.kind, r.port, r.has_port, r.used);
  return r;
}

bool detail::is_ipv4_for_tests(std::string_view s, const char* end) noexcept { return is_ipv4(s, end); }

std::optional<std::string_view> uri::param(std::string_view name) const noexcept {
  std::string_view rest = params;
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    const std::string_view p = rest.substr(0, semi);
    const std::size_t eq = p.find('=');
    if (pname_equal(p.substr(0, eq), name)) {
      return eq == std::string_view::npos ? std::string_view{} : p.substr(eq + 1);
    }
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

namespace {

// uri-parameters = *( ";" uri-parameter ) after the hostport, then [ "?" headers ]:
// `p` at the ';' or '?' that ends the hostport, `e` the end of the URI; into the
// uri's `params` and `headers`. uri-parameter = pname ["=" pvalue]; both 1*paramchar.
[[gnu::always_inline]] inline errc sip_uri_tail(const char* p, const char* const e, std::string_view& params,
                                                std::string_view& headers) noexcept {
  if (*p == ';') {
    const char* const ps = ++p;
    for (;;) {
      const char* const name = p;
      p = escaped_run<chars::k_pchar>(p, e);
      if (p == name) return errc::bad_uri;
      if (p < e && *p == '=') {
        const char* const value = ++p;
        p = escaped_run<chars::k_pchar>(p, e);
        if (p == value) return errc::bad_uri;
      }
      if (p == e || *p == '?') break;
      if (*p != ';') return errc::bad_uri;
      ++p;
    }
    params = {ps, static_cast<std::size_t>(p - ps)};
    if (p == e) return errc::ok;
  } else if (*p != '?') {
    return errc::bad_uri;
  }
  // headers = "?" header *( "&" header ); header = hname "=" hvalue
  headers = {p + 1, static_cast<std::size_t>(e - p - 1)};
  std::string_view hs = headers;
  for (;;) {
    const std::size_t amp = hs.find('&');
    const std::string_view h = hs.substr(0, amp);
    const std::size_t eq = h.find('=');
    if (eq == std::string_view::npos || eq == 0) return errc::bad_uri;
    if (!all_of<chars::k_hnv>(h.substr(0, eq)) || !all_of<chars::k_hnv>(h.substr(eq + 1))) {
      return errc::bad_uri;
    }
    if (amp == std::string_view::npos) break;
    hs.remove_prefix(amp + 1);
  }
  return errc::ok;
}

// The SIP URI after "sip:" or "sips:" (`hier`, not empty), into `u` (which holds
// the defaults for what it does not set). Inline in parse_uri()'s fast path, the
// common case, and in parse_uri_general(): one body for both.
[[gnu::always_inline]] inline errc parse_sip_uri(std::string_view hier, uri& u) noexcept {
  const char* const b = hier.data();
  const char* const e = b + hier.size();
  // userinfo = user [":" password] "@". Neither run can contain '@' or ':', so
  // when they end at an '@' it is the first one; when they do not, any '@' later
  // is one that no part of a SIP URI after the userinfo may hold (bad_uri there).
  std::string_view rest = hier;
  const char* const user_end = escaped_run<chars::k_user>(b, e);
  const char* at = user_end;
  const char* pw = nullptr;
  if (at < e && *at == ':') [[unlikely]] {
    pw = at + 1;
    at = escaped_run<chars::k_password>(pw, e);
  }
  if (at < e && *at == '@') {
    u.has_user = true;
    u.user = {b, static_cast<std::size_t>(user_end - b)};
    if (pw != nullptr) [[unlikely]] {
      u.password = {pw, static_cast<std::size_t>(at - pw)};
      u.has_password = true;
    }
    if (u.user.empty()) [[unlikely]] {
      return errc::bad_uri;
    }
    rest = {at + 1, static_cast<std::size_t>(e - at - 1)};
  }
  // hostport, then the end, ';' (params) or '?' (headers).
  std::size_t hp_end = 0;
  if (const errc err = detail::scan_hostport_inline(rest, u.host, u.host_type, u.port, u.has_port, hp_end);
      err != errc::ok) [[unlikely]] {
    return err;
  }
  if (hp_end == rest.size()) return errc::ok;
  return sip_uri_tail(rest.data() + hp_end, e, u.params, u.headers);
}

errc parse_tel_uri(std::string_view hier, uri& u) noexcept {
  const std::size_t semi = hier.find(';');
  u.opaque = hier.substr(0, semi);
  std::string_view num = u.opaque;
  const bool global = !num.empty() && num[0] == '+';
  if (global) num.remove_prefix(1);
  bool digit = false;
  for (char c : num) {
    if (chars::is_digit(c) || (!global && (chars::is_hex(c) || c == '*' || c == '#'))) {
      digit = true;
    } else if (c != '-' && c != '.' && c != '(' && c != ')') {
      return errc::bad_uri;
    }
  }
  if (!digit) return errc::bad_uri;
  if (semi != std::string_view::npos) {
    u.params = hier.substr(semi + 1);
    if (!all_of_class(u.params, chars::k_unreserved | chars::k_param_unres, ";=")) return errc::bad_uri;
  }
  return errc::ok;
}

}  // namespace

namespace {

using detail::k_sip_colon;
using detail::k_sips;

#if defined(__SSE2__)

// What sip_uri_ipv4() finds: the fields of the uri that are not the defaults of
// a SIP URI with a user and an IPv4 host, and where its params or headers start.
struct ipv4_uri_parts {
  std::size_t colon = 0;  ///< 3 for "sip:", 4 for "sips:"
  std::string_view user;
  std::string_view host;
  std::uint16_t port = 0;
  bool has_port = false;
  const char* tail = nullptr;  ///< the ';' or '?' after the hostport
};

enum class ipv4_shape : std::uint8_t { other, whole, tail };

// The Contact of a phone: "sip:" or "sips:", user "@" IPv4address [":" port],
// then the end, ';' or '?', with 16 bytes or more after the scheme. 16-byte
// masks find the user's end and the '@', and the address from a load at the
// host (or ending at the end of the view); the port is one load of eight bytes.
// `whole` when the URI ends there, `tail` when params or headers follow (for
// sip_uri_tail()), `other` for any other shape, left to parse_uri_fast_impl().
// Where it answers, parse_sip_uri() finds the same. Its results are locals
// (registers) that make the uri once at the end: filling a result in place
// would zero it first.
[[gnu::always_inline]] inline ipv4_shape sip_uri_ipv4(std::string_view s, ipv4_uri_parts& q) noexcept {
  constexpr ipv4_shape other = ipv4_shape::other;
  if (s.size() < 5 + 16) return other;
  std::size_t colon = 3;
  if (const std::uint32_t w = detail::load_le32(s.data()); w != k_sip_colon) {
    if (w != k_sips || s[4] != ':') return other;
    colon = 4;
  }
  const char* const b = s.data() + colon + 1;
  const char* const e = s.data() + s.size();
  // The end of the user run when it is the '@'.
  const char* const at = detail::user_subset_end(b, e);
  if (at == nullptr || *at != '@' || at == b) return other;
  const char* const host = at + 1;
  const auto rem = static_cast<std::size_t>(e - host);
  if (rem < 7) return other;
  // 16 bytes at the host, or the last 16 of the view with the masks shifted down
  // to the host (the bits past `e` are then clear, as the end of the view reads).
  const std::size_t shift = rem >= 16 ? 0 : 16 - rem;
  const __m128i x = detail::load16(host - shift);
  const unsigned digit = detail::digit_mask(x) >> shift;
  const unsigned dot = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')))) >> shift;
  const int len = detail::ipv4_run_len(digit, dot, [x, shift](unsigned three) {
    // Only an octet that starts above '1' can be above 255 (192.168.*, 10.* have none).
    const unsigned high =
        three & (static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpgt_epi8(x, _mm_set1_epi8('1')))) >> shift);
    return high != 0 && (high & (detail::ipv4_big_mask(x) >> shift)) != 0;
  });
  if (len <= 0) return other;
  const char* p = host + len;
  if (p < e && *p == ':') {
    // port = 1..5 digits <= 65535 (more are left to scan_port()): eight bytes at
    // them, or the last eight of the view shifted down to them (zeros past `e`).
    const char* const d = p + 1;
    const auto r = static_cast<std::size_t>(e - d);
    if (r == 0) return other;
    std::uint64_t w = r >= 8 ? detail::load_le64(d) : detail::load_le64(e - 8) >> (8 * (8 - r));
    w ^= 0x3030303030303030ULL;  // '0'..'9' -> 0..9
    const std::uint64_t bad = (((w & 0x7f7f7f7f7f7f7f7fULL) + 0x7676767676767676ULL) | w) & 0x8080808080808080ULL;
    if (bad == 0) return other;
    const auto n = static_cast<std::size_t>(__builtin_ctzll(bad)) / 8;
    if (n == 0 || n > 5) return other;
    const unsigned v = detail::port_digits_value(w, n);
    if (v > 65535) return other;
    q.port = static_cast<std::uint16_t>(v);
    q.has_port = true;
    p = d + n;
  }
  // The address ends at a byte that is no host byte (a letter or '-' would make
  // it a hostname): the end, ':' (taken), ';' or '?'.
  if (p != e && *p != ';' && *p != '?') return other;
  q.colon = colon;
  q.user = {b, static_cast<std::size_t>(at - b)};
  q.host = {host, static_cast<std::size_t>(len)};
  q.tail = p;
  return p == e ? ipv4_shape::whole : ipv4_shape::tail;
}

// The uri sip_uri_ipv4() found in `s`, without its params and headers.
inline uri make_ipv4_uri(std::string_view s, const ipv4_uri_parts& q) noexcept {
  return uri{.scheme = q.colon == 4 ? uri_scheme::sips : uri_scheme::sip,
             .scheme_token = s.substr(0, q.colon),
             .user = q.user,
             .password = {},
             .has_user = true,
             .has_password = false,
             .host = q.host,
             .host_type = host_kind::ipv4,
             .port = q.port,
             .has_port = q.has_port,
             .params = {},
             .headers = {},
             .opaque = {},
             .raw = s};
}
#endif

// "sip:" or "sips:", as every phone writes it: the scheme needs no loop and no
// case folding. The rest is parse_sip_uri(), whose errors make this decline
// (false; `u` is then partly filled).
[[gnu::always_inline]] inline bool parse_uri_fast_impl(std::string_view s, uri& u) noexcept {
  if (s.size() < 5) return false;
  std::uint32_t w = 0;
  std::memcpy(&w, s.data(), 4);
  std::size_t colon = 3;
  if (w != k_sip_colon) {
    if (w != k_sips || s[4] != ':' || s.size() == 5) return false;
    colon = 4;
  }
  u.raw = s;
  u.scheme_token = s.substr(0, colon);
  u.scheme = colon == 4 ? uri_scheme::sips : uri_scheme::sip;
  return parse_sip_uri(s.substr(colon + 1), u) == errc::ok;
}

// parse_uri() after sip_uri_ipv4() has left `s` to it: the other SIP URIs the
// fast path takes, else the general parser. Out of line: parse_uri() itself is
// then the shortcut alone, with no frame.
[[gnu::noinline]] result<uri> parse_uri_rest(std::string_view s) noexcept {
  // Filled in place and returned by name: no copy of a uri on the fast path.
  result<uri> r{uri{}};
  if (!parse_uri_fast_impl(s, r.value())) [[unlikely]] {
    r = detail::parse_uri_general(s);
  }
  return r;
}

#if defined(__SSE2__)
// parse_uri() for what sip_uri_ipv4() found with params or headers after it:
// they are read here, out of line, so that their loops do not cost every URI
// saved registers. Their errors are the general parser's to report.
[[gnu::noinline]] result<uri> ipv4_uri_with_tail(std::string_view s, const ipv4_uri_parts& q) noexcept {
  result<uri> r{std::in_place, [&] { return make_ipv4_uri(s, q); }};
  if (sip_uri_tail(q.tail, s.data() + s.size(), r.value().params, r.value().headers) != errc::ok) [[unlikely]] {
    r = detail::parse_uri_general(s);
  }
  return r;
}
#endif

}  // namespace

bool detail::sip_uri_tail_ok(const char* p, const char* e) noexcept {
  std::string_view params;
  std::string_view headers;
  return sip_uri_tail(p, e, params, headers) == errc::ok;
}

bool detail::uri_ok_fast_for_tests(std::string_view s) noexcept {
#if defined(__SSE2__)
  return uri_ok_fast(s);
#else
  static_cast<void>(s);
  return false;
#endif
}

bool detail::parse_uri_fast(std::string_view s, uri& u) noexcept {
#if defined(__SSE2__)
  ipv4_uri_parts q;
  if (const ipv4_shape k = sip_uri_ipv4(s, q); k != ipv4_shape::other) {
    u = make_ipv4_uri(s, q);
    return k == ipv4_shape::whole || sip_uri_tail(q.tail, s.data() + s.size(), u.params, u.headers) == errc::ok;
  }
#endif
  return parse_uri_fast_impl(s, u);
}

result<uri> detail::parse_uri_general(std::string_view s) noexcept {
  uri u;
  u.raw = s;
  const std::size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return errc::bad_uri;
  u.scheme_token = s.substr(0, colon);
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  if (!chars::is_alpha(u.scheme_token[0])) return errc::bad_uri;
  for (char c : u.scheme_token) {
    if (!chars::is_alpha(c) && !chars::is_digit(c) && c != '+' && c != '-' && c != '.') return errc::bad_uri;
  }
  const std::string_view hier = s.substr(colon + 1);
  if (hier.empty()) return errc::bad_uri;
  errc e = errc::ok;
  if (chars::iequals(u.scheme_token, "sip")) {
    u.scheme = uri_scheme::sip;
    e = parse_sip_uri(hier, u);
  } else if (chars::iequals(u.scheme_token, "sips")) {
    u.scheme = uri_scheme::sips;
    e = parse_sip_uri(hier, u);
  } else if (chars::iequals(u.scheme_token, "tel")) {
    u.scheme = uri_scheme::tel;
    e = parse_tel_uri(hier, u);
  } else {
    // absoluteURI: 1*uric (reserved / unreserved / escaped)
    u.opaque = hier;
    if (!all_of_class(hier, chars::k_unreserved, ";/?:@&=+$,[]")) e = errc::bad_uri;
  }
  if (e != errc::ok) return e;
  return u;
}

result<uri> parse_uri(std::string_view s) noexcept {
#if defined(__SSE2__)
  // Every call below is a tail call: the shortcut needs no frame.
  ipv4_uri_parts q;
  const ipv4_shape k = sip_uri_ipv4(s, q);
  if (k == ipv4_shape::whole) [[likely]] {
    return {std::in_place, [&] { return make_ipv4_uri(s, q); }};
  }
  if (k == ipv4_shape::tail) {
    // A copy for the call: `q` itself, its address never taken, stays in registers.
    const ipv4_uri_parts c = q;
    return ipv4_uri_with_tail(s, c);
  }
#endif
  return parse_uri_rest(s);
}

int unescape(std::string_view in, char* out, std::size_t cap) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (n == cap) return -1;
    if (in[i] == '%') {
      if (i + 2 >= in.size() || !chars::is_hex(in[i + 1]) || !chars::is_hex(in[i + 2])) return -1;
      out[n++] = static_cast<char>(chars::hex_value(in[i + 1]) * 16 + chars::hex_value(in[i + 2]));
      i += 2;
    } else {
      out[n++] = in[i];
    }
  }
  return static_cast<int>(n);
}

namespace {

constexpr std::size_t k_cmp_buf = 512;

// Compares two escaped strings after unescaping; case-insensitive when asked.
bool equal_unescaped(std::string_view a, std::string_view b, bool icase) noexcept {
  std::array<char, k_cmp_buf> ba{};
  std::array<char, k_cmp_buf> bb{};
  const int na = unescape(a, ba.data(), ba.size());
  const int nb = unescape(b, bb.data(), bb.size());
  if (na < 0 || nb < 0) return a == b;  // undecodable or huge: fall back to exact match
  const std::string_view ua(ba.data(), static_cast<std::size_t>(na));
  const std::string_view ub(bb.data(), static_cast<std::size_t>(nb));
  return icase ? chars::iequals(ua, ub) : ua == ub;
}

bool params_match(const uri& a, const uri& b) noexcept {
  // Parameters that must match when present in either URI.
  for (std::string_view must : {"user", "ttl", "method", "maddr", "transport"}) {
    const auto pa = a.param(must);
    const auto pb = b.param(must);
    if (pa.has_value() != pb.has_value()) return false;
    if (pa && !equal_unescaped(*pa, *pb, true)) return false;
  }
  // Any other parameter present in both must match.
  std::string_view rest = a.params;
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    const std::string_view p = rest.substr(0, semi);
    const std::size_t eq = p.find('=');
    const std::string_view name = p.substr(0, eq);
    const auto pb = b.param(name);
    if (pb) {
      // Compare first occurrences, the values param() reads on both sides: comparing
      // this occurrence made a URI with a repeated name (";x=1;x=2") unequal to itself.
      const std::string_view va = a.param(name).value_or(std::string_view{});
      if (!equal_unescaped(va, *pb, true)) return false;
    }
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  return true;
}

// Headers: the same set of hname=hvalue pairs, order-insensitive, names case-insensitive.
bool headers_subset(std::string_view a, std::string_view b) noexcept {
  std::string_view rest = a;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view h = rest.substr(0, amp);
    const std::size_t eq = h.find('=');
    bool found = false;
    std::string_view other = b;
    while (!other.empty() && !found) {
      const std::size_t amp2 = other.find('&');
      const std::string_view h2 = other.substr(0, amp2);
      const std::size_t eq2 = h2.find('=');
      found = equal_unescaped(h.substr(0, eq), h2.substr(0, eq2), true) &&
              equal_unescaped(eq == std::string_view::npos ? std::string_view{} : h.substr(eq + 1),
                              eq2 == std::string_view::npos ? std::string_view{} : h2.substr(eq2 + 1), false);
      if (amp2 == std::string_view::npos) break;
      other.remove_prefix(amp2 + 1);
    }
    if (!found) return false;
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return true;
}

}  // namespace

bool uri_equal(const uri& a, const uri& b) noexcept {
  if (a.scheme != b.scheme) return false;
  if (!a.is_sip()) return a.scheme == uri_scheme::other ? a.raw == b.raw : equal_unescaped(a.raw, b.raw, true);
  if (a.has_user != b.has_user || a.has_password != b.has_password) return false;
  if (!equal_unescaped(a.user, b.user, false) || !equal_unescaped(a.password, b.password, false)) return false;
  if (!equal_unescaped(a.host, b.host, true)) return false;
  if (a.has_port != b.has_port || a.port != b.port) return false;
  if (!params_match(a, b)) return false;
  return headers_subset(a.headers, b.headers) && headers_subset(b.headers, a.headers);
}

}  // namespace sipfront::sip
