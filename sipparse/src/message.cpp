#include "sipfront/sipparse/message.hpp"

#include <bit>

#include "header_table.hpp"
#include "method_table.hpp"
#include "short_runs.hpp"
#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/cursor.hpp"
#include "sipfront/sipparse/values.hpp"

namespace sipfront::sip {
namespace {

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; "SIP" is case-insensitive (ABNF literal).
// Returns ok for 2.0, bad_version for another well-formed version, bad_start_line otherwise.
errc check_version(std::string_view v) noexcept {
  cursor c(v);
  if (!c.eat_i("SIP/")) return errc::bad_start_line;
  const auto major = c.take_while(chars::k_digit);
  if (major.empty() || !c.eat('.')) return errc::bad_start_line;
  const auto minor = c.take_while(chars::k_digit);
  if (minor.empty() || !c.at_end()) return errc::bad_start_line;
  return (major == "2" && minor == "0") ? errc::ok : errc::bad_version;
}

// Request-URI as it may appear on the request line: an absoluteURI-like token with
// a scheme, no white space and no angle brackets (RFC 4475 ltgtruri, lwsruri).
bool plausible_request_uri(std::string_view u) noexcept {
  if (u.empty() || !chars::is_alpha(u[0])) return false;
  const char* const e = u.data() + u.size();
  if (chars::skip_class4<chars::k_ruri>(u.data(), e) != e) return false;
  // A scheme is a few letters: the ':' is near the start ("sip:", "tel:", "sips:").
  for (const char c : u) {
    if (c == ':') return true;
  }
  return false;
}

}  // namespace

unsigned message::count_repeated(header_id id) const noexcept {
  unsigned k = 0;
  for (std::size_t i = first_[static_cast<std::size_t>(id)]; i < n_headers_; ++i) k += headers_[i].id == id ? 1 : 0;
  return k;
}

errc message::parse_request_line(std::string_view line) noexcept {
  kind_ = start_kind::request;
  // Nearly every request line ends in " SIP/2.0": recognise that with one compare
  // and leave the general version grammar to the others.
  constexpr std::string_view k_tail = " SIP/2.0";
  const bool plain_tail = line.size() > k_tail.size() && line.ends_with(k_tail);
  // The method is the token run at the start; the first SP must end it.
  std::size_t sp1 = 0;
  sp1 = static_cast<std::size_t>(chars::skip_class4<chars::k_token>(line.data(), line.data() + line.size()) -
                                 line.data());
  const bool method_ok = sp1 > 0 && sp1 < line.size() && line[sp1] == ' ';
  if (!method_ok) sp1 = line.find(' ', sp1);
  const std::size_t sp2 = plain_tail ? line.size() - k_tail.size() : line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return errc::bad_start_line;
  if (!method_ok || sp1 > 255) return errc::bad_method;
  const std::string_view m = line.substr(0, sp1);
  method_off_ = 0;
  method_len_ = static_cast<std::uint8_t>(m.size());
  method_ = method_from_token(m);
  const std::string_view u = line.substr(sp1 + 1, sp2 - sp1 - 1);
  ruri_off_ = static_cast<std::uint16_t>(sp1 + 1);
  ruri_len_ = static_cast<std::uint16_t>(u.size());
  // Exactly one SP between the elements and none after the version (RFC 4475 lwsstart, trws).
  if (u.empty() || u.front() == ' ' || u.back() == ' ' || sp2 + 1 == line.size()) return errc::bad_start_line;
  if (!plausible_request_uri(u)) return errc::bad_request_uri;
  return plain_tail ? errc::ok : check_version(line.substr(sp2 + 1));
}

errc message::parse_status_line(std::string_view line) noexcept {
  kind_ = start_kind::response;
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return errc::bad_start_line;
  if (const errc e = check_version(line.substr(0, sp1)); e != errc::ok) return e;
  std::string_view rest = line.substr(sp1 + 1);
  const std::size_t sp2 = rest.find(' ');
  const std::string_view code = rest.substr(0, sp2);
  if (code.size() != 3 || !chars::is_digit(code[0]) || !chars::is_digit(code[1]) || !chars::is_digit(code[2])) {
    return errc::bad_status_code;
  }
  status_ = static_cast<std::uint16_t>((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
  if (status_ < 100 || status_ > 699) return errc::bad_status_code;
  if (sp2 != std::string_view::npos) {
    const std::string_view reason = rest.substr(sp2 + 1);
    for (char c : reason) {
      const auto uc = static_cast<unsigned char>(c);
      if ((uc < 0x20 && c != '\t') || uc == 0x7f) return errc::bad_reason;
    }
    reason_off_ = static_cast<std::uint16_t>(reason.data() - base_);
    reason_len_ = static_cast<std::uint16_t>(reason.size());
  }
  return errc::ok;
}

namespace detail {

// The start line as phones and registrars send it, read without the general
// grammar's searches. Each fast path accepts only lines the general code accepts,
// stores exactly the fields it would store, and otherwise declines (returns false,
// having stored nothing) so that the general code runs and reports the error.
struct start_line_parser {
  static constexpr std::uint64_t k_version_sp = word_of("SIP/2.0 ");
  static constexpr std::uint64_t k_sp_version = word_of(" SIP/2.0");

  // Requests first: a line ending in " SIP/2.0" that request_fast() declines may
  // still be a status line ("SIP/2.0 200 SIP/2.0").
  static bool fast(message& m, std::string_view line) noexcept {
    if (request_fast(m, line)) return true;
    return line.size() >= 8 && load_le64(line.data()) == k_version_sp && status_fast(m, line);
  }

  static void reset(message& m, std::string_view line) noexcept { m.reset(line); }

  static errc general(message& m, std::string_view line) noexcept {
    if (line.size() >= 4 && chars::iequals(line.substr(0, 4), "SIP/")) return m.parse_status_line(line);
    return m.parse_request_line(line);
  }

  // A well-known method (so a token, ending at the first SP), one SP, a
  // Request-URI of 8 bytes or more with a ':' in its first 8 (a scheme), then
  // exactly " SIP/2.0".
  static bool request_fast(message& m, std::string_view line) noexcept {
#if defined(__SSE2__)
    const char* const p = line.data();
    const std::size_t n = line.size();
    if (n < 16 || load_le64(p + n - 8) != k_sp_version) return false;
    // The first SP in the first 16 bytes; 16 (a length no method has) if none.
    const auto sp = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(load16(p), _mm_set1_epi8(' '))));
    const auto sp1 = static_cast<std::size_t>(std::countr_zero(sp | 0x10000U));
    // The method's method_word() is the line's first 8 bytes cut to its length.
    const std::uint64_t head = load_le64(p);
    method meth = method::extension;
    if (!find_method_word(p, sp1, sp1 >= 8 ? head : head & ((1ULL << (8 * sp1)) - 1), meth)) return false;
    const char* const u = p + sp1 + 1;
    const std::size_t un = n - 8 - (sp1 + 1);  // wraps to a huge value when the URI would be empty
    if (un < 8 || un > message::max_datagram) return false;
    // A letter first and a ':' (the scheme's) among the first 8 bytes; "sip:" is both.
    if (load_le32(u) != word_of("sip:")) {
      const __m128i u8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(u));  // NOLINT
      if (!chars::is_alpha(*u) || (_mm_movemask_epi8(_mm_cmpeq_epi8(u8, _mm_set1_epi8(':'))) & 0xff) == 0) return false;
    }
    // k_ruri: VCHAR (0x21..0x7e) but '<', '>' and DQUOTE.
    if (!all_bytes(u, un, [](__m128i v) noexcept {
          const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                               _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(2)), _mm_set1_epi8('>')));
          return _mm_andnot_si128(special, in_range_top<0x21, 0x7e>(v));  // '<' or '>' above
        })) {
      return false;
    }
    m.kind_ = start_kind::request;
    m.method_off_ = 0;
    m.method_len_ = static_cast<std::uint8_t>(sp1);
    m.method_ = meth;
    m.ruri_off_ = static_cast<std::uint16_t>(sp1 + 1);
    m.ruri_len_ = static_cast<std::uint16_t>(un);
    return true;
