#include <array>
#include <string_view>

#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/names.hpp"

namespace sipfront::sip {
namespace {

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

struct header_name {
  std::string_view name;
  header_id id;
  char compact;  // '\0' when none
  bool list;
  bool single;
};

// The table is indexed by header_id; order must follow the enum.
constexpr std::array<header_name, header_id_count> k_headers{{
    {"", header_id::other, '\0', false, false},
    {"Accept", header_id::accept, '\0', true, false},
    {"Accept-Contact", header_id::accept_contact, 'a', true, false},
    {"Allow", header_id::allow, '\0', true, false},
    {"Allow-Events", header_id::allow_events, 'u', true, false},
    {"Authorization", header_id::authorization, '\0', false, false},
    {"Call-ID", header_id::call_id, 'i', false, true},
    {"Contact", header_id::contact, 'm', true, false},
    {"Content-Disposition", header_id::content_disposition, '\0', false, true},
    {"Content-Encoding", header_id::content_encoding, 'e', true, false},
    {"Content-Length", header_id::content_length, 'l', false, true},
    {"Content-Type", header_id::content_type, 'c', false, true},
    {"CSeq", header_id::cseq, '\0', false, true},
    {"Date", header_id::date, '\0', false, true},
    {"Event", header_id::event, 'o', false, true},
    {"Expires", header_id::expires, '\0', false, true},
    {"From", header_id::from, 'f', false, true},
    {"Max-Forwards", header_id::max_forwards, '\0', false, true},
    {"Min-Expires", header_id::min_expires, '\0', false, true},
    {"Path", header_id::path, '\0', true, false},
    {"Proxy-Authenticate", header_id::proxy_authenticate, '\0', false, false},
    {"Proxy-Authorization", header_id::proxy_authorization, '\0', false, false},
    {"Proxy-Require", header_id::proxy_require, '\0', true, false},
    {"Reason", header_id::reason, '\0', true, false},
    {"Record-Route", header_id::record_route, '\0', true, false},
    {"Refer-To", header_id::refer_to, 'r', false, true},
    {"Referred-By", header_id::referred_by, 'b', false, true},
    {"Reject-Contact", header_id::reject_contact, 'j', true, false},
    {"Request-Disposition", header_id::request_disposition, 'd', true, false},
    {"Require", header_id::require, '\0', true, false},
    {"Retry-After", header_id::retry_after, '\0', false, true},
    {"Route", header_id::route, '\0', true, false},
    {"Service-Route", header_id::service_route, '\0', true, false},
    {"Session-Expires", header_id::session_expires, 'x', false, true},
    {"Subject", header_id::subject, 's', false, true},
    {"Supported", header_id::supported, 'k', true, false},
    {"To", header_id::to, 't', false, true},
    {"Unsupported", header_id::unsupported, '\0', true, false},
    {"User-Agent", header_id::user_agent, '\0', false, false},
    {"Server", header_id::server, '\0', false, false},
    {"Via", header_id::via, 'v', true, false},
    {"Warning", header_id::warning, '\0', true, false},
    {"WWW-Authenticate", header_id::www_authenticate, '\0', false, false},
    {"Identity", header_id::identity, 'y', false, true},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < k_headers.size(); ++i) {
    if (static_cast<std::size_t>(k_headers[i].id) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order(), "k_headers must follow header_id order");

// Buckets by lower-case first letter: the candidates for a name, so a lookup
// compares against two or three names at most.
struct buckets {
  std::array<std::array<std::uint8_t, 12>, 26> ids{};
  std::array<std::uint8_t, 26> n{};
  std::array<header_id, 26> compact{};
};

constexpr buckets make_buckets() {
  buckets b{};
  for (std::size_t i = 1; i < k_headers.size(); ++i) {
    const auto c = static_cast<std::size_t>(chars::lower(k_headers[i].name[0]) - 'a');
    b.ids[c][b.n[c]++] = static_cast<std::uint8_t>(i);
    if (k_headers[i].compact != '\0') {
      b.compact[static_cast<std::size_t>(k_headers[i].compact - 'a')] = k_headers[i].id;
    }
  }
  return b;
}
constexpr buckets k_buckets = make_buckets();

}  // namespace

method method_from_token(std::string_view token) noexcept {
  for (const auto& m : k_methods) {
    if (m.token == token) return m.m;
  }
  return method::extension;
}

std::string_view to_string(method m) noexcept {
  for (const auto& k : k_methods) {
    if (k.m == m) return k.token;
  }
  return "extension";
}

header_id header_from_name(std::string_view name) noexcept {
  if (name.empty()) return header_id::other;
  const char c = chars::lower(name[0]);
  if (c < 'a' || c > 'z') return header_id::other;
  const auto b = static_cast<std::size_t>(c - 'a');
  if (name.size() == 1) return k_buckets.compact[b];
  for (std::uint8_t i = 0; i < k_buckets.n[b]; ++i) {
    const auto& h = k_headers[k_buckets.ids[b][i]];
    if (chars::iequals(h.name, name)) return h.id;
  }
  return header_id::other;
}

std::string_view canonical_name(header_id id) noexcept { return k_headers[static_cast<std::size_t>(id)].name; }
bool is_list_header(header_id id) noexcept { return k_headers[static_cast<std::size_t>(id)].list; }
bool is_single_header(header_id id) noexcept { return k_headers[static_cast<std::size_t>(id)].single; }

}  // namespace sipfront::sip
