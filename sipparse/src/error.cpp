#include "sipfront/sipparse/error.hpp"

namespace sipfront::sip {

std::string_view to_string(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::empty: return "empty";
    case errc::too_large: return "too_large";
    case errc::no_header_end: return "no_header_end";
    case errc::bad_start_line: return "bad_start_line";
    case errc::bad_method: return "bad_method";
    case errc::bad_request_uri: return "bad_request_uri";
    case errc::bad_version: return "bad_version";
    case errc::bad_status_code: return "bad_status_code";
    case errc::bad_reason: return "bad_reason";
    case errc::bad_header_line: return "bad_header_line";
    case errc::too_many_headers: return "too_many_headers";
    case errc::not_present: return "not_present";
    case errc::bad_value: return "bad_value";
    case errc::bad_uri: return "bad_uri";
    case errc::bad_name_addr: return "bad_name_addr";
    case errc::unterminated_quote: return "unterminated_quote";
    case errc::bad_via: return "bad_via";
    case errc::bad_cseq: return "bad_cseq";
    case errc::bad_integer: return "bad_integer";
    case errc::integer_overflow: return "integer_overflow";
    case errc::bad_content_length: return "bad_content_length";
    case errc::content_length_exceeds: return "content_length_exceeds";
    case errc::too_many_entries: return "too_many_entries";
    case errc::bad_auth: return "bad_auth";
    case errc::bad_date: return "bad_date";
    case errc::bad_call_id: return "bad_call_id";
  }
  return "?";
}

}  // namespace sipfront::sip
