#include "sipfront/sipparse/validate.hpp"

#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/uri.hpp"
#include "sipfront/sipparse/values.hpp"

namespace sipfront::sip {
namespace {

constexpr verdict fail(rule r, header_id h = header_id::other, errc d = errc::ok, std::string_view culprit = {}) {
  return verdict{r, h, d, culprit};
}

// The scheme named by a URI's text, whether or not the rest of it parses.
uri_scheme scheme_of(std::string_view u) noexcept {
  const std::string_view token = u.substr(0, u.find(':'));
  if (chars::iequals(token, "sip")) return uri_scheme::sip;
  if (chars::iequals(token, "sips")) return uri_scheme::sips;
  if (chars::iequals(token, "tel")) return uri_scheme::tel;
  return uri_scheme::other;
}

// Parses one header line's value with the accessor for its id.
errc check_value(const message& msg, const header_entry& h) noexcept {
  const std::string_view v = msg.value(h);
  switch (h.id) {
    case header_id::call_id: return parse_call_id(v).error();
    case header_id::cseq: return parse_cseq(v).error();
    case header_id::max_forwards: return parse_max_forwards(v).error();
    case header_id::expires:
    case header_id::min_expires: return parse_delta_seconds(v).error();
    case header_id::content_length: return parse_content_length(v).error();
    case header_id::retry_after: return parse_retry_after(v).error();
    case header_id::date: return check_date(v);
    case header_id::from:
    case header_id::to:
    case header_id::refer_to:
    case header_id::referred_by: return parse_name_addr(v).error();
    case header_id::authorization:
    case header_id::proxy_authorization:
    case header_id::www_authenticate:
    case header_id::proxy_authenticate: return parse_auth(v).error();
    case header_id::supported:
    case header_id::require:
    case header_id::proxy_require:
    case header_id::unsupported: return v.empty() && h.id == header_id::supported ? errc::ok : check_token_list(v);
    default: return errc::ok;
  }
}

// List headers whose entries are name-addrs: every entry across all lines must parse.
errc check_name_addr_list(const message& msg, header_id id, bool allow_star) noexcept {
  list_iterator it(msg, id);
  std::string_view entry;
  while (it.next(entry)) {
    const auto na = parse_name_addr(entry, allow_star);
    if (!na) return na.error();
    if (id == header_id::contact && !na->star) {
      if (const auto e = na->expires(); !e && e.error() != errc::not_present) return e.error();
      if (const auto q = na->q(); !q && q.error() != errc::not_present) return q.error();
    }
  }
  return it.failed() ? errc::bad_name_addr : errc::ok;
}

errc check_vias(const message& msg) noexcept {
  list_iterator it(msg, header_id::via);
  std::string_view entry;
  while (it.next(entry)) {
    if (const auto v = parse_via(entry); !v) return v.error();
  }
  return it.failed() ? errc::bad_via : errc::ok;
}

// First option tag in `id`'s lines that is not in `supported`.
std::string_view unsupported_option(const message& msg, header_id id, std::span<const std::string_view> supported) {
  list_iterator it(msg, id);
  std::string_view tag;
  while (it.next(tag)) {
    bool known = false;
    for (std::string_view s : supported) known = known || chars::iequals(s, tag);
    if (!known) return tag;
  }
  return {};
}

}  // namespace

std::string_view to_string(rule r) noexcept {
  switch (r) {
    case rule::ok: return "ok";
    case rule::malformed_framing: return "malformed_framing";
    case rule::unsupported_version: return "unsupported_version";
    case rule::missing_header: return "missing_header";
    case rule::repeated_header: return "repeated_header";
    case rule::malformed_header: return "malformed_header";
    case rule::cseq_method_mismatch: return "cseq_method_mismatch";
    case rule::uri_scheme_unsupported: return "uri_scheme_unsupported";
    case rule::request_uri_headers: return "request_uri_headers";
    case rule::bad_extension: return "bad_extension";
    case rule::too_many_hops: return "too_many_hops";
    case rule::count_: break;
  }
  return "?";
}

std::uint16_t verdict::status_code(start_kind kind) const noexcept {
  if (kind != start_kind::request) return 0;
  switch (broken) {
    case rule::ok: return 0;
    case rule::unsupported_version: return 505;
    case rule::uri_scheme_unsupported: return 416;
    case rule::bad_extension: return 420;
    case rule::too_many_hops: return 483;
    default: return 400;
  }
}

std::string_view verdict::reason() const noexcept {
  switch (broken) {
    case rule::ok: return "OK";
    case rule::malformed_framing:
      switch (detail) {
        case errc::bad_content_length: return "Bad Request - Bad Content-Length";
        case errc::content_length_exceeds: return "Bad Request - Content-Length Exceeds Datagram";
        case errc::bad_header_line: return "Bad Request - Malformed Header Line";
        case errc::too_many_headers: return "Bad Request - Too Many Headers";
        case errc::bad_request_uri: return "Bad Request - Malformed Request-URI";
        default: return "Bad Request - Malformed Start Line";
      }
    case rule::unsupported_version: return "Version Not Supported";
    case rule::missing_header: return "Bad Request - Missing Mandatory Header";
    case rule::repeated_header: return "Bad Request - Repeated Single-Value Header";
    case rule::malformed_header:
      switch (header) {
        case header_id::via: return "Bad Request - Malformed Via";
        case header_id::cseq: return "Bad Request - Malformed CSeq";
        case header_id::from: return "Bad Request - Malformed From";
        case header_id::to: return "Bad Request - Malformed To";
        case header_id::contact: return "Bad Request - Malformed Contact";
        case header_id::call_id: return "Bad Request - Malformed Call-ID";
        case header_id::max_forwards: return "Bad Request - Malformed Max-Forwards";
        case header_id::expires: return "Bad Request - Malformed Expires";
        default: return "Bad Request - Malformed Header";
      }
    case rule::cseq_method_mismatch: return "Bad Request - CSeq Method Mismatch";
    case rule::uri_scheme_unsupported: return "Unsupported URI Scheme";
    case rule::request_uri_headers: return "Bad Request - Headers In Request-URI";
    case rule::bad_extension: return "Bad Extension";
    case rule::too_many_hops: return "Too Many Hops";
    case rule::count_: break;
  }
  return "Bad Request";
}

verdict validate(const message& msg, const validation_policy& policy) noexcept {
  // 1. Framing: the parser's own error.
  switch (msg.parse_error()) {
    case errc::ok: break;
    case errc::bad_version: return fail(rule::unsupported_version, header_id::other, errc::bad_version);
    default: return fail(rule::malformed_framing, header_id::other, msg.parse_error());
  }
  const bool request = msg.is_request();

  // 2. Mandatory headers (RFC 3261 §8.1.1; Max-Forwards only in requests).
  for (header_id id : {header_id::to, header_id::from, header_id::call_id, header_id::cseq, header_id::via}) {
    if (msg.count(id) == 0) return fail(rule::missing_header, id);
  }
  if (request && policy.require_max_forwards && msg.count(header_id::max_forwards) == 0)
    return fail(rule::missing_header, header_id::max_forwards);

  // 3. Single-value headers appear once.
  for (std::size_t i = 1; i < header_id_count; ++i) {
    const auto id = static_cast<header_id>(i);
    if (is_single_header(id) && msg.count(id) > 1) return fail(rule::repeated_header, id);
  }

  // 4. Every known header's value follows its grammar.
  if (const errc e = check_vias(msg); e != errc::ok) return fail(rule::malformed_header, header_id::via, e);
  for (header_id id :
       {header_id::contact, header_id::route, header_id::record_route, header_id::path, header_id::service_route}) {
    if (msg.count(id) == 0) continue;
    if (const errc e = check_name_addr_list(msg, id, id == header_id::contact); e != errc::ok) {
      return fail(rule::malformed_header, id, e);
    }
  }
  for (const header_entry& h : msg.headers()) {
    if (const errc e = check_value(msg, h); e != errc::ok) return fail(rule::malformed_header, h.id, e, msg.value(h));
  }

  // 5. CSeq method equals the request method (compared as tokens: RE%47IST%45R is not REGISTER).
  const auto cs = parse_cseq(msg.value_of(header_id::cseq));
  if (request && cs->method_token != msg.method_token()) {
    return fail(rule::cseq_method_mismatch, header_id::cseq, errc::ok, cs->method_token);
  }
  if (!request) return {};

  // 6. Request-URI: scheme accepted, no headers component. The scheme is judged from
  // its token, so a broken URI of an accepted scheme gets 400, not 416 (RFC 3261 §21.4.14).
  const std::string_view ruri_text = msg.request_uri();
  const uri_scheme scheme = scheme_of(ruri_text);
  const bool accepted = (scheme == uri_scheme::sip && policy.accept_sip) ||
                        (scheme == uri_scheme::sips && policy.accept_sips) ||
                        (scheme == uri_scheme::tel && policy.accept_tel);
  if (!accepted) return fail(rule::uri_scheme_unsupported, header_id::other, errc::ok, ruri_text);
  const auto ruri = parse_uri(ruri_text);
  if (!ruri) return fail(rule::malformed_framing, header_id::other, errc::bad_request_uri, ruri_text);
  if (!ruri->headers.empty()) return fail(rule::request_uri_headers, header_id::other, errc::ok, ruri->headers);

  // 7. Extensions the element must understand (RFC 3261 §8.2.2.3, §16.3).
  if (const auto tag = unsupported_option(msg, header_id::proxy_require, policy.supported_options); !tag.empty()) {
    return fail(rule::bad_extension, header_id::proxy_require, errc::ok, tag);
  }
  if (policy.check_require) {
    if (const auto tag = unsupported_option(msg, header_id::require, policy.supported_options); !tag.empty()) {
      return fail(rule::bad_extension, header_id::require, errc::ok, tag);
    }
  }

  // 8. Max-Forwards exhausted on a request that would be forwarded (RFC 3261 §16.3 item 2).
  if (policy.forwarding && msg.count(header_id::max_forwards) == 1 &&
      *parse_max_forwards(msg.value_of(header_id::max_forwards)) == 0) {
    return fail(rule::too_many_hops, header_id::max_forwards);
  }
  return {};
}

bool can_answer(const message& msg) noexcept {
  if (!msg.is_request()) return false;
  // A repeated single-value header (RFC 4475 multi01) is still answered with 400:
  // the response copies the first From/To/Call-ID/CSeq, as write_response() does.
  for (header_id id : {header_id::via, header_id::from, header_id::to, header_id::call_id, header_id::cseq}) {
    if (msg.count(id) == 0) return false;
  }
  return top_via(msg).ok() && parse_name_addr(msg.value_of(header_id::from)).ok() &&
         parse_name_addr(msg.value_of(header_id::to)).ok() && parse_cseq(msg.value_of(header_id::cseq)).ok() &&
         parse_call_id(msg.value_of(header_id::call_id)).ok();
}

}  // namespace sipfront::sip
