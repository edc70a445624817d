#include "sipfront/sipparse/builder.hpp"

#include <array>
#include <cstring>

#include "sipfront/sipparse/cursor.hpp"
#include "sipfront/sipparse/values.hpp"

namespace sipfront::sip {
namespace {

// The reason phrase may hold UTF-8 and HTAB but no control character: a CR or LF
// would end the status line early and let the rest pose as header lines.
bool reason_is_clean(std::string_view reason) noexcept {
  for (char c : reason) {
    const auto uc = static_cast<unsigned char>(c);
    if ((uc < 0x20 && c != '\t') || uc == 0x7f) return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------- writer

writer& writer::put(std::string_view s) noexcept {
  if (overflow_) return *this;
  if (s.size() > out_.size() - len_) [[unlikely]] {
    overflow_ = true;
    return *this;
  }
  // memcpy with a null source is undefined even for zero bytes; an empty view may be null.
  if (!s.empty()) std::memcpy(out_.data() + len_, s.data(), s.size());
  len_ += s.size();
  return *this;
}

writer& writer::put(char c) noexcept {
  if (overflow_) return *this;
  if (len_ == out_.size()) [[unlikely]] {
    overflow_ = true;
    return *this;
  }
  out_[len_++] = c;
  return *this;
}

writer& writer::put_uint(std::uint64_t v) noexcept {
  char digits[20];  // 2^64-1 has 20 decimal digits
  std::size_t i = sizeof digits;
  do {
    digits[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return put(std::string_view{digits + i, sizeof digits - i});
}

writer& writer::header(std::string_view name, std::string_view value) noexcept {
  return put(name).put(": ").put(value).crlf();
}

// ---------------------------------------------------------------- message_edit

message_edit& message_edit::replace(header_id id, std::string_view value) noexcept {
  if (id == header_id::other || id == header_id::content_length) invalid_ = true;
  if (!ops_.push_back(op{op::replace_op, id, {}, value})) overflow_ = true;
  return *this;
}

message_edit& message_edit::remove(header_id id) noexcept {
  if (id == header_id::other || id == header_id::content_length) invalid_ = true;
  if (!ops_.push_back(op{op::remove_op, id, {}, {}})) overflow_ = true;
  return *this;
}

message_edit& message_edit::add(std::string_view name, std::string_view value) noexcept {
  // An added Content-Length would contradict the one the builder writes.
  if (name.empty() || header_from_name(name) == header_id::content_length) invalid_ = true;
  if (!ops_.push_back(op{op::add_op, header_from_name(name), name, value})) overflow_ = true;
  return *this;
}

// ---------------------------------------------------------------- write_message

result<std::size_t> write_message(const message& msg, const message_edit& edit, std::span<char> out) noexcept {
  using op = message_edit::op;
  if (edit.overflow_) return errc::too_many_entries;
  if (edit.invalid_) return errc::bad_value;
  if (msg.parse_error() != errc::ok) return msg.parse_error();
  if (edit.pop_via_ && !edit.top_via_.empty()) return errc::bad_value;
  if ((edit.pop_via_ || !edit.top_via_.empty()) && msg.count(header_id::via) == 0) return errc::not_present;

  // The deciding replace/remove per header id: the last one given.
  std::array<const op*, header_id_count> by_id{};
  for (const op& o : edit.ops_) {
    if (o.kind != op::add_op) by_id[static_cast<std::size_t>(o.id)] = &o;
  }

  writer w(out);
  if (msg.is_request() && !edit.ruri_.empty()) {
    w.put(msg.method_token()).put(' ').put(edit.ruri_).put(" SIP/2.0").crlf();
  } else {
    w.put(msg.start_line()).crlf();
  }
  if (!edit.push_via_.empty()) w.header("Via", edit.push_via_);

  bool pop_pending = edit.pop_via_ || !edit.top_via_.empty();
  for (const header_entry& h : msg.headers()) {
    if (h.id == header_id::content_length) continue;  // rewritten last, to match the body
    if (const op* o = by_id[static_cast<std::size_t>(h.id)]; o != nullptr) {
      // A replaced or removed top Via is gone anyway; popping must not eat the next one.
      if (h.id == header_id::via) pop_pending = false;
      if (o->kind == op::replace_op && msg.find(h.id) == &h) w.header(canonical_name(h.id), o->value);
      continue;
    }
    if (h.id == header_id::via && pop_pending) {
      pop_pending = false;
      std::string_view rest = msg.value(h);
      std::string_view first;
      bool failed = false;
      // An empty first entry is malformed too (list_iterator rejects it): nothing to pop.
      if (!next_list_entry(rest, first, failed) || failed || first.empty()) return errc::bad_via;
      rest = trim_lws(rest);
      // Keep the name as written (compact "v" included); folds inside the rest stay valid LWS.
      if (!edit.top_via_.empty()) {
        w.put(msg.name(h)).put(": ").put(edit.top_via_);
        if (!rest.empty()) w.put(", ").put(rest);
        w.crlf();
      } else if (!rest.empty()) {
        w.put(msg.name(h)).put(": ").put(rest).crlf();
      }
      continue;
    }
    // Copied byte for byte: folding, compact names and odd spacing survive forwarding.
    w.put(msg.raw_line(h));
  }

  // Added lines and replacements of headers the message lacks, in the order given.
  for (const op& o : edit.ops_) {
    if (o.kind == op::add_op) {
      w.header(o.name, o.value);
    } else if (o.kind == op::replace_op && msg.count(o.id) == 0 && by_id[static_cast<std::size_t>(o.id)] == &o) {
      w.header(canonical_name(o.id), o.value);
    }
  }

  const std::string_view body = edit.has_body_ ? edit.body_ : msg.body();
  w.put("Content-Length: ").put_uint(body.size()).crlf().crlf().put(body);
  if (w.overflowed()) return errc::too_large;
  return w.size();
}

// ---------------------------------------------------------------- write_response

result<std::size_t> write_response(const message& request, std::uint16_t code, std::string_view reason,
                                   std::string_view to_tag, std::span<const std::string_view> extra,
                                   std::span<char> out) noexcept {
  if (code < 100 || code > 699) return errc::bad_status_code;
  if (reason.empty()) reason = default_reason(code);
  if (!reason_is_clean(reason)) return errc::bad_reason;

  writer w(out);
  w.put("SIP/2.0 ").put_uint(code).put(' ').put(reason).crlf();
  // Every Via in order: the response retraces the request's path (RFC 3261 §8.2.6.2).
  for (const header_entry& h : request.headers()) {
    if (h.id == header_id::via) w.put(request.raw_line(h));
  }
  if (const header_entry* f = request.find(header_id::from)) w.put(request.raw_line(*f));
  if (const header_entry* t = request.find(header_id::to)) {
    bool add_tag = !to_tag.empty();
    if (add_tag) {
      // A To that does not parse gets no tag: appending to a broken value cannot mend it.
      const auto na = parse_name_addr(request.value(*t));
      add_tag = na.ok() && !na->param("tag").has_value();
    }
    if (add_tag) {
      w.put(request.name(*t)).put(": ").put(request.value(*t)).put(";tag=").put(to_tag).crlf();
    } else {
      w.put(request.raw_line(*t));
    }
  }
  if (const header_entry* c = request.find(header_id::call_id)) w.put(request.raw_line(*c));
  if (const header_entry* c = request.find(header_id::cseq)) w.put(request.raw_line(*c));
  for (std::string_view line : extra) w.put(line).crlf();
  w.put("Content-Length: 0\r\n\r\n");
  if (w.overflowed()) return errc::too_large;
  return w.size();
}

// ---------------------------------------------------------------- reason phrases

// RFC 3261 §21 and the extensions in the IANA "Response Codes" registry.
std::string_view default_reason(std::uint16_t code) noexcept {
  switch (code) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 199: return "Early Dialog Terminated";  // RFC 6228
    case 200: return "OK";
    case 202: return "Accepted";         // RFC 6665
    case 204: return "No Notification";  // RFC 5839
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 305: return "Use Proxy";
    case 380: return "Alternative Service";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 412: return "Conditional Request Failed";  // RFC 3903
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 417: return "Unknown Resource-Priority";  // RFC 4412
    case 420: return "Bad Extension";
    case 421: return "Extension Required";
    case 422: return "Session Interval Too Small";  // RFC 4028
    case 423: return "Interval Too Brief";
    case 424: return "Bad Location Information";          // RFC 6442
    case 425: return "Bad Alert Message";                 // RFC 8876
    case 428: return "Use Identity Header";               // RFC 8224
    case 429: return "Provide Referrer Identity";         // RFC 3892
    case 430: return "Flow Failed";                       // RFC 5626
    case 433: return "Anonymity Disallowed";              // RFC 5079
    case 436: return "Bad Identity Info";                 // RFC 8224
    case 437: return "Unsupported Credential";            // RFC 8224
    case 438: return "Invalid Identity Header";           // RFC 8224
    case 439: return "First Hop Lacks Outbound Support";  // RFC 5626
    case 440: return "Max-Breadth Exceeded";              // RFC 5393
    case 469: return "Bad Info Package";                  // RFC 6086
    case 470: return "Consent Needed";                    // RFC 5360
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 484: return "Address Incomplete";
    case 485: return "Ambiguous";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 489: return "Bad Event";  // RFC 6665
    case 491: return "Request Pending";
    case 493: return "Undecipherable";
    case 494: return "Security Agreement Required";  // RFC 3329
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 505: return "Version Not Supported";
    case 513: return "Message Too Large";
    case 555: return "Push Notification Service Not Supported";  // RFC 8599
    case 580: return "Precondition Failure";                     // RFC 3312
    case 600: return "Busy Everywhere";
    case 603: return "Decline";
    case 604: return "Does Not Exist Anywhere";
    case 606: return "Not Acceptable";
    case 607: return "Unwanted";  // RFC 8197
    case 608: return "Rejected";  // RFC 8688
    default: return "Unknown";
  }
}

}  // namespace sipfront::sip
