#include <array>
#include <string_view>

#include "header_table.hpp"
#include "method_table.hpp"
#include "sipfront/sipparse/chars.hpp"
#include "sipfront/sipparse/names.hpp"

namespace sipfront::sip {

method method_from_token(std::string_view token) noexcept { return detail::lookup_method(token); }

std::string_view to_string(method m) noexcept {
  for (const auto& k : detail::k_methods) {
    if (k.m == m) return k.token;
  }
  return "extension";
}

header_id header_from_name(std::string_view name) noexcept { return detail::lookup_name(name.data(), name.size()); }

std::string_view canonical_name(header_id id) noexcept { return detail::k_headers[static_cast<std::size_t>(id)].name; }
bool is_list_header(header_id id) noexcept { return detail::k_headers[static_cast<std::size_t>(id)].list; }
bool is_single_header(header_id id) noexcept { return detail::k_headers[static_cast<std::size_t>(id)].single; }

}  // namespace sipfront::sip
