#include "sipfront/sipparse/message.hpp"

#include <cstring>

#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/cursor.hpp"
#include "sipfront/sipparse/values.hpp"

namespace sipfront::sip {
namespace {

constexpr std::string_view strip_cr(std::string_view line) noexcept {
  return (!line.empty() && line.back() == '\r') ? line.substr(0, line.size() - 1) : line;
}

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
  bool seen_colon = false;
  for (char c : u) {
    const auto uc = static_cast<unsigned char>(c);
    if (uc <= 0x20 || uc >= 0x7f || c == '<' || c == '>' || c == '"') return false;
    if (c == ':') seen_colon = true;
  }
  return seen_colon;
}

}  // namespace

void message::reset(std::string_view datagram) noexcept {
  base_ = datagram.data();
  size_ = 0;
  lead_ = 0;
  start_len_ = headers_off_ = head_end_ = body_off_ = body_len_ = 0;
  method_off_ = ruri_off_ = ruri_len_ = reason_off_ = reason_len_ = status_ = 0;
  method_len_ = 0;
  method_ = sip::method::extension;
  kind_ = start_kind::unknown;
  error_ = errc::ok;
  n_headers_ = 0;
  std::memset(first_, npos8, sizeof first_);
  std::memset(counts_, 0, sizeof counts_);
}

errc message::parse_request_line(std::string_view line) noexcept {
  kind_ = start_kind::request;
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return errc::bad_start_line;
  const std::string_view m = line.substr(0, sp1);
  if (m.size() > 255 || !chars::is_token_string(m)) return errc::bad_method;
  method_off_ = 0;
  method_len_ = static_cast<std::uint8_t>(m.size());
  method_ = method_from_token(m);
  const std::string_view u = line.substr(sp1 + 1, sp2 - sp1 - 1);
  ruri_off_ = static_cast<std::uint16_t>(sp1 + 1);
  ruri_len_ = static_cast<std::uint16_t>(u.size());
  // Exactly one SP between the elements and none after the version (RFC 4475 lwsstart, trws).
  if (u.empty() || u.front() == ' ' || u.back() == ' ' || sp2 + 1 == line.size()) return errc::bad_start_line;
  if (!plausible_request_uri(u)) return errc::bad_request_uri;
  return check_version(line.substr(sp2 + 1));
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

errc message::parse_start_line(std::string_view line) noexcept {
  if (line.size() >= 4 && chars::iequals(line.substr(0, 4), "SIP/")) return parse_status_line(line);
  return parse_request_line(line);
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

errc message::parse(std::string_view datagram, const scanner& scan) noexcept {
  reset(datagram);
  if (datagram.size() > max_datagram) return error_ = errc::too_large;
  const char* p = datagram.data();
  const char* const end = p + datagram.size();
  while (p < end && (*p == '\r' || *p == '\n')) ++p;  // RFC 3261 §7.5: ignore leading CRLFs
  lead_ = static_cast<std::uint16_t>(p - datagram.data());
  base_ = p;
  size_ = static_cast<std::uint16_t>(end - p);
  if (p == end) return error_ = errc::empty;

  const char* lf = scan.find_lf(p, end);
  const std::string_view line = strip_cr({p, static_cast<std::size_t>(lf - p)});
  start_len_ = static_cast<std::uint16_t>(line.size());
  errc first_error = parse_start_line(line);
  if (lf == end) return error_ = (first_error != errc::ok ? first_error : errc::no_header_end);
  p = lf + 1;
  headers_off_ = static_cast<std::uint16_t>(p - base_);

  for (;;) {
    if (p >= end) {
      // The datagram ends right after a complete header line: some senders omit the
      // blank line when there is no body. Take it as the end of the headers.
      if (n_headers_ == 0) return error_ = (first_error != errc::ok ? first_error : errc::no_header_end);
      head_end_ = body_off_ = size_;
      break;
    }
    if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
      head_end_ = static_cast<std::uint16_t>(p - base_);
      body_off_ = static_cast<std::uint16_t>(head_end_ + (*p == '\n' ? 1 : 2));
      break;
    }
    // One header line, with its folded continuation lines.
    const char* line_start = p;
    const char* colon = scan.find_colon_or_eol(p, end);
    const char* eol = scan.find_lf(colon, end);
    while (eol < end && eol + 1 < end && chars::is_ws(eol[1])) eol = scan.find_lf(eol + 1, end);
    if (eol == end) return error_ = (first_error != errc::ok ? first_error : errc::no_header_end);
    p = eol + 1;

    std::string_view name{line_start, static_cast<std::size_t>(colon - line_start)};
    while (!name.empty() && chars::is_ws(name.back())) name.remove_suffix(1);
    if (colon == end || *colon != ':' || name.size() > 255 || !chars::is_token_string(name)) {
      if (first_error == errc::ok) first_error = errc::bad_header_line;
      continue;  // skip the line; keep indexing so a 400 can still be built
    }
    if (n_headers_ == max_headers) {
      if (first_error == errc::ok) first_error = errc::too_many_headers;
      continue;
    }
    const std::string_view val = trim_lws({colon + 1, static_cast<std::size_t>(eol - colon - 1)});
    const header_id id = header_from_name(name);
    header_entry& h = headers_[n_headers_];
    h.name_off = static_cast<std::uint16_t>(line_start - base_);
    h.name_len = static_cast<std::uint8_t>(name.size());
    h.value_off = static_cast<std::uint16_t>(val.data() - base_);
    h.value_len = static_cast<std::uint16_t>(val.size());
    h.id = id;
    const auto idx = static_cast<std::size_t>(id);
    if (first_[idx] == npos8) first_[idx] = n_headers_;
    if (counts_[idx] < 0xff) ++counts_[idx];
    ++n_headers_;
  }

  const errc framing = frame_body();
  if (first_error == errc::ok) first_error = framing;
  return error_ = first_error;
}

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