#else
    (void)m;
    (void)line;
    return false;
#endif
  }

  // After "SIP/2.0 ": three digits in 100..699, then the end or SP and a reason
  // phrase without control characters.
  static bool status_fast(message& m, std::string_view line) noexcept {
#if defined(__SSE2__)
    const char* const p = line.data();
    const std::size_t n = line.size();
    if (n < 11) return false;
    const unsigned d0 = static_cast<unsigned char>(p[8]) - unsigned{'0'};
    const unsigned d1 = static_cast<unsigned char>(p[9]) - unsigned{'0'};
    const unsigned d2 = static_cast<unsigned char>(p[10]) - unsigned{'0'};
    if (d0 - 1 > 5 || d1 > 9 || d2 > 9) return false;  // 100..699
    const unsigned code = d0 * 100 + d1 * 10 + d2;
    if (n > 11) {
      if (p[11] != ' ') return false;
      // The reason's bytes, tested over the whole line: "SIP/2.0 ddd " passes too.
      if (!no_byte(p, n, [](__m128i v) noexcept {
            const __m128i ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
                                                 _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v));
            return _mm_or_si128(ctl, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
          })) {
        return false;
      }
      m.reason_off_ = static_cast<std::uint16_t>(p + 12 - m.base_);
      m.reason_len_ = static_cast<std::uint16_t>(n - 12);
    }
    m.kind_ = start_kind::response;
    m.status_ = static_cast<std::uint16_t>(code);
    return true;
