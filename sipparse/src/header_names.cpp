#include <array>
#include <string_view>

#include "header_table.hpp"
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

}  // namespace

method method_from_token(std::string_view token) noexcept {
  // Every request line goes through here: compare only the names of the same
  // length and first letter (REGISTER and OPTIONS are one compare each).
  if (token.size() < 3 || token.size() > 9) return method::extension;
  for (const auto& m : k_methods) {
    if (m.token.size() == token.size() && m.token[0] == token[0] && m.token == token) return m.m;
  }
  return method::extension;
}

std::string_view to_string(method m) noexcept {
  for (const auto& k : k_methods) {
    if (k.m == m) return k.token;
  }
  return "extension";
}

header_id header_from_name(std::string_view name) noexcept { return detail::lookup_name(name.data(), name.size()); }

std::string_view canonical_name(header_id id) noexcept { return detail::k_headers[static_cast<std::size_t>(id)].name; }
bool is_list_header(header_id id) noexcept { return detail::k_headers[static_cast<std::size_t>(id)].list; }
bool is_single_header(header_id id) noexcept { return detail::k_headers[static_cast<std::size_t>(id)].single; }

}  // namespace sipfront::sip
