// Protobuf JSON in, config_error out. Protobuf's parser reports paths in proto
// field names ("(workers.ring_size): invalid value ..."); operators write JSON
// names, so paths are translated, and protobuf's own wording is kept as the reason.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include "detail.hpp"

namespace sipfront::ctrl::detail {
namespace {

/// proto field path → JSON path: "interfaces[0].ring_size" → "interfaces[0].ringSize"
/// (the proto3 JSON mapping: drop '_', capitalise the next letter).
std::string to_json_path(std::string_view proto_path) {
  std::string out;
  out.reserve(proto_path.size());
  bool upper_next = false;
  for (char c : proto_path) {
    if (c == '_') {
      upper_next = true;
      continue;
    }
    if (upper_next && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    upper_next = false;
    out.push_back(c);
  }
  return out;
}

std::string first_line(std::string_view s) { return std::string(s.substr(0, s.find('\n'))); }

/// For "invalid value \"X\" for type type.googleapis.com/sipfront.v1.Side": the accepted names.
std::string enum_hint(std::string_view reason) {
  constexpr std::string_view marker = "type.googleapis.com/";
  const std::size_t at = reason.find(marker);
  if (at == std::string_view::npos) return {};
  const std::string enum_name(reason.substr(at + marker.size()));
  const auto* e = google::protobuf::DescriptorPool::generated_pool()->FindEnumTypeByName(enum_name);
  if (e == nullptr) return {};
  std::string names;
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() == 0) continue;  // *_UNSPECIFIED: the "not set" value, never a choice
    names += (names.empty() ? "\"" : ", \"") + e->value(i)->name() + "\"";
  }
  return names.empty() ? std::string{} : "; use one of " + names;
}

config_error translate(std::string_view message, const google::protobuf::Descriptor& type) {
  const auto& type_name = type.full_name();  // std::string, or a string_view in newer protobuf
  constexpr std::string_view unknown = ": Cannot find field.";
  // "(sip.timers) bogus: Cannot find field." / "interfacez: Cannot find field."
  if (message.size() > unknown.size() && message.ends_with(unknown)) {
    std::string_view head = message.substr(0, message.size() - unknown.size());
    std::string path;
    if (head.starts_with('(')) {
      const std::size_t close = head.find(") ");
      if (close != std::string_view::npos) {
        path = to_json_path(head.substr(1, close - 1)) + ".";
        head.remove_prefix(close + 2);
      }
    }
    path += std::string(head);
    return {path, "unknown field (protobuf: \"" + std::string(message) + "\"); check the spelling against " +
                      std::string(type_name) +
                      " in proto/sipfront/v1/config.proto (JSON names are lowerCamelCase, e.g. \"ringSize\")"};
  }
  // "(workers.ring_size): invalid value -1 for type TYPE_UINT32"
  if (message.starts_with('(')) {
    const std::size_t close = message.find("): ");
    if (close != std::string_view::npos) {
      const std::string reason = first_line(message.substr(close + 3));
      return {to_json_path(message.substr(1, close - 1)), reason + " (protobuf)" + enum_hint(reason)};
    }
  }
  // Syntax errors: protobuf's first line says what it expected; its excerpt spans lines.
  return {"", "not valid JSON for " + std::string(type_name) + ": " + first_line(message) +
                  " (protobuf; `python3 -m json.tool FILE` shows the line)"};
}

}  // namespace

std::optional<config_error> parse_json(std::string_view json, google::protobuf::Message& out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  options.case_insensitive_enum_parsing = false;
  out.Clear();
  const auto status = google::protobuf::util::JsonStringToMessage(std::string(json), &out, options);
  if (status.ok()) return std::nullopt;
  return translate(std::string(status.message()), *out.GetDescriptor());
}

std::optional<config_error> read_file(const std::string& file, std::string& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) return config_error{"", "cannot read " + file + ": it is a directory"};
  std::ifstream in(file, std::ios::binary);
  if (!in) return config_error{"", "cannot open " + file + ": " + std::strerror(errno)};
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return config_error{"", "cannot read " + file + ": " + std::strerror(errno)};
  out = std::move(buf).str();
  return std::nullopt;
}

}  // namespace sipfront::ctrl::detail