#else
    (void)m;
    (void)line;
    return false;
#endif
  }
};

errc parse_start_line_general(message& m, std::string_view line) noexcept {
  start_line_parser::reset(m, line);
  return start_line_parser::general(m, line);
}

bool parse_start_line_fast(message& m, std::string_view line) noexcept {
  start_line_parser::reset(m, line);
  return start_line_parser::fast(m, line);
}

}  // namespace detail

errc message::parse_start_line(std::string_view line) noexcept {
  if (detail::start_line_parser::fast(*this, line)) return errc::ok;
  return detail::start_line_parser::general(*this, line);
}

errc message::frame_body() noexcept {
  const std::size_t avail = size_ - body_off_;
  const header_entry* cl = find(header_id::content_length);
  if (cl == nullptr) {
    // RFC 3261 §18.3: over a datagram transport the body runs to the datagram's end.
    body_len_ = static_cast<std::uint16_t>(avail);
    return errc::ok;
  }
  const auto n = parse_content_length(value(*cl));
  if (!n) return errc::bad_content_length;
  if (*n > avail) {
    body_len_ = static_cast<std::uint16_t>(avail);
    return errc::content_length_exceeds;
  }
  body_len_ = static_cast<std::uint16_t>(*n);
  return errc::ok;
}

errc message::parse(std::string_view datagram, const scanner& scan) noexcept { return scan.index(*this, datagram); }

std::string_view message::raw_line(const header_entry& h) const noexcept {
  const char* s = base_ + h.name_off;
  const char* e = base_ + h.value_off + h.value_len;
  // Bounded by the datagram, not head_end_: a parse that stopped at a line without
  // LF (no_header_end) leaves head_end_ at 0, yet every indexed line has its LF.
  const char* const end = base_ + size_;
  while (e < end && *e != '\n') ++e;  // trailing white space and the line end
  if (e < end) ++e;
  return {s, static_cast<std::size_t>(e - s)};
}

const header_entry* message::find(std::string_view name) const noexcept {
  const header_id id = header_from_name(name);
  if (id != header_id::other) return find(id);
  for (std::size_t i = 0; i < n_headers_; ++i) {
    if (chars::iequals(this->name(headers_[i]), name)) return &headers_[i];
  }
  return nullptr;
}

}  // namespace sipfront::sip
